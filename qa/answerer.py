"""Extractive answers: pick the sentence(s) of the retrieved passages that answer
the question, quote them verbatim with exact offsets, and mark them [n]."""
from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.normalize import normalize
from corpus.sentences import Span, split_sentences
from index.lexical import ArabicAnalyzer
from qa.settings import AnswerParams
from qa.types import Citation, Passage

# What the question asks for, from its question word, and how an answer looks.
_DATE_Q = re.compile(r"(^|\s)(متي|في اي عام|في اي سنه|ما تاريخ|في اي شهر|when|what year|which year|what date)(\s|$)")
_NUMBER_Q = re.compile(r"(^|\s)(كم|ما عدد|ما نسبه|ما حجم|ما قيمه|how many|how much|what percentage|what number)(\s|$)")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_MONTHS = re.compile(
    r"(يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    r"كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين)"
)
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    span: Span
    score: float
    coverage: float  # share of the question's keywords the sentence holds


class ExtractiveAnswerer:
    def __init__(self, analyzer: ArabicAnalyzer, params: AnswerParams) -> None:
        self.analyzer = analyzer
        self.params = params

    def best_sentences(self, question: str, passages: list[Passage], doc_text) -> list[ScoredSentence]:
        """Sentences of the top passages, best first. `doc_text(doc_id)` gives a document's text."""
        q = self.analyzer.analyze(question)
        q_stems = set(q.stems)
        wants = _answer_kind(normalize(question))
        top = passages[: self.params.passages_considered]
        best_passage = max((p.score for p in top), default=1.0) or 1.0
        scored: list[ScoredSentence] = []
        for p in top:
            text = doc_text(p.doc_id)
            for span in split_sentences(text, p.start, p.end):
                sent = text[span.start : span.end]
                stems = set(self.analyzer.analyze(sent).stems)
                coverage = len(q_stems & stems) / len(q_stems) if q_stems else 0.0
                kind_bonus = _kind_bonus(wants, normalize(sent))
                score = 0.6 * coverage + 0.25 * (p.score / best_passage) + 0.15 * kind_bonus
                scored.append(ScoredSentence(p, span, score, coverage))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def quote_span(self, best: ScoredSentence, text: str, sentences: list[ScoredSentence]) -> Span:
        """The best sentence, extended by its better neighbour when both fit the limits."""
        span = best.span
        if self.params.max_quote_sentences < 2:
            return span
        same = {s.span: s.score for s in sentences if s.passage.chunk_id == best.passage.chunk_id}
        neighbours = [s for s in same if s.end <= span.start or s.start >= span.end]
        prev = max((s for s in neighbours if s.end <= span.start), key=lambda s: s.end, default=None)
        nxt = min((s for s in neighbours if s.start >= span.end), key=lambda s: s.start, default=None)
        options = [o for o in (nxt, prev) if o is not None]
        options.sort(key=lambda s: same[s], reverse=True)
        for o in options:
            merged = Span(min(span.start, o.start), max(span.end, o.end))
            if merged.end - merged.start <= self.params.max_quote_chars:
                return merged
        return span

    def compose(self, question: str, passages: list[Passage], doc_text) -> tuple[str, list[Citation], float]:
        """(answer text with [n] markers, citations, confidence in [0, 1])."""
        sentences = self.best_sentences(question, passages, doc_text)
        if not sentences:
            return "", [], 0.0
        best = sentences[0]
        text = doc_text(best.passage.doc_id)
        span = self.quote_span(best, text, sentences)
        span = _clip(span, text, self.params.max_quote_chars)
        p = best.passage
        quote = text[span.start : span.end]
        citations = [
            Citation(1, p.doc_id, p.title, p.chunk_id, quote, p.text, span.start, span.end,
                     round(best.score, 4), p.section)
        ]
        return f"{quote} [1]", citations, best.coverage


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
    return Span(span.start, cut if cut > span.start else span.start + limit)
