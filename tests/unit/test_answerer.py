"""qa.answerer: which sentence is quoted, how much of it, with exact offsets."""
from __future__ import annotations

import dataclasses

import pytest

from corpus.normalize import normalize
from qa.answerer import ExtractiveAnswerer, as_prose
from qa.settings import AnswerParams
from tests.unit.helpers import Docs, stem

pytestmark = pytest.mark.unit

MUSEUM = ("افتتح المتحف الوطني أبوابه للزوار بعد ترميم طويل في المدينة القديمة. "
          "افتتح المتحف الوطني رسميا في مارس 2019 بحضور وزير الثقافة وعدد من الضيوف. "
          "يضم المتحف مجموعات من المخطوطات والعملات والفخار من عصور مختلفة.")
RIVER = ("يمر نهر سيحون عبر أربع دول في آسيا الوسطى قبل أن يصب في بحر آرال. "
         "ويبلغ طول نهر سيحون نحو 2200 كيلومتر من منابعه في جبال تيان شان.")


def answerer(**params) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(AnswerParams(**params), stem=stem, doc_date={"museum": "2024-05-01"}.get,
                              n_chunks=10)


def test_the_quote_is_verbatim_with_exact_offsets():
    docs = Docs(museum=MUSEUM, river=RIVER)
    q = "كم يبلغ طول نهر سيحون؟"
    composed = answerer().compose(q, docs.retrieved(q, [("river", 1.0), ("museum", 0.2)]), docs.text)
    (c,) = composed.citations
    assert c.doc_id == "river" and c.n == 1
    assert docs.text("river")[c.start:c.end] == c.quote
    assert "2200 كيلومتر" in c.quote
    assert composed.text.endswith("[1]")


def test_the_kind_asked_for_decides_between_equally_covering_sentences():
    docs = Docs(museum=MUSEUM)
    q = "متى افتتح المتحف الوطني؟"
    composed = answerer(max_quote_sentences=1).compose(q, docs.retrieved(q, [("museum", 1.0)]), docs.text)
    assert composed.citations[0].quote.startswith("افتتح المتحف الوطني رسميا في مارس 2019")


def test_sentences_are_ranked_by_coverage_passage_rank_and_kind():
    docs = Docs(museum=MUSEUM, river=RIVER)
    q = "متى افتتح المتحف الوطني؟"
    ranked = answerer().rank_sentences(q, docs.retrieved(q, [("museum", 1.0), ("river", 0.5)]), docs.text)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert ranked[0].passage.doc_id == "museum" and ranked[-1].passage.doc_id == "river"
    assert ranked[0].coverage == pytest.approx(1.0)


def test_a_neighbour_sentence_joins_the_quote_when_it_fits():
    docs = Docs(museum=MUSEUM)
    q = "متى افتتح المتحف الوطني؟"
    got = docs.retrieved(q, [("museum", 1.0)])
    one = answerer(max_quote_sentences=1).compose(q, got, docs.text).citations[0]
    two = answerer(max_quote_sentences=2).compose(q, got, docs.text).citations[0]
    assert two.start <= one.start and two.end >= one.end and len(two.quote) > len(one.quote)
    assert len(two.quote) <= AnswerParams().max_quote_chars
    assert MUSEUM[two.start:two.end] == two.quote


def test_a_long_sentence_is_cut_to_the_window_that_covers_the_question():
    long = ("في إطار برامج التعاون الإقليمي الكثيرة التي أطلقتها الحكومات خلال العقد الماضي في مجالات "
            "التعليم والصحة والنقل والطاقة والزراعة والمياه والسياحة والثقافة، "
            "بلغ عدد المدارس الجديدة في ولاية سمرقند 120 مدرسة حكومية حديثة")
    docs = Docs(report=long)
    q = "كم عدد المدارس الجديدة في سمرقند؟"
    c = answerer(max_quote_chars=80).compose(q, docs.retrieved(q, [("report", 1.0)]), docs.text).citations[0]
    assert len(c.quote) <= 80 and long[c.start:c.end] == c.quote
    assert "120" in c.quote and "سمرقند" in c.quote
    assert c.start == 0 or long[c.start - 1] == " "  # on word boundaries


def test_reference_lines_are_never_quoted():
    text = ("مصادر الدراسة عن نهر سيحون وطوله وروافده: https://example.org/syr-darya-length\n"
            "يبلغ طول نهر سيحون نحو 2200 كيلومتر من منابعه في الجبال.")
    docs = Docs(notes=text)
    q = "كم يبلغ طول نهر سيحون؟"
    c = answerer().compose(q, docs.retrieved(q, [("notes", 1.0)]), docs.text).citations[0]
    assert "https://" not in c.quote and "2200" in c.quote


