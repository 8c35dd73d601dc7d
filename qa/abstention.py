"""The last step: is the composed quote sure enough to give, or does Isnad abstain?

    Composed (qa.answerer) -> answer_confidence -> threshold -> answer or abstention

Within the corpus language the answerability model (qa.answerability) judges the
quote's evidence; across languages (no keywords to compare) the confidence rests on
sentence coverage and the cited passage's similarity, with its own threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

from corpus.language import is_arabic
from qa.answerability import answerability, load_model
from qa.answerer import Composed
from qa.settings import CROSS_LINGUAL_SENTENCE_FLOOR, CROSS_LINGUAL_SENTENCE_SPAN, AnswerParams
from qa.types import Citation

ABSTAIN_AR = "لا تتضمن الوثائق المتاحة إجابة عن هذا السؤال."
ABSTAIN_EN = "The documents available do not contain an answer to this question."


@dataclass(frozen=True)
class Verdict:
    text: str  # the answer with [n] markers, or the abstention text
    citations: list[Citation]
    abstained: bool
    confidence: float


def answer_confidence(composed: Composed | None) -> float:
    """How sure Isnad is that the cited sentence answers the question, in [0, 1]: the
    answerability model (qa.answerability) on the quote's evidence; for a question in
    another language than the corpus (no keywords to compare), the cited sentence's
    similarity to the question (Composed.coverage holds it there), scaled."""
    if composed is None:
        return 0.0
    if composed.evidence is not None:
        return answerability(composed.evidence)
    return min(1.0, max(0.0, (composed.coverage - CROSS_LINGUAL_SENTENCE_FLOOR) / CROSS_LINGUAL_SENTENCE_SPAN))


def threshold(params: AnswerParams, composed: Composed | None, cross_lingual: bool) -> float:
    """The confidence below which Isnad abstains: the calibrated model threshold (or
    params.abstain_below) within one language, params.abstain_below_cross_lingual across."""
    if cross_lingual or composed is None or composed.evidence is None:
        return params.abstain_below_cross_lingual
    return params.abstain_below if params.abstain_below is not None else load_model().threshold


def abstention_text(question: str) -> str:
    return ABSTAIN_AR if is_arabic(question) else ABSTAIN_EN


def decide(question: str, composed: Composed | None, params: AnswerParams, cross_lingual: bool) -> Verdict:
    """Answer with the composed quote, or abstain in the question's language."""
    confidence = answer_confidence(composed)
    if composed is None or confidence < threshold(params, composed, cross_lingual):
        return Verdict(abstention_text(question), [], True, confidence)
    return Verdict(composed.text, composed.citations, False, confidence)
