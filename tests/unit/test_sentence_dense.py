"""The quoted sentence's own similarity to the question (its build-time vector) as
answerability evidence: measured on the quote's sentences only, neutral when not stored."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qa.answerability import FEATURES, answerability, features
from qa.answerer import ExtractiveAnswerer
from qa.settings import AnswerParams
from tests.unit.helpers import Docs, stem
from tests.unit.test_abstention import ANSWER, Q, evidence

pytestmark = pytest.mark.unit

RIVER = ("يمر نهر سيحون عبر أربع دول في آسيا الوسطى قبل أن يصب في بحر آرال. "
         "ويبلغ طول نهر سيحون نحو 2200 كيلومتر من منابعه في جبال تيان شان.")
LAKE = "تقع بحيرة إيسيك كول في شرق قيرغيزستان وهي من أعمق بحيرات العالم الجبلية."


def unit(cos: float) -> np.ndarray:
    """A unit vector whose cosine to the query vector e0 is `cos`."""
    return np.array([cos, np.sqrt(1 - cos * cos), 0.0, 0.0], np.float32)


def compose_with(vectors: dict[str, np.ndarray] | None):
    docs = Docs(river=RIVER, lake=LAKE)
    q = "كم يبلغ طول نهر سيحون؟"
    got = dataclasses.replace(docs.retrieved(q, [("river", 1.0), ("lake", 0.4)]),
                              query_vector=np.array([1, 0, 0, 0], np.float32))
    asked: list[list[str]] = []

    def stored(texts: list[str]) -> dict[str, np.ndarray]:
        asked.append(list(texts))
        return {t: v for t, v in (vectors or {}).items() if t in texts}

    answerer = ExtractiveAnswerer(AnswerParams(max_quote_sentences=1, sentence_similarity_weight=0.0), stem=stem)
    return answerer.compose(q, got, docs.text, None, stored if vectors is not None else None), asked


def test_the_quoted_sentences_stored_vector_gives_the_sentence_similarity():
    answer_sentence = RIVER[RIVER.index("ويبلغ"):]
    composed, asked = compose_with({answer_sentence: unit(0.9), LAKE: unit(0.99),
                                    RIVER[: RIVER.index("ويبلغ")].strip(): unit(0.2)})
    assert composed.citations[0].quote == answer_sentence
    # only the quote's own sentence counts: not its neighbour (0.2), not another passage's (0.99)
    assert composed.evidence.sentence_dense == pytest.approx(0.9, abs=1e-6)
    assert [answer_sentence] in asked
    f = dict(zip(FEATURES, features(composed.evidence)))
    assert f["sentence_dense"] == pytest.approx(0.9, abs=1e-6)


def test_without_a_stored_vector_the_passage_similarity_stands_in():
    for composed in (compose_with(None)[0], compose_with({})[0]):
        assert composed.evidence.sentence_dense is None
        f = dict(zip(FEATURES, features(composed.evidence)))
        assert f["sentence_dense"] == f["dense"] == pytest.approx(composed.dense)


def test_a_sentence_closer_to_the_question_is_more_answerable():
    assert answerability(evidence(Q, ANSWER, sentence_dense=0.93)) > answerability(evidence(Q, ANSWER, sentence_dense=0.80))


def test_the_threshold_budget_can_count_only_answers_whose_quote_holds_the_gold():
    from evals.train_answerability import fit

    rng = np.random.default_rng(0)
    n = 200
    y = np.r_[np.ones(n // 2, int), np.zeros(n // 2, int)]
    x = rng.normal(0.0, 0.05, (n, len(FEATURES)))
    x[:, FEATURES.index("coverage")] += np.where(y == 1, 0.7, 0.3)
    # ten answerable questions that look like near-misses, and whose quote misses the gold
    broken = np.zeros(n, bool)
    broken[:10] = True
    x[broken, FEATURES.index("coverage")] = 0.1
    good = (y == 1) & ~broken
    every = fit(x, y, 0.01)
    correct = fit(x, y, 0.01, counted=(y == 0) | good)
    # over all answerables the budget goes on the broken ones: a threshold below them;
    # over the correct ones only, it rises above them
    assert every["threshold"] < correct["threshold"]
    from qa.answerability import AnswerabilityModel

    m = AnswerabilityModel.from_json(correct)
    assert all(m.probability(row) < m.threshold for row in x[broken])
    assert sum(m.probability(row) < m.threshold for row in x[good]) <= 1