def test_a_relative_date_gives_way_to_a_stated_one():
    docs = Docs(news="وقعت أذربيجان وأوزبكستان معاهدة التحالف الاستراتيجي في طشقند الشهر الماضي وسط اهتمام واسع.",
                archive="وقعت معاهدة التحالف في طشقند يوم 22 أغسطس 2024 بين الرئيسين.")
    q = "متى وقعت أذربيجان وأوزبكستان معاهدة التحالف الاستراتيجي؟"
    got = docs.retrieved(q, [("news", 1.0), ("archive", 0.9)])
    c = answerer(max_quote_sentences=1).compose(q, got, docs.text).citations[0]
    assert c.doc_id == "archive" and "2024" in c.quote


def test_a_relative_date_alone_says_what_it_is_relative_to():
    museum = "افتتح المتحف الوطني الجديد أبوابه للزوار الشهر الماضي بعد ترميم طويل."
    docs = Docs(museum=museum)
    q = "متى افتتح المتحف الوطني الجديد؟"
    composed = answerer().compose(q, docs.retrieved(q, [("museum", 1.0)]), docs.text)
    assert composed.text.endswith("(تاريخ نسبي، بالنسبة إلى تاريخ الوثيقة: 2024-05-01)")


def test_no_quotable_sentence_gives_no_answer():
    docs = Docs(title="المتحف الوطني")
    q = "متى افتتح المتحف الوطني؟"
    assert answerer().compose(q, docs.retrieved(q, [("title", 1.0)]), docs.text) is None


def test_the_evidence_handed_to_answerability_is_the_quote():
    docs = Docs(river=RIVER, museum=MUSEUM)
    q = "كم يبلغ طول نهر سيحون؟"
    composed = answerer().compose(q, docs.retrieved(q, [("river", 1.0), ("museum", 0.3)]), docs.text)
    ev = composed.evidence
    assert ev.quote == composed.citations[0].quote
    assert set(ev.q_stems) <= ev.passage_stems
    assert ev.runner_up_score < ev.sentence_score
    assert ev.passage_scores == (1.0, 0.3)
    # what qa.slots reads: the question's slot, the quote's words, every ranked sentence's
    assert ev.slot.kind == "number" and ev.slot.focus
    assert ev.quote_words[0] and all(w in normalize(ev.quote) for w in ev.quote_words[0])
    assert len(ev.top_sentences) >= 2 and all(len(w) == len(s) for w, s in ev.top_sentences)


def test_prose_keeps_every_bracketed_number_a_citation():
    assert as_prose("قال الباحث [4] إن\nالنهر طويل") == "قال الباحث (4) إن النهر طويل"


def test_a_sentence_worded_otherwise_rises_by_its_stored_vector():
    # The first sentence shares more of the question's keywords; the stored vector of the
    # second is the question's own direction, so with the weight on it is ordered first.
    # The scores themselves (answerability's features) stay as they were.
    from dataclasses import replace as _replace

    import numpy as _np

    from qa.answerer import ExtractiveAnswerer, got_text
    from qa.settings import AnswerParams

    first = "اجتمع الوزراء في سمرقند لبحث التعاون العسكري بين الدول."
    second = "اجتمع الوزراء في سمرقند وقرروا إجراء تدريبات مشتركة كل عام."
    docs = Docs(a=f"{first}\n{second}\n")
    got = docs.retrieved("ما نتيجة لقاء الوزراء في سمرقند بشأن التعاون؟", [("a", 1.0)])
    q = _np.array([1.0, 0.0, 0.0, 0.0], _np.float32)
    got = _replace(got, query_vector=q)
    vectors = {first: _np.array([0.0, 1.0, 0.0, 0.0], _np.float32), second: q}
    stored = lambda texts: {t: vectors[t] for t in texts if t in vectors}  # noqa: E731
    off = ExtractiveAnswerer(AnswerParams(sentence_similarity_weight=0.0)).rank_sentences(
        "ما نتيجة لقاء الوزراء في سمرقند بشأن التعاون؟", got, docs.text, stored=stored)
    on = ExtractiveAnswerer(AnswerParams(sentence_similarity_weight=0.5)).rank_sentences(
        "ما نتيجة لقاء الوزراء في سمرقند بشأن التعاون؟", got, docs.text, stored=stored)
    assert got_text(on[0]) == second
    assert sorted(s.score for s in on) == sorted(s.score for s in off)
    assert got_text(off[0]) == first


