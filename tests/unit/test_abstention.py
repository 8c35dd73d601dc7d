"""qa.answerability features and qa.abstention: when Isnad answers and when it abstains."""
from __future__ import annotations

import numpy as np
import pytest

from corpus.normalize import normalize
from qa.abstention import ABSTAIN_AR, ABSTAIN_EN, answer_confidence, decide, threshold
from qa.answerability import FEATURES, Evidence, answerability, features, load_model, phrase_share
from qa.answerer import Composed
from qa.coverage import idf_coverage
from qa.kinds import answer_kind, asks_author, holds_kind
from qa.settings import OFF_CORPUS_SHARE, AnswerParams
from tests.unit.helpers import stems

pytestmark = pytest.mark.unit


def evidence(question: str, quote: str, **changes) -> Evidence:
    q, s = stems(question), frozenset(stems(quote))
    base = dict(question=question, quote=quote, q_stems=q, idf={t: 2.0 for t in q}, quote_stems=s,
                passage_stems=s, dense=0.85, sentence_score=1.2, runner_up_score=0.6,
                passage_scores=(1.0, 0.5), agree=0.5, quote_seq=tuple(stems(quote)), top_stems=s,
                idf_ceiling=5.0)
    return Evidence(**{**base, **changes})


Q = "كم يبلغ طول نهر سيحون؟"
ANSWER = "ويبلغ طول نهر سيحون نحو 2200 كيلومتر من منابعه في جبال تيان شان."
NEAR_MISS = "يمر نهر سيحون عبر دول آسيا الوسطى قبل أن يصب في بحر آرال."


def named(vector: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURES, vector))


def test_features_describe_the_quote():
    f = named(features(evidence(Q, ANSWER)))
    assert len(f) == len(FEATURES) == len(load_model().coef)
    assert f["coverage"] == pytest.approx(idf_coverage(stems(Q), stems(ANSWER), {t: 2.0 for t in stems(Q)}))
    assert f["kind_wanted"] == 1.0 and f["kind_found"] == 1.0 and f["kind_missing"] == 0.0
    miss = named(features(evidence(Q, NEAR_MISS)))
    assert miss["kind_found"] == 0.0 and miss["kind_missing"] == 1.0
    assert miss["coverage"] < f["coverage"]


def test_the_answer_is_more_answerable_than_the_near_miss():
    assert answerability(evidence(Q, ANSWER)) > answerability(evidence(Q, NEAR_MISS))
    assert 0.0 < answerability(evidence(Q, ANSWER)) < 1.0


def test_an_off_corpus_question_is_not_answerable():
    assert answerability(evidence(Q, ANSWER, unseen=OFF_CORPUS_SHARE)) == 0.0


def test_phrase_share_counts_adjacent_question_pairs_near_each_other():
    assert phrase_share(["a", "b", "c"], ("x", "a", "b", "y", "y", "y", "y", "c")) == 0.5
    assert phrase_share(["a"], ("a",)) == 0.0


@pytest.mark.parametrize("question, kind", [("متى وقعت المعاهدة؟", "date"), ("When was it signed?", "date"),
                                            ("كم عدد الدول؟", "number"), ("من هو رئيس البلاد؟", "who"),
                                            ("ما هي عاصمة البلاد؟", "")])
def test_answer_kinds(question, kind):
    assert answer_kind(normalize(question).lower()) == kind


def test_a_kind_echoed_from_the_question_does_not_count():
    q = normalize("ماذا حدث في 2024 ومتى؟")
    assert not holds_kind("date", normalize("وقع الحدث في 2024"), q)
    assert holds_kind("date", normalize("وقع الحدث في مارس 2024"), q)
    assert asks_author(normalize("من كتب هذه الدراسة؟")) and not asks_author(normalize("من فاز؟"))


def test_a_year_said_as_one_is_no_count():
    q = normalize("كم ميغاواط تنتج المحطة؟")
    assert not holds_kind("number", normalize("بدأ العمل في المحطة عام 2021."), q)
    assert not holds_kind("number", normalize("تعمل الشركة منذ 1998."), q)
    assert holds_kind("number", normalize("تنتج المحطة 320 ميغاواط."), q)
    assert holds_kind("number", normalize("بلغ عدد السكان 2021 نسمة."), q)  # a count, though year-shaped


def composed(evidence_: Evidence | None, coverage: float = 1.0, dense: float = 0.9) -> Composed:
    return Composed("الجواب [1]", [], coverage, dense, evidence_)


def test_cross_lingual_confidence_rests_on_the_cited_sentences_similarity():
    # Across languages Composed.coverage is the cited sentence's cosine to the question.
    assert answer_confidence(None) == 0.0
    assert answer_confidence(composed(None, coverage=0.86, dense=0.7)) == pytest.approx(1.0)
    assert answer_confidence(composed(None, coverage=0.70, dense=0.9)) == pytest.approx(0.0)
    assert answer_confidence(composed(None, coverage=0.80, dense=0.75)) == pytest.approx(0.5)
    # the passage's cosine no longer decides: the same sentence, any passage, one confidence
    assert answer_confidence(composed(None, coverage=0.8, dense=0.76)) == answer_confidence(
        composed(None, coverage=0.8, dense=0.9))
    p = AnswerParams()
    assert decide("Q?", composed(None, coverage=0.80), p, cross_lingual=True).abstained is False
    assert decide("Q?", composed(None, coverage=0.77), p, cross_lingual=True).abstained is True


