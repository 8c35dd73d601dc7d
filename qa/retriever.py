"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25 on Arabic stems) candidates,
fused into one ranking, with overlapping chunks of a document de-duplicated."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from index.embedders import Embedder
from index.store import IndexStore, StoredChunk
from qa.settings import RetrievalParams
from qa.types import Passage


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]
    query_vector: np.ndarray
    embed_ms: float
    search_ms: float


class HybridRetriever:
    def __init__(self, store: IndexStore, embedder: Embedder, params: RetrievalParams) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params

    def retrieve(self, query: str, k: int, lexical_query: str | None = None) -> Retrieved:
        """Top-k passages for `query`. `lexical_query` (default: `query`) lets a chat
        follow-up add the earlier turn's words to the keyword side only."""
        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        n = max(self.params.candidates, k * 4)
        dense = self.store.dense_search(qvec, n)
        analyzed = self.store.analyzer.analyze(lexical_query or query)
        lexical = self.store.lexical_search(analyzed.stems, analyzed.words, n, self.params.word_weight)
        fused = fuse(dense, lexical, self.params)
        chunks = self.store.chunks([cid for cid, _ in fused[: n]])
        passages = deduplicate(
            [(chunks[cid], score) for cid, score in fused if cid in chunks], k
        )
        t2 = time.perf_counter()
        return Retrieved(passages, qvec, (t1 - t0) * 1000, (t2 - t1) * 1000)


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], params: RetrievalParams
) -> list[tuple[int, float]]:
    """One ranking from two. Scores are in [0, 1] for convex fusion."""
    scores: dict[int, float] = {}
    if params.fusion == "rrf":
        for ranking in (dense, lexical):
            for rank, (cid, _) in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (params.rrf_k + rank + 1)
    else:
        w = params.dense_weight
        for cid, s in _minmax(dense).items():
            scores[cid] = scores.get(cid, 0.0) + w * s
        for cid, s in _minmax(lexical).items():
            scores[cid] = scores.get(cid, 0.0) + (1 - w) * s
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def _minmax(ranking: list[tuple[int, float]]) -> dict[int, float]:
    """Scale scores to [0, 1] within the list (the best gets 1)."""
    if not ranking:
        return {}
    values = [s for _, s in ranking]
    hi, lo = max(values), min(values)
    if hi - lo < 1e-9:
        return {cid: 1.0 for cid, _ in ranking}
    return {cid: (s - lo) / (hi - lo) for cid, s in ranking}


def deduplicate(ranked: list[tuple[StoredChunk, float]], k: int) -> list[Passage]:
    """Keep the best of any chunks of one document that overlap each other."""
    taken: list[StoredChunk] = []
    out: list[Passage] = []
    for chunk, score in ranked:
        if any(t.doc_id == chunk.doc_id and t.start < chunk.end and chunk.start < t.end for t in taken):
            continue
        taken.append(chunk)
        out.append(
            Passage(chunk.doc_id, chunk.title, chunk.chunk_id, chunk.text, chunk.start, chunk.end,
                    round(float(score), 4), chunk.section)
        )
        if len(out) == k:
            break
    return out
