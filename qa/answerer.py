"""Extractive answers: pick the sentence(s) of the retrieved passages that answer
the question, quote them verbatim with exact offsets, and mark them [n].

No language model: a sentence is chosen by how much of the question it covers
(IDF-weighted stems), how well its passage ranked, and whether it holds the kind
of thing the question asks for (a date for «متى», a number for «كم»). Which lines
may be quoted and which clause of a long sentence is quoted: qa.clauses. What the
answer rests on is handed on as `Evidence` for qa.answerability.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from corpus.language import guess_language
from corpus.normalize import normalize
from corpus.sentences import Span
from qa.answerability import Evidence
from qa.clauses import best_window
from qa.clauses import quotable as quotable_span
from qa.coverage import idf_coverage as coverage
from qa.coverage import idf_coverage_of
from qa.kinds import RELATIVE_DATE, answer_kind, asks_author, holds_kind
from qa.retriever import Retrieved
from qa.settings import (CROSS_LINGUAL_PASSAGE_WEIGHT, CROSS_LINGUAL_SIMILARITY_WEIGHT, RELATIVE_DATE_KIND,
                         SAME_EVENT_COVERAGE, WINDOW_KIND_WEIGHT, AnswerParams)
from qa.slots import nation_swapped, read_slot
from qa.types import Citation, Passage

STEM_CACHE_WORDS = 200_000  # distinct normalized words whose stems the answerer keeps
QUOTABLE_CACHE_SPANS = 200_000  # sentence spans whose quotability the answerer keeps
# A sentence's words for qa.slots: a model code stays one word («HQ-9», «Su-30SM»), so
# its digits are no count of anything.
_SLOT_WORD = re.compile(r"[A-Za-z]+-\w+|[\w%٪]+")
_UNSEEN = object()


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    span: Span
    score: float
    coverage: float  # IDF-weighted share of the question's stems the sentence holds


@dataclass(frozen=True)
class Composed:
    text: str
    citations: list[Citation]
    coverage: float  # of the chosen sentence
    dense: float  # cosine similarity of the cited passage to the question
    evidence: Evidence | None = None  # what answerability judges (None: cross-lingual)


class ExtractiveAnswerer:
    """`stem` maps one word to its index stem (None for a stop word), to weigh the
    clauses of a long sentence; `doc_date` gives a document's date from the catalog,
    to say what a relative date («الشهر الماضي») is relative to."""

    def __init__(self, params: AnswerParams, stem: Callable[[str], str | None] | None = None,
                 doc_date: Callable[[str], str | None] | None = None, n_chunks: int = 0) -> None:
        self.params = params
        # A stem in no passage has the highest IDF the index can give (see IndexStore.idf).
        self.unseen_idf = math.log(1 + (n_chunks + 0.5) / 0.5) - 1e-6 if n_chunks else math.inf
        self.stem = stem or (lambda _w: None)
        self._stems_seen: dict[str, str | None] = {}  # word -> stem, for the slot's word-level matching
        self._raw_stems: dict[str, str | None] = {}  # the same for words as written (qa.clauses.best_window)
        # (doc_id, start, end, author question) -> quotable: the test normalizes whole lines
        # and looks back over the section, a third of the answer's time; one answerer
        # serves one read-only index, so a span's answer never changes.
        self._quotable: dict[tuple[str, int, int, bool], bool] = {}
        self.doc_date = doc_date or (lambda _d: None)

    def rank_sentences(self, question: str, got: Retrieved, doc_text: Callable[[str], str],
                       embed: Callable[[list[str]], np.ndarray] | None = None,
                       stored: Callable[[list[str]], dict[str, np.ndarray]] | None = None) -> list[ScoredSentence]:
        """Sentences of the top passages, best first. With `embed` (cross-lingual
        questions, where keywords cannot match), a sentence's similarity to the
        question stands in for its keyword coverage."""
        if embed is not None:
            return self._rank_by_similarity(question, got, doc_text, embed)
        q_stems = set(got.query_stems)
        nq = normalize(question)
        wants = answer_kind(nq)
        author = asks_author(nq)
        top = got.passages[: self.params.passages_considered]
        best_passage = max((p.score for p in top), default=1.0) or 1.0
        scored: list[ScoredSentence] = []
        prm = self.params
        cover = idf_coverage_of(q_stems, got.idf)  # the question's weight summed once
        found = 0.0  # the most of the question one top passage holds (keywords)
        for p in top:
            text = doc_text(p.doc_id)
            # The document's title and the section's heading name what every sentence
            # under them is about: «تنتج المحطة 320 ميغاواط» under «محطة الرياح في تلال
            # الغيم» names its subject by a common noun. (Earlier sentences as context
            # moved quotes past the sentence naming the answer: XQuAD-ar 0.813 -> 0.802.)
            context = frozenset(self._stems_of(f"{p.title} {p.section}"))
            found = max(found, cover(context.union(*(s.stems for s in got.sentences.get(p.chunk_id, [])))))
            for s in got.sentences.get(p.chunk_id, []):
                if not self._is_quotable(p.doc_id, text, s.start, s.end, author):
                    continue
                cov = cover(s.stems)
                in_context = cover(s.stems | context)
                kind = _kind_bonus(wants, normalize(text[s.start : s.end]), nq) if wants else 0.0
                score = (prm.sentence_coverage_weight * (cov + prm.sentence_context_share * (in_context - cov))
                         + prm.sentence_passage_weight * (p.score / best_passage)
                         + prm.sentence_kind_weight * kind)
                scored.append(ScoredSentence(p, Span(s.start, s.end), score, cov))
        scored.sort(key=lambda s: s.score, reverse=True)
        if stored is not None and self.params.sentence_similarity_weight and scored:
            scored = self._by_similarity_too(scored, got, stored, self._similarity_weight(found))
        return scored

    def _similarity_weight(self, found: float) -> float:
        """The stored sentence vectors' weight in sentence choice: `sentence_similarity_weight`,
        rising by up to `sentence_similarity_boost` as the best top passage holds less of the
        question's keywords (below `sentence_similarity_knee`): a paraphrase shares few words
        with any passage, so keyword coverage cannot tell its sentences apart."""
        prm = self.params
        knee = prm.sentence_similarity_knee
        missing = min(1.0, max(0.0, (knee - found) / knee)) if knee > 0 else 0.0
        return prm.sentence_similarity_weight + prm.sentence_similarity_boost * missing

    def _is_quotable(self, doc_id: str, text: str, start: int, end: int, author: bool = False) -> bool:
        key = (doc_id, start, end, author)
        got = self._quotable.get(key)  # one get: another question may clear the cache meanwhile
        if got is None:
            if len(self._quotable) > QUOTABLE_CACHE_SPANS:
                self._quotable.clear()
            got = self._quotable[key] = quotable_span(text, Span(start, end), author)
        return got

    def _by_similarity_too(self, scored: list[ScoredSentence], got: Retrieved,
                           stored: Callable[[list[str]], dict[str, np.ndarray]],
                           weight: float | None = None) -> list[ScoredSentence]:
        """Re-ordered with each sentence's stored vector's similarity to the question (scaled
        within the candidates) added: a paraphrase shares few keywords with the sentence that
        answers it. Sentences without a stored vector (short lines) get no bonus; the scores
        themselves (answerability's features) are left as they were."""
        texts = [got_text(s) for s in scored]
        vectors = stored(texts)
        sims = {t: float(vectors[t] @ got.query_vector) for t in texts if t in vectors}
        if not sims:
            return scored
        lo, hi = min(sims.values()), max(sims.values())
        span = (hi - lo) or 1.0
        w = self.params.sentence_similarity_weight if weight is None else weight
        bonus = [w * (sims[t] - lo) / span if t in sims else 0.0 for t in texts]
        order = sorted(range(len(scored)), key=lambda i: scored[i].score + bonus[i], reverse=True)
        return [scored[i] for i in order]

    def _rank_by_similarity(self, question, got, doc_text, embed) -> list[ScoredSentence]:
        """Sentences of the top passages by their vectors' similarity to the question
        (`embed`: stored sentence vectors), their passage's rank, and the kind of answer."""
        top = got.passages[: self.params.passages_considered_cross_lingual]
        nq = normalize(question).lower()
        wants = answer_kind(nq)
        pairs = [(p, s) for p in top for s in got.sentences.get(p.chunk_id, [])
                 if self._is_quotable(p.doc_id, doc_text(p.doc_id), s.start, s.end)]
        if not pairs:
            return []
        texts = [doc_text(p.doc_id)[s.start : s.end] for p, s in pairs]
        sims = embed(texts) @ got.query_vector
        best_passage = max(p.score for p in top) or 1.0
        kind = [_kind_bonus(wants, normalize(t), nq) if wants else 0.0 for t in texts]
        # In a sentence of another language, the question's stems that match are its names
        # (the lexical query holds their Arabic spelling: Birlik -> بيرليك) and Latin terms;
        # within one language, similarity already sees the shared words.
        q_stems, prm = set(got.query_stems), self.params
        asked_in = guess_language(question)
        names = [coverage(q_stems, s.stems, got.idf) if guess_language(t) != asked_in else 0.0
                 for (_, s), t in zip(pairs, texts)]
        scored = [
            ScoredSentence(p, Span(s.start, s.end), CROSS_LINGUAL_SIMILARITY_WEIGHT * float(sim)
                           + CROSS_LINGUAL_PASSAGE_WEIGHT * (p.score / best_passage)
                           + prm.cross_lingual_kind_weight * kb
                           + prm.cross_lingual_coverage_weight * nm, float(sim))
            for (p, s), sim, kb, nm in zip(pairs, sims, kind, names)
        ]
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def compose(self, question: str, got: Retrieved, doc_text: Callable[[str], str],
                embed: Callable[[list[str]], np.ndarray] | None = None,
                stored: Callable[[list[str]], dict[str, np.ndarray]] | None = None) -> Composed | None:
        """`embed`: sentence vectors for a cross-lingual question; `stored`: the build-time
        sentence vectors there are (nothing embedded), to weigh same-language sentences."""
        ranked = self.rank_sentences(question, got, doc_text, embed, stored)
        if not ranked:
            return None
        best = ranked[0]
        nq = normalize(question)
        wants = answer_kind(nq)
        if wants == "date":
            best = _prefer_absolute_date(best, ranked, nq)
        text = doc_text(best.passage.doc_id)
        span = self._quote_span(best, ranked, text)
        if span.end - span.start > self.params.max_quote_chars:
            span = best_window(text, best.span, set(got.query_stems), got.idf, self._stem_of_word,
                               self.params.max_quote_chars,
                               lambda w: WINDOW_KIND_WEIGHT * _kind_bonus(wants, w, nq) if wants else 0.0)
        p = best.passage
        quote = text[span.start : span.end]
        citation = Citation(1, p.doc_id, p.title, p.chunk_id, quote, p.text, span.start, span.end,
                            round(best.score, 4), p.section)
        answer = f"{as_prose(quote)} [1]"
        if wants == "date":
            answer += self._relative_date_note(got_text(best), p.doc_id, nq)
        evidence = None
        if embed is None:
            evidence = self._evidence(question, quote, best, ranked, got, wants, nq,
                                      _quote_similarity(got, p, span, stored))
        return Composed(answer, [citation], best.coverage, got.dense.get(p.chunk_id, 0.0), evidence)

    def _relative_date_note(self, quote: str, doc_id: str, nq: str) -> str:
        """A "when" answer that holds only a relative date says what it is relative to."""
        norm = normalize(quote)
        rel = RELATIVE_DATE.search(norm)
        if rel is None or holds_kind("date", norm, nq):
            return ""
        date = self.doc_date(doc_id)
        if not date:
            return " (تاريخ نسبي؛ الوثيقة غير مؤرخة)"
        return f" (تاريخ نسبي، بالنسبة إلى تاريخ الوثيقة: {date})"

    def _evidence(self, question, quote, best, ranked, got, wants, nq, sentence_dense=None) -> Evidence:
        stems = self._stems_seen
        if len(stems) > STEM_CACHE_WORDS:  # bounded: a long-lived engine sees many words
            stems.clear()
        slot = read_slot(nq, self.stem)
        seq = tuple(s for w in quote.split() if (s := self._stem_of_word(w)))
        quote_stems = frozenset(seq)
        q_unique = set(got.query_stems)
        # The share of the question's weight in stems no passage holds (the highest IDF).
        unseen = coverage(q_unique, {t for t in q_unique if got.idf.get(t, 1.0) >= self.unseen_idf}, got.idf)
        passage_stems = frozenset().union(*(s.stems for s in got.sentences.get(best.passage.chunk_id, [])))
        others = [s for s in ranked if s.passage.chunk_id != best.passage.chunk_id]
        best_other: dict[str, ScoredSentence] = {}
        for s in others:
            best_other.setdefault(s.passage.chunk_id, s)
        if wants in ("date", "number") and best_other:
            agree = sum(holds_kind(wants, normalize(got_text(s)), nq) for s in best_other.values()
                        ) / len(best_other)
        else:
            agree = (sum(s.coverage for s in best_other.values()) / len(best_other)) if best_other else 0.0
        return Evidence(
            question=question, quote=quote, q_stems=list(got.query_stems), idf=got.idf,
            quote_stems=quote_stems, passage_stems=passage_stems,
            dense=got.dense.get(best.passage.chunk_id, 0.0), sentence_score=best.score,
            runner_up_score=others[0].score if others else 0.0,
            passage_scores=tuple(p.score for p in got.passages[:3]), agree=agree,
            quote_seq=seq, unseen=unseen,
            top_stems=frozenset().union(*(s.stems for p in got.passages[: self.params.passages_considered]
                                          for s in got.sentences.get(p.chunk_id, []))),
            idf_ceiling=self.unseen_idf if math.isfinite(self.unseen_idf) else max(got.idf.values(), default=1.0),
            slot=slot, quote_words=self._words(quote, stems) if slot.kind else ((), ()),
            # only sentences that hold the focus can fill the slot (their stems are stored)
            top_sentences=tuple(self._words(got_text(s), stems) for s in ranked
                                if slot.kind and self._holds_focus(s, got, slot.focus)),
            sentence_dense=sentence_dense,
            second_score=next((s.score for s in ranked if s is not best), 0.0),
            passage_dense=tuple(got.dense.get(p.chunk_id, 0.0)
                                for p in got.passages[: self.params.passages_considered]),
            # the subject named above the passage (document title, section heading) counts as named
            passage_text=f"{best.passage.title}\n{best.passage.section}\n{best.passage.text}",
            nation_swapped=nation_swapped(nq, normalize(quote), self.stem),
        )

    @staticmethod
    def _holds_focus(s: ScoredSentence, got: Retrieved, focus: tuple[str, ...]) -> bool:
        stored = got.sentences.get(s.passage.chunk_id, [])
        return any(x.start == s.span.start and not set(focus).isdisjoint(x.stems) for x in stored)

    def _words(self, text: str, cache: dict[str, str | None]) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
        """A text's normalized words and their stems (qa.slots looks for the slot's filler)."""
        words = tuple(_SLOT_WORD.findall(normalize(text)))
        return words, tuple(self._stem_cached(w, cache) for w in words)

    def _stem_of_word(self, word: str) -> str | None:
        """`stem`, remembered per word as written (a long sentence's every word is stemmed)."""
        if len(self._raw_stems) > STEM_CACHE_WORDS:  # bounded, like the slot's cache
            self._raw_stems.clear()
        return self._stem_cached(word, self._raw_stems)

    def _stems_of(self, text: str) -> list[str]:
        """The index stems of a short text's words (stop words left out)."""
        return [t for t in self._words(text, self._stems_seen)[1] if t]

    def _stem_cached(self, word: str, cache: dict[str, str | None]) -> str | None:
        # One get, no check-then-read: `serve` answers from many threads, and another
        # question may clear the cache between the two.
        got = cache.get(word, _UNSEEN)
        return cache.setdefault(word, self.stem(word)) if got is _UNSEEN else got

    def _quote_span(self, best: ScoredSentence, ranked: list[ScoredSentence], text: str) -> Span:
        """The best sentence, joined by its better-scoring neighbour when both fit."""
        if self.params.max_quote_sentences < 2:
            return best.span
        same = {s.span: s.score for s in ranked if s.passage.chunk_id == best.passage.chunk_id}
        long_enough = {sp for sp in same if len(text[sp.start : sp.end].split()) >= 5}
        before = [s for s in same if s.end <= best.span.start]
        after = [s for s in same if s.start >= best.span.end]
        # A neighbour that is a bare heading line adds nothing a reader needs.
        # Only a sentence right next to it: never one beyond an unquotable line (a date,
        # a caption) that the merged span would then carry along.
        options = [o for o in (max(before, key=lambda s: s.end, default=None),
                               min(after, key=lambda s: s.start, default=None))
                   if o and o in long_enough
                   and not text[min(o.end, best.span.end):max(o.start, best.span.start)].strip()]
        for o in sorted(options, key=lambda s: same[s], reverse=True):
            merged = Span(min(best.span.start, o.start), max(best.span.end, o.end))
            if merged.end - merged.start <= self.params.max_quote_chars:
                return merged
        return best.span


_MARKER = re.compile(r"\[(\d+)\]")


def got_text(s: ScoredSentence) -> str:
    """A ranked sentence's text (its passage holds it; offsets are the document's)."""
    p = s.passage
    return p.text[s.span.start - p.start : s.span.end - p.start]


def _quote_similarity(got: Retrieved, p: Passage, span: Span,
                      stored: Callable[[list[str]], dict[str, np.ndarray]] | None) -> float | None:
    """The best cosine to the question of the stored sentence vectors the quote spans (build
    time vectors, usually already looked up by the retriever); None when none is stored."""
    if stored is None:
        return None
    texts = [p.text[s.start - p.start : s.end - p.start] for s in got.sentences.get(p.chunk_id, [])
             if s.start < span.end and span.start < s.end]
    vectors = stored(texts) if texts else {}
    sims = [float(vectors[t] @ got.query_vector) for t in texts if t in vectors]
    return max(sims) if sims else None


def as_prose(quote: str) -> str:
    """The quote as answer text: one line, and a document's own footnote marks
    like [4] written (4) so that every [n] in an answer is a citation."""
    return _MARKER.sub(r"(\1)", " ".join(quote.split()))


def _prefer_absolute_date(best: ScoredSentence, ranked: list[ScoredSentence], nq: str) -> ScoredSentence:
    """For a "when" question, a sentence with only a relative date («الشهر الماضي») gives
    way to one that states the date, from any passage considered, when it covers the
    question about as well (the same event, dated)."""
    norm = normalize(got_text(best))
    if not RELATIVE_DATE.search(norm) or holds_kind("date", norm, nq):
        return best
    for s in ranked[1:]:
        if s.coverage >= SAME_EVENT_COVERAGE * best.coverage and holds_kind("date", normalize(got_text(s)), nq):
            return s
    return best


def _kind_bonus(wants: str, norm_sentence: str, norm_question: str = "") -> float:
    """1 when the sentence holds the kind of answer asked for (beyond the question's own
    figures); a relative date counts for less than an absolute one."""
    if wants in ("date", "number") and holds_kind(wants, norm_sentence, norm_question):
        return 1.0
    if wants == "date" and RELATIVE_DATE.search(norm_sentence):
        return RELATIVE_DATE_KIND
    return 0.0
