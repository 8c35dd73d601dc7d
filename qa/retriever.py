"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25 on Arabic stems) candidates,
fused into one ranking, re-ranked by how well one sentence of a passage covers the
question, with overlapping chunks of a document de-duplicated.

Fusion and weights were chosen on XQuAD-ar and ARCD-train (see README, "Measured").
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from corpus.loaders import guess_language
from index.embedders import Embedder
from index.store import IndexStore, StoredChunk, StoredSentence
from qa.settings import RetrievalParams
from qa.types import Passage


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]
    query_vector: np.ndarray
    embed_ms: float
    search_ms: float
    # Evidence the answerer reuses instead of recomputing, keyed by chunk_id:
    sentences: dict[str, list[StoredSentence]] = field(default_factory=dict)
    dense: dict[str, float] = field(default_factory=dict)  # raw cosine similarity
    query_stems: list[str] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)


def coverage(query_stems: set[str], stems: frozenset[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's stems that `stems` contains, in [0, 1]."""
    total = sum(idf.get(t, 1.0) for t in query_stems)
    if not total:
        return 0.0
    return sum(idf.get(t, 1.0) for t in query_stems & stems) / total


class HybridRetriever:
    def __init__(self, store: IndexStore, embedder: Embedder, params: RetrievalParams) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params

    def retrieve(self, query: str, k: int, lexical_query: str | None = None,
                 cross_lingual: bool = False) -> Retrieved:
        """Top-k passages. `lexical_query` (default `query`) feeds the keyword side only;
        `cross_lingual` (question and corpus in different languages) leans on the
        dense side, since keywords of one language rarely match the other's text."""
        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        p = self.params
        if cross_lingual:
            p = replace(p, dense_weight=p.cross_lingual_dense_weight, coverage_weight=0.0)
        n = max(p.candidates, k * 4)
        dense = self.store.dense_search(qvec, n)
        analyzed = self.store.analyzer.analyze(lexical_query or query)
        lexical = self.store.lexical_search(analyzed.stems, analyzed.words, n, p.word_weight)
        fused = fuse(dense, lexical, p)

        # Re-rank the head of the list by the best single sentence's coverage.
        head = [cid for cid, _ in fused[: max(p.rerank_depth, k)]]
        sentences = self.store.sentences(head)
        idf = self.store.idf(analyzed.stems)
        q_stems = set(analyzed.stems)
        if p.coverage_weight and q_stems:
            # = max(coverage(q_stems, s.stems, idf)), with the question's weights summed once
            weight = {t: idf.get(t, 1.0) for t in q_stems}
            total = sum(idf.get(t, 1.0) for t in q_stems)
            best = {cid: (max((sum(weight[t] for t in q_stems & s.stems) for s in sentences[cid]),
                              default=0.0) / total if total else 0.0)
                    for cid in head}
            bonus = _minmax(list(best.items()))
            fused = sorted(
                ((cid, s + p.coverage_weight * bonus.get(cid, 0.0)) for cid, s in fused),
                key=lambda kv: kv[1], reverse=True,
            )
        chunks = self.store.chunks([cid for cid, _ in fused[:n]])
        ranked = [(chunks[cid], s) for cid, s in fused if cid in chunks]
        if cross_lingual:
            # The question's own language in the corpus is reference lists and
            # asides; dense similarity overrates it, and it cannot answer.
            asked_in = guess_language(query)
            ranked = [(c, s) for c, s in ranked if guess_language(c.text) != asked_in] or ranked
        passages, kept = deduplicate(ranked, k)
        sentences.update(self.store.sentences([c.id for c in kept if c.id not in sentences]))
        # A chunk missing from the dense list scored at most the list's last cosine.
        dense_by_id, floor = dict(dense), (dense[-1][1] if dense else 0.0)
        t2 = time.perf_counter()
        return Retrieved(
            passages, qvec, (t1 - t0) * 1000, (t2 - t1) * 1000,
            sentences={c.chunk_id: sentences[c.id] for c in kept},
            dense={c.chunk_id: dense_by_id.get(c.id, floor) for c in kept},
            query_stems=analyzed.stems, idf=idf,
        )


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


def deduplicate(ranked: list[tuple[StoredChunk, float]], k: int) -> tuple[list[Passage], list[StoredChunk]]:
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
    return out, taken
