"""Baselines measured beside Isnad on the same suites, the same chunks, the same embedder.

- "bm25":  the Isnad engine with convex fusion and dense_weight=0.0 (lexical only: the
  FTS5 BM25 over Arabic stems and words), no coverage re-ranking, no language model
- "dense": the Isnad engine with dense_weight=1.0 (FAISS vectors only), likewise pure
- "langchain": the plain LangChain recipe: an in-memory `FAISS` vector store built with
  `FAISS.from_embeddings` over the index's own chunk texts and stored vectors (nothing
  is embedded again, nothing is saved or pickled), a `BM25Retriever` over the same texts
  (LangChain's default whitespace tokenization), and an `EnsembleRetriever` fusing the
  two with weights 0.5/0.5 (weighted reciprocal rank fusion). Retrieval only: it gives
  no answers, and it has no chat memory (a follow-up is asked on its own).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, fields, replace

from index import Embedder, IndexedChunk, as_langchain_embeddings
from qa.settings import Settings

SYSTEMS = ("isnad", "bm25", "dense", "langchain")
SYSTEM_LABELS = {
    "isnad": "Isnad",
    "bm25": "BM25 only",
    "dense": "Dense only",
    "langchain": "LangChain FAISS+BM25 ensemble",
}


# Engine baselines are pure: one retriever alone, no re-ranking by sentence coverage,
# the same weight for questions in another language, and no language model.
_PURE = {
    "bm25": {"fusion": "convex", "dense_weight": 0.0, "cross_lingual_dense_weight": 0.0,
             "coverage_weight": 0.0, "adaptive_dense_boost": 0.0, "reference_penalty": 0.0, "name_weight": 0.0,
             "sentence_dense_weight": 0.0},
    "dense": {"fusion": "convex", "dense_weight": 1.0, "cross_lingual_dense_weight": 1.0,
              "coverage_weight": 0.0, "adaptive_dense_boost": 0.0, "reference_penalty": 0.0, "name_weight": 0.0,
              "sentence_dense_weight": 0.0},
}


def baseline_settings(settings: Settings, system: str) -> Settings:
    """The engine settings of an engine-based baseline (Isnad itself: unchanged)."""
    if system not in _PURE:
        return settings
    names = {f.name for f in fields(settings.retrieval)}
    retrieval = replace(settings.retrieval, **{k: v for k, v in _PURE[system].items() if k in names})
    changes = {"retrieval": retrieval}
    gen = getattr(settings, "generative", None)
    if gen is not None and getattr(gen, "enabled", False):
        changes["generative"] = type(gen)()  # off: the baselines measure retrieval
    return settings.with_(**changes)


@dataclass(frozen=True)
class RetrievedPassage:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str


class LangChainRecipe:
    """FAISS (in memory, precomputed vectors) + BM25Retriever + EnsembleRetriever(0.5/0.5)."""

    def __init__(self, chunks: list[IndexedChunk], embedder: Embedder, k: int = 10) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # langchain-community's deprecation notice
            from langchain_classic.retrievers import EnsembleRetriever
            from langchain_community.retrievers import BM25Retriever
            from langchain_community.vectorstores import FAISS

        self.k = k
        texts = [c.text for c in chunks]
        metas = [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": c.start, "end": c.end} for c in chunks]
        t0 = time.perf_counter()
        self.vectorstore = FAISS.from_embeddings(
            text_embeddings=[(c.text, c.vector.tolist()) for c in chunks],
            embedding=as_langchain_embeddings(embedder),
            metadatas=metas,
            ids=[c.chunk_id for c in chunks],
        )
        dense = self.vectorstore.as_retriever(search_kwargs={"k": k})
        bm25 = BM25Retriever.from_texts(texts, metadatas=metas, ids=[c.chunk_id for c in chunks], k=k)
        self.retriever = EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])
        self.build_seconds = time.perf_counter() - t0

    def retrieve(self, question: str) -> tuple[list[RetrievedPassage], float]:
        t0 = time.perf_counter()
        docs = self.retriever.invoke(question)[: self.k]
        ms = (time.perf_counter() - t0) * 1000
        return [
            RetrievedPassage(d.metadata["doc_id"], d.metadata["chunk_id"], int(d.metadata["start"]),
                             int(d.metadata["end"]), d.page_content)
            for d in docs
        ], ms

    @staticmethod
    def describe() -> dict:
        return {"vectorstore": "langchain_community.vectorstores.FAISS.from_embeddings (in memory, "
                               "stored index vectors, default L2 distance)",
                "lexical": "langchain_community.retrievers.BM25Retriever (rank_bm25, whitespace tokens)",
                "fusion": "langchain_classic.retrievers.EnsembleRetriever weights [0.5, 0.5] (weighted RRF, c=60)",
                "k_each": 10}
