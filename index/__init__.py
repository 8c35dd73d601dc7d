"""Chunks in, a persisted searchable index out: embedders, FAISS vectors, SQLite
metadata and FTS5 lexical index, and the manifest that ties them together.

The public API is what this module exports (index.facade explains it, with an
example); ui/, qa/ and evals/ use nothing else of the package. Never imports qa, ui
or evals.
"""
from index.added import ADDED_PREFIX, FORMATS, AddError, AddReport
from index.builder import BuildReport, IndexParams
from index.embedders import DEFAULT_EMBEDDER, Embedder, EmbedderError, make_embedder
from index.facade import (
    FAISS_SQLITE,
    FaissSqliteBackend,
    IndexBackend,
    SearchIndex,
    Stage,
    add_documents,
    as_langchain_embeddings,
    build_index,
    embedder_spec_for,
    ensure_index,
    index_status,
    live_generation_name,
    live_manifest,
    live_signature,
    open_index,
    remove_documents,
    update_index,
)
from index.home import IndexStatus
from index.ray_embed import RayEmbedder
from index.stores import StoreSpecError, backend_for, parse_store
from index.lexical import ArabicAnalyzer
from index.manifest import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexProblem, Manifest
from index.records import IndexedChunk, StoredChunk, StoredDocument, StoredSentence
from index.schema import search_single_thread

__all__ = [
    # the store interface and its implementation
    "SearchIndex", "IndexBackend", "FaissSqliteBackend", "FAISS_SQLITE",
    # the store chosen by --store / ISNAD_STORE (faiss, qdrant-edge, qdrant:URL)
    "backend_for", "parse_store", "StoreSpecError", "RayEmbedder",
    # opening, building, status
    "open_index", "ensure_index", "build_index", "update_index", "add_documents", "remove_documents",
    "index_status", "live_manifest", "as_langchain_embeddings", "live_signature", "live_generation_name", "embedder_spec_for",
    # embedders
    "Embedder", "make_embedder", "DEFAULT_EMBEDDER",
    # records
    "StoredChunk", "StoredSentence", "StoredDocument", "IndexedChunk", "Manifest", "IndexStatus",
    "BuildReport", "AddReport", "IndexParams", "ArabicAnalyzer", "Stage", "ADDED_PREFIX", "FORMATS",
    "search_single_thread",
    # errors (the tree: corpus.errors)
    "IndexProblem", "IndexMissingError", "IndexMismatchError", "IndexCorruptError", "EmbedderError", "AddError",
]
