"""Extractive answers: pick the sentence(s) of the retrieved passages that answer
the question, quote them verbatim with exact offsets, and mark them [n].

No language model: a sentence is chosen by how much of the question it covers
(IDF-weighted stems), how well its passage ranked, and whether it holds the kind
of thing the question asks for (a date for «متى», a number for «كم»).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from corpus.loaders import guess_language
from corpus.normalize import normalize
from corpus.sentences import Span
from qa.retriever import Retrieved, coverage
from qa.settings import AnswerParams
from qa.types import Citation, Passage

_DATE_Q = re.compile(r"(^|\s)(متي|في اي عام|في اي سنه|ما تاريخ|في اي شهر|when|what year|which year|what date)(\s|$)")
_NUMBER_Q = re.compile(r"(^|\s)(كم|ما عدد|ما نسبه|ما حجم|ما قيمه|how many|how much|what percentage|what number)(\s|$)")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_MONTHS = re.compile(
    r"(يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    r"كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|ايلول|تشرين)"
)
_NUMBER = re.compile(r"\d")


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


class ExtractiveAnswerer:
    def __init__(self, params: AnswerParams) -> None:
        self.params = params

    def rank_sentences(self, question: str, got: Retrieved, doc_text: Callable[[str], str],
                       embed: Callable[[list[str]], np.ndarray] | None = None) -> list[ScoredSentence]:
        """Sentences of the top passages, best first. With `embed` (cross-lingual
        questions, where keywords cannot match), a sentence's similarity to the
        question stands in for its keyword coverage."""
        if embed is not None:
            return self._rank_by_similarity(question, got, doc_text, embed)
        q_stems = set(got.query_stems)
        wants = _answer_kind(normalize(question))
        top = got.passages[: self.params.passages_considered]
        best_passage = max((p.score for p in top), default=1.0) or 1.0
        scored: list[ScoredSentence] = []
        for p in top:
            text = doc_text(p.doc_id)
            for s in got.sentences.get(p.chunk_id, []):
                if not quotable(text[s.start : s.end]):
                    continue
                cov = coverage(q_stems, s.stems, got.idf)
                kind = _kind_bonus(wants, normalize(text[s.start : s.end])) if wants else 0.0
                prm = self.params
                score = (prm.sentence_coverage_weight * cov
                         + prm.sentence_passage_weight * (p.score / best_passage)
                         + prm.sentence_kind_weight * kind)
                scored.append(ScoredSentence(p, Span(s.start, s.end), score, cov))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def _rank_by_similarity(self, question, got, doc_text, embed) -> list[ScoredSentence]:
        """Sentences of the top passages by their vectors' similarity to the question
        (`embed`: stored sentence vectors), their passage's rank, and the kind of answer."""
        top = got.passages[: self.params.passages_considered_cross_lingual]
        wants = _answer_kind(normalize(question).lower())
        pairs = [(p, s) for p in top for s in got.sentences.get(p.chunk_id, [])
                 if quotable(doc_text(p.doc_id)[s.start : s.end])]
        if not pairs:
            return []
        texts = [doc_text(p.doc_id)[s.start : s.end] for p, s in pairs]
        sims = embed(texts) @ got.query_vector
        best_passage = max(p.score for p in top) or 1.0
        kind = [_kind_bonus(wants, normalize(t)) if wants else 0.0 for t in texts]
        # In a sentence of another language, the question's stems that match are its names
        # (the lexical query holds their Arabic spelling: Birlik -> بيرليك) and Latin terms;
        # within one language, similarity already sees the shared words.
        q_stems, prm = set(got.query_stems), self.params
        asked_in = guess_language(question)
        names = [coverage(q_stems, s.stems, got.idf) if guess_language(t) != asked_in else 0.0
                 for (_, s), t in zip(pairs, texts)]
        scored = [
            ScoredSentence(p, Span(s.start, s.end), 0.7 * float(sim) + 0.3 * (p.score / best_passage)
                           + prm.cross_lingual_kind_weight * kb
                           + prm.cross_lingual_coverage_weight * nm, float(sim))
            for (p, s), sim, kb, nm in zip(pairs, sims, kind, names)
        ]
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def compose(self, question: str, got: Retrieved, doc_text: Callable[[str], str],
                embed: Callable[[list[str]], np.ndarray] | None = None) -> Composed | None:
        ranked = self.rank_sentences(question, got, doc_text, embed)
        if not ranked:
            return None
        best = ranked[0]
        text = doc_text(best.passage.doc_id)
        span = _clip(self._quote_span(best, ranked, text), text, self.params.max_quote_chars)
        p = best.passage
        quote = text[span.start : span.end]
        citation = Citation(1, p.doc_id, p.title, p.chunk_id, quote, p.text, span.start, span.end,
                            round(best.score, 4), p.section)
        return Composed(f"{as_prose(quote)} [1]", [citation], best.coverage, got.dense.get(p.chunk_id, 0.0))

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
_URL = re.compile(r"<?(?:https?://|www\.|file:///)\S+>?")


MIN_QUOTE_WORDS = 4


def quotable(sentence: str) -> bool:
    """Headings, captions and source lines («المقدمة», «المصدر: الوفاق») name a topic
    or a source; they do not answer anything."""
    return len(sentence.split()) >= MIN_QUOTE_WORDS and not is_reference(sentence)


def is_reference(sentence: str) -> bool:
    """A sentence with a link is a bibliography entry or a source note: it names
    where something is said, it does not say it."""
    return bool(_URL.search(sentence))


def as_prose(quote: str) -> str:
    """The quote as answer text: one line, and a document's own footnote marks
    like [4] written (4) so that every [n] in an answer is a citation."""
    return _MARKER.sub(r"(\1)", " ".join(quote.split()))


def _answer_kind(norm_question: str) -> str:
    if _DATE_Q.search(norm_question):
        return "date"
    if _NUMBER_Q.search(norm_question):
        return "number"
    return ""


def _kind_bonus(wants: str, norm_sentence: str) -> float:
    if wants == "date":
        return 1.0 if (_YEAR.search(norm_sentence) or _MONTHS.search(norm_sentence)) else 0.0
    if wants == "number":
        return 1.0 if _NUMBER.search(norm_sentence) else 0.0
    return 0.0


def _clip(span: Span, text: str, limit: int) -> Span:
    """A single sentence longer than the limit is cut at a word boundary."""
    if span.end - span.start <= limit:
        return span
    cut = text.rfind(" ", span.start, span.start + limit)
    end = cut if cut > span.start else span.start + limit
    while end > span.start and text[end - 1].isspace():
        end -= 1
    return Span(span.start, end)
