"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25 on Arabic stems) candidates,
fused into one ranking, re-ranked by how well one sentence of a passage covers the
question, with overlapping chunks of a document de-duplicated.

Fusion and weights were chosen on XQuAD-ar and ARCD-train (see evals/HISTORY.md, "How retrieval was chosen").
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from corpus.language import guess_language
from index import Embedder, SearchIndex, StoredChunk, StoredSentence
from qa.clauses import reference_share
from qa.coverage import idf_coverage, idf_coverage_of
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
    # Build-time sentence vectors already looked up (keyed by text; texts looked up
    # without one are in `vectors_looked_up` too), so the answerer asks the store once.
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    vectors_looked_up: frozenset[str] = frozenset()

    def stored_sentence_vectors(self, store: SearchIndex, texts: list[str]) -> dict[str, np.ndarray]:
        """The build-time vectors of these texts: from the retriever's lookup, the store
        asked only for texts it did not look up."""
        rest = [t for t in texts if t not in self.vectors_looked_up]
        got = {t: self.sentence_vectors[t] for t in texts if t in self.sentence_vectors}
        return {**got, **store.sentence_vectors(rest)} if rest else got


class HybridRetriever:
    def __init__(self, store: SearchIndex, embedder: Embedder, params: RetrievalParams) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params
        self._profiles: dict[int, tuple[str, float]] = {}

    def retrieve(self, query: str, k: int, question_language: str | None = None,
                 names: str = "") -> Retrieved:
        """Top-k passages. Language is a property of each passage: for a passage in another language than
        the question (`question_language`, default guessed from `query`) keywords rarely
        match, so its score leans on the dense side; no passage is dropped for its language.
        `names`: the question's names as spelled in the passages' script (Samarkand ->
        سمرقند), searched on their own; for a passage in another language they are the
        keyword evidence there is."""
        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        p = self.params
        asked_in = question_language or guess_language(query)
        n = max(p.candidates, k * 4)
        dense = self.store.dense_search(qvec, n)
        analyzed = self.store.analyzer.analyze(" ".join(filter(None, (query, names))))
        lexical = self.store.lexical_search(analyzed.stems, analyzed.words, n, p.word_weight)
        idf = self.store.idf(analyzed.stems)
        q_stems = set(analyzed.stems)
        candidates = self.store.chunks(list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical])))
        profiles = {cid: self._profile(c) for cid, c in candidates.items()}
        other = {cid for cid, (lang, _) in profiles.items() if lang != asked_in}
        weight = adaptive_dense_weight(p, self._lexical_coverage(lexical, q_stems, idf))
        # When the question's language is a small minority of the candidates, its passages
        # there are asides (an English abstract of an Arabic paper) that match the
        # question's every word: weighed like the rest and down, never dropped.
        minority = bool(candidates) and len(other) > (1 - p.minority_share) * len(candidates)
        asides = set(candidates) - other if minority else set()
        fused = fuse(dense, lexical, p, weight, other | asides, p.cross_lingual_dense_weight)
        if names and p.name_weight:
            spelled = self.store.analyzer.analyze(names)
            found = _minmax(self.store.lexical_search(spelled.stems, spelled.words, n, p.word_weight))
            fused = sorted(((cid, s + (p.name_weight * found.get(cid, 0.0) if cid in other else 0.0))
                            for cid, s in fused), key=lambda kv: kv[1], reverse=True)

        head = [cid for cid, _ in fused[: max(p.rerank_depth, k)]]
        sentences = self.store.sentences(head)
        fused = self._rerank(fused, sentences, q_stems, idf, asides, profiles)
        fused, looked_up, vectors = self._rerank_by_sentence_vectors(fused, head, sentences, candidates, qvec,
                                                                     other, weight)
        chunks = self.store.chunks([cid for cid, _ in fused[:n]])
        ranked = [(chunks[cid], s) for cid, s in fused if cid in chunks]
        passages, kept = deduplicate(ranked, k)
        sentences.update(self.store.sentences([c.id for c in kept if c.id not in sentences]))
        # A chunk missing from the dense list scored at most the list's last cosine.
        dense_by_id, floor = dict(dense), (dense[-1][1] if dense else 0.0)
        t2 = time.perf_counter()
        return Retrieved(
            passages, qvec, (t1 - t0) * 1000, (t2 - t1) * 1000,
            sentences={c.chunk_id: sentences[c.id] for c in kept},
            dense={c.chunk_id: dense_by_id.get(c.id, floor) for c in kept},
            query_stems=analyzed.stems, idf=idf, sentence_vectors=vectors, vectors_looked_up=looked_up,
        )

    def _rerank(self, fused: list[tuple[int, float]], sentences: dict[int, list[StoredSentence]],
                q_stems: set[str], idf: dict[str, float], asides: set[int],
                profiles: dict[int, tuple[str, float]]) -> list[tuple[int, float]]:
        """The fused ranking re-ranked: the head (whose `sentences` are given) by its best
        sentence's coverage; asides and reference lines weighed down."""
        p = self.params
        # Re-rank the head of the list by the best single sentence's coverage (in any
        # language: the lexical query may hold the Arabic spelling of a Latin name).
        if p.coverage_weight and q_stems:
            covers = idf_coverage_of(q_stems, idf)
            best = {cid: max((covers(s.stems) for s in sentences[cid]), default=0.0)
                    for cid in sentences if cid not in asides}
            bonus = _minmax(list(best.items()))
            fused = sorted(
                ((cid, s + p.coverage_weight * bonus.get(cid, 0.0)) for cid, s in fused),
                key=lambda kv: kv[1], reverse=True,
            )
        if asides:
            fused = sorted(((cid, s * p.minority_factor if cid in asides else s) for cid, s in fused),
                           key=lambda kv: kv[1], reverse=True)
        if p.reference_penalty:
            # Reference lists and source lines name where something is said; they rarely
            # say it, yet share the question's names and (in their language) its words.
            fused = sorted(((cid, s * (1 - p.reference_penalty * profiles.get(cid, ("", 0.0))[1]))
                            for cid, s in fused), key=lambda kv: kv[1], reverse=True)
        return fused

    def _rerank_by_sentence_vectors(self, fused: list[tuple[int, float]], head: list[int],
                                    sentences: dict[int, list[StoredSentence]],
                                    candidates: dict[int, StoredChunk], qvec: np.ndarray,
                                    other: set[int], dense_weight: float
                                    ) -> tuple[list[tuple[int, float]], frozenset[str], dict[str, np.ndarray]]:
        """The head re-ranked by its best sentence's similarity to the question (build-time
        sentence vectors: one lookup, nothing embedded now). A passage vector blurs a long
        passage; its best sentence is what a question in other words, or in another
        language, matches. Weighed like the dense side: more where keywords cannot help."""
        p = self.params
        if not p.sentence_dense_weight:
            return fused, frozenset(), {}
        texts: dict[int, list[str]] = {}
        for cid in head:
            chunk = candidates.get(cid)
            if chunk is not None:
                texts[cid] = [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in sentences.get(cid, [])]
        looked_up = [t for ts in texts.values() for t in ts]
        vectors = self.store.sentence_vectors(looked_up)
        if not vectors:
            return fused, frozenset(looked_up), vectors
        best = {cid: max((float(vectors[t] @ qvec) for t in ts if t in vectors), default=None)
                for cid, ts in texts.items()}
        bonus = _minmax([(cid, b) for cid, b in best.items() if b is not None])
        scale = {cid: (p.cross_lingual_dense_weight if cid in other else dense_weight) for cid in bonus}
        return sorted(((cid, s + p.sentence_dense_weight * scale.get(cid, 0.0) * bonus.get(cid, 0.0))
                       for cid, s in fused), key=lambda kv: kv[1], reverse=True), frozenset(looked_up), vectors

    def _profile(self, chunk: StoredChunk) -> tuple[str, float]:
        """A passage's own language and the share of its lines that are references
        (memoized per chunk; the index is read-only)."""
        got = self._profiles.get(chunk.id)
        if got is None:
            if len(self._profiles) > 100_000:
                self._profiles.clear()
            got = self._profiles[chunk.id] = (guess_language(chunk.text), reference_share(chunk.text))
        return got

    def _lexical_coverage(self, lexical: list[tuple[int, float]], q_stems: set[str],
                          idf: dict[str, float]) -> float:
        """How much of the question the keyword side found: the IDF-weighted share of the
        question's stems held by the best of its top passages, in [0, 1]."""
        top = [cid for cid, _ in lexical[: self.params.lexical_coverage_depth]]
        if not top or not q_stems:
            return 0.0
        sentences = self.store.sentences(top)
        return max(idf_coverage(q_stems, frozenset().union(*(s.stems for s in sentences[c])), idf)
                   for c in top)