WIND = ("تقع محطة الرياح الجديدة في تلال الغيم شمال البلاد، وقد بدأ العمل فيها عام 2021. "
        "تنتج المحطة 320 ميغاواط من الكهرباء عند التشغيل الكامل. "
        "تضم المحطة 80 توربينا موزعة على خمسة تلال.")


def test_a_sentence_under_a_title_counts_the_subject_the_title_names():
    # «المحطة» is the «محطة الرياح في تلال الغيم» of the document's title: the sentence
    # with the figure answers, though the first one holds more of the question's words.
    docs = Docs(wind=WIND)
    q = "كم ميغاواط تنتج محطة الرياح في تلال الغيم؟"
    got = docs.retrieved(q, [("wind", 1.0)])
    got.passages[0] = dataclasses.replace(got.passages[0], title="مشروع محطة الرياح في تلال الغيم")
    # (the kind of answer left out: both sentences hold a number)
    with_title = answerer(max_quote_sentences=1, sentence_kind_weight=0.0).compose(q, got, docs.text)
    assert with_title.citations[0].quote.startswith("تنتج المحطة 320 ميغاواط")
    alone = answerer(max_quote_sentences=1, sentence_kind_weight=0.0, sentence_context_share=0.0)
    assert alone.compose(q, got, docs.text).citations[0].quote.startswith("تقع محطة الرياح")


def test_a_table_row_is_quotable_though_as_short_as_a_heading():
    table = ("صادرات شركة الفجر للأسمنت\n"
             "تنتج شركة الفجر الأسمنت منذ عام 1998، وتصدر إنتاجها إلى دول الخليج.\n"
             "السنة: 2023 — الصادرات بالطن: 547000\n"
             "السنة: 2024 — الصادرات بالطن: 585000\n")
    docs = Docs(cement=table)
    q = "كم بلغت صادرات شركة الفجر للأسمنت بالطن في عام 2024؟"
    c = answerer(max_quote_sentences=1).compose(q, docs.retrieved(q, [("cement", 1.0)]), docs.text).citations[0]
    assert c.quote == "السنة: 2024 — الصادرات بالطن: 585000"


def test_a_paraphrase_leans_on_the_stored_vectors_more_than_a_question_worded_like_the_passage():
    # Two sentences alike but for «سمرقند» (IDF 3), which only the first holds; the second's
    # stored vector is the question's own direction. Worded like the passage (it holds 11
    # of the question's 13), the question keeps the first sentence: the vectors' small
    # weight (0.1) does not outweigh a keyword lead of 0.6 x 3/13. A paraphrase (the passage
    # holds 7 of 15: the rest is said otherwise there) gives the vectors more say (0.14
    # against a lead of 0.6 x 3/15), and the second sentence is chosen; with the boost off
    # it is not.
    from dataclasses import replace as _replace

    import numpy as _np

    from qa.answerer import got_text

    first = "اجتمع الوزراء في سمرقند لبحث التعاون العسكري."
    second = "اجتمع الوزراء لبحث التعاون وقرروا تدريبات مشتركة كل عام."
    docs = Docs(a=f"{first}\n{second}\n")
    q_vec = _np.array([1.0, 0.0, 0.0, 0.0], _np.float32)
    vectors = {first: _np.array([0.6, 0.8, 0.0, 0.0], _np.float32), second: q_vec}
    stored = lambda texts: {t: vectors[t] for t in texts if t in vectors}  # noqa: E731
    a = stem("سمرقند")
    shared = [stem(w) for w in ("الوزراء", "اجتمع")]
    said_otherwise = [stem(w) for w in ("حصيلة", "المسؤولين", "الدفاعيين", "لقاءات")]
    assert not ({a, *said_otherwise} & {stem(w) for w in second.split()})

    def first_quoted(question: str, extra: list[str], **params) -> str:
        q_stems = [a, *shared, *extra]
        got = _replace(docs.retrieved(question, [("a", 1.0)]), query_vector=q_vec, query_stems=q_stems,
                       idf={t: 3.0 if t == a else 2.0 for t in q_stems})
        return got_text(answerer(**params).rank_sentences(question, got, docs.text, stored=stored)[0])

    worded_alike = [stem("لبحث"), stem("التعاون"), said_otherwise[0]]
    assert first_quoted("ما حصيلة اجتماع الوزراء في سمرقند لبحث التعاون؟", worded_alike) == first
    paraphrase = "ما حصيلة لقاءات المسؤولين الدفاعيين والوزراء في سمرقند؟"
    assert first_quoted(paraphrase, said_otherwise) == second
    assert first_quoted(paraphrase, said_otherwise, sentence_similarity_boost=0.0) == first