def test_thresholds():
    p = AnswerParams()
    assert threshold(p, composed(None), cross_lingual=True) == p.abstain_below_cross_lingual
    assert threshold(p, composed(evidence(Q, ANSWER)), cross_lingual=False) == load_model().threshold
    assert threshold(AnswerParams(abstain_below=0.3), composed(evidence(Q, ANSWER)), False) == 0.3


def test_abstention_is_in_the_question_language_and_cites_nothing():
    v = decide("متى؟", None, AnswerParams(), cross_lingual=False)
    assert v.abstained and v.text == ABSTAIN_AR and v.citations == [] and v.confidence == 0.0
    assert decide("When?", None, AnswerParams(), False).text == ABSTAIN_EN
    low = decide("When?", composed(None, coverage=0.0, dense=0.7), AnswerParams(), cross_lingual=True)
    assert low.abstained


def test_a_confident_answer_is_given():
    v = decide(Q, composed(evidence(Q, ANSWER)), AnswerParams(abstain_below=0.0), cross_lingual=False)
    assert not v.abstained and v.text == "الجواب [1]" and v.confidence > 0


def test_a_year_the_cited_passage_never_names_is_a_near_miss():
    from qa.slots import read_slot
    from tests.unit.helpers import stem

    q = "كم بلغ طول نهر سيحون عام 2019؟"
    slot = read_slot(normalize(q), stem)
    assert slot.years == {"2019"} and slot.kind == "number"
    def with_words(quote):  # the quote's words, as the answerer hands them on with a slot
        ws = tuple(normalize(quote).replace(".", " ").split())
        return evidence(q, quote, slot=slot, quote_words=(ws, tuple(stem(w) for w in ws)))

    other_year = with_words(ANSWER + " وذلك بحسب قياسات عام 2021.")
    assert "2021" in other_year.passage_stems and answerability(other_year) == 0.0
    no_year = with_words(ANSWER)  # a passage naming no year may speak of the one asked
    assert answerability(no_year) > 0.0
    same_year = with_words(ANSWER + " وذلك بحسب قياسات عام 2019.")
    same_year = Evidence(**{**same_year.__dict__, "passage_stems": same_year.passage_stems | {"2019"}})
    assert answerability(same_year) > 0.0


def test_slot_features_see_a_filler_next_to_the_focus_in_the_quote_or_the_top_passages():
    from qa.slots import read_slot
    from tests.unit.helpers import stem

    def words(text):
        ws = tuple(normalize(text).replace(".", " ").split())
        return ws, tuple(stem(w) for w in ws)

    slot = read_slot(normalize(Q), stem)
    answer = named(features(evidence(Q, ANSWER, slot=slot, quote_words=words(ANSWER))))
    assert answer["slot_wanted"] == 1.0 and answer["slot_quote"] == 1.0 and answer["slot_top"] == 1.0
    near = named(features(evidence(Q, NEAR_MISS, slot=slot, quote_words=words(NEAR_MISS),
                                   top_sentences=(words(NEAR_MISS),))))
    assert near["slot_quote"] == 0.0 and near["slot_top"] == 0.0
    elsewhere = named(features(evidence(Q, NEAR_MISS, slot=slot, quote_words=words(NEAR_MISS),
                                        top_sentences=(words(NEAR_MISS), words(ANSWER)))))
    assert elsewhere["slot_quote"] == 0.0 and elsewhere["slot_top"] == 1.0
    assert answerability(evidence(Q, ANSWER, slot=slot, quote_words=words(ANSWER))) > answerability(
        evidence(Q, NEAR_MISS, slot=slot, quote_words=words(NEAR_MISS), top_sentences=(words(NEAR_MISS),)))


def test_another_countrys_fact_without_the_asked_filler_is_vetoed():
    from qa.answerability import vetoed
    from qa.slots import read_slot
    from tests.unit.helpers import stem

    def words(text):
        ws = tuple(normalize(text).replace(".", " ").split())
        return ws, tuple(stem(w) for w in ws)

    q = "كم بلغت ميزانية الدفاع الكازاخستانية؟"
    slot = read_slot(normalize(q), stem)
    uzbek = "وبلغت صادرات الدفاع الأوزبكية إلى الخارج رقماً قياسياً."
    assert vetoed(features(evidence(q, uzbek, slot=slot, quote_words=words(uzbek))))
    kazakh = "بلغت ميزانية الدفاع الكازاخستانية 2.1 مليار دولار."
    assert not vetoed(features(evidence(q, kazakh, slot=slot, quote_words=words(kazakh))))
    # a question without a nationality, quoted by a figure near its focus, is left to the model;
    # with no figure there at all, the amount asked is unfilled (count_unfilled)
    plain_q = "كم بلغت ميزانية الدفاع؟"
    plain = read_slot(normalize(plain_q), stem)
    figure = "وبلغت صادرات الدفاع الأوزبكية 300 مليون دولار."
    assert not vetoed(features(evidence(plain_q, figure, slot=plain, quote_words=words(figure))))
    unfilled = features(evidence(plain_q, uzbek, slot=plain, quote_words=words(uzbek)))
    assert vetoed(unfilled) and named(unfilled)["count_unfilled"] == 1.0