def adaptive_dense_weight(params: RetrievalParams, lexical_coverage: float) -> float:
    """The dense side's weight for a question: `dense_weight` when the keyword side found
    at least `adaptive_knee` of the question (IDF-weighted), rising linearly by up to
    `adaptive_dense_boost` as it finds less of it (paraphrases share few words with their
    answer)."""
    knee = params.adaptive_knee
    missing = min(1.0, max(0.0, (knee - lexical_coverage) / knee)) if knee > 0 else 0.0
    return min(1.0, params.dense_weight + params.adaptive_dense_boost * missing)


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], params: RetrievalParams,
    dense_weight: float | None = None, other_language: set[int] | None = None,
    other_language_weight: float = 0.9,
) -> list[tuple[int, float]]:
    """One ranking from two. Convex fusion of min-max scaled scores, the dense side
    weighted `dense_weight` (default params.dense_weight), or `other_language_weight`
    for the passages in `other_language` (another language than the question's)."""
    scores: dict[int, float] = {}
    if params.fusion == "rrf":
        for ranking in (dense, lexical):
            for rank, (cid, _) in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (params.rrf_k + rank + 1)
    else:
        w_same = params.dense_weight if dense_weight is None else dense_weight
        other = other_language or set()
        for cid, s in _minmax(dense).items():
            w = other_language_weight if cid in other else w_same
            scores[cid] = scores.get(cid, 0.0) + w * s
        for cid, s in _minmax(lexical).items():
            w = other_language_weight if cid in other else w_same
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
