"""Conversations kept in the browser (ui.app_conversations), the app's words in one
language at a time, and the evaluation tab's report: pure functions, no browser."""
from __future__ import annotations

import json

import pytest

from qa.engine import ABSTAIN_EN
from qa.types import Answer, Citation, Passage
from ui import app_conversations as C
from ui import app_render as R
from ui.app_eval import report_html


def treaty_answer(question: str = "متى وقعت المعاهدة؟") -> Answer:
    text = "وقعت المعاهدة في طشقند سنة 2024، وتنص على الدفاع المشترك."
    quote = "وقعت المعاهدة في طشقند سنة 2024"
    p = Passage("aze-uzb.txt", "معاهدة التحالف", "aze-uzb.txt#0", text, 100, 100 + len(text), 1.4, "مقدمة")
    c = Citation(1, "aze-uzb.txt", "معاهدة التحالف", "aze-uzb.txt#0", quote, text, 100, 100 + len(quote), 1.4,
                 "مقدمة")
    return Answer(question, f"{quote} [1].", False, [c], [p], {"total": 12.0})


def test_a_store_survives_json_and_rebuilds_the_answers():
    store = C.add_turn(None, treaty_answer(), False)
    store = C.add_turn(store, treaty_answer("ومتى دخلت حيز التنفيذ؟"), True, "متى وقعت المعاهدة؟")
    back = C.clean_store(json.loads(json.dumps(store, ensure_ascii=False)))
    turns = C.turns_of(back)
    assert [a.question for a, _, _ in turns] == ["متى وقعت المعاهدة؟", "ومتى دخلت حيز التنفيذ؟"]
    assert turns[1][1] is True and turns[1][2] == "متى وقعت المعاهدة؟"
    assert turns[0][0].citations[0] == treaty_answer().citations[0]  # every field back, typed
    assert C.current_item(back)["title"] == "متى وقعت المعاهدة؟"


def test_several_conversations_switch_and_new_reuses_an_empty_one():
    store = C.add_turn(None, treaty_answer(), False)
    first = store["current"]
    store = C.start_new(store)
    second = store["current"]
    assert second != first and C.turns_of(store) == []
    assert C.start_new(store)["current"] == second  # an empty current conversation is reused
    store = C.switch_to(store, first)
    assert store["current"] == first and len(C.turns_of(store)) == 1
    assert [cid for _, cid in C.choices(store, "ar")] == [second, first]  # newest first
    assert C.switch_to(store, "no-such-id")["current"] == first


@pytest.mark.parametrize("junk", [None, 3, "x", {"items": "x"}, {"items": [{"id": 5}, "x"]},
                                  {"items": [{"id": "a", "turns": [{"answer": {"question": 1}}, 7]}]}])
def test_a_malformed_store_from_the_browser_becomes_an_empty_valid_one(junk):
    store = C.clean_store(junk)
    assert C.current_item(store)["turns"] == []
    assert C.add_turn(store, treaty_answer(), False)["items"]


def test_export_is_markdown_with_numbered_sources_and_quotes():
    store = C.add_turn(None, treaty_answer(), False)
    md = C.to_markdown(C.current_item(store), "ar")
    assert md.startswith("# محادثة إسناد")
    assert "**السؤال:** متى وقعت المعاهدة؟" in md
    assert "وقعت المعاهدة في طشقند سنة 2024 [1]." in md
    assert "1. **معاهدة التحالف** — مقدمة (aze-uzb.txt، الأحرف 100–131)" in md
    assert "   > وقعت المعاهدة في طشقند سنة 2024" in md
    assert C.to_markdown(C.current_item(store), "en").startswith("# Isnad conversation")


def test_an_english_answer_is_laid_out_left_to_right_in_the_arabic_interface():
    en = Answer("What is the capital of Australia?", ABSTAIN_EN, True, [], [], {"total": 3.0})
    html = R.answer_bubble(en, 0, lang="ar")
    assert 'class="isnad-abstain" dir="rtl"' in html  # the Arabic frame
    assert f'class="isnad-abstain-text" dir="ltr">{ABSTAIN_EN}' in html  # the full stop at its end
    ar = R.answer_bubble(treaty_answer(), 0, lang="en")
    assert 'class="isnad-answer" dir="rtl"' in ar and 'class="isnad-foot" dir="ltr"' in ar


def test_every_answer_has_a_copy_button_with_its_numbered_sources():
    html = R.answer_bubble(treaty_answer(), 3, lang="ar")
    assert 'class="isnad-msg-copy"' in html
    src = html.split('class="isnad-msg-copy-src">', 1)[1]
    assert "[1] معاهدة التحالف" in src and "«وقعت المعاهدة في طشقند سنة 2024»" in src
    assert "\n" not in html  # a raw newline would end the chat's HTML block


def test_the_interface_words_follow_the_language():
    a = treaty_answer()
    assert "المصادر:" in R.sources_html(a, 0, lang="ar") and "Sources:" in R.sources_html(a, 0, lang="en")
    assert "title=\"Retrieval score" in R.sources_html(a, 0, lang="en")  # the score is explained
    assert "isnad-bar" not in R.sources_html(a, 0)
    assert R.friendly_error("The question is empty", "en").startswith("The question is empty.")
    assert "فارغ" in R.friendly_error("The question is empty", "ar")


def _report(r1: float, failures: list[dict]) -> dict:
    summary = {"recall@1": r1, "recall@5": 0.9, "mrr@10": 0.8, "quote_contains_gold": 0.7,
               "abstention_precision": 1.0, "abstention_recall": 0.5, "latency_p50_ms": 20.0,
               "categories": {"near-miss": {"questions": 2, "hit@1": None, "hit@5": None,
                                            "quote_contains_gold": None, "abstention_rate": 0.5}}}
    return {"created": "2026-12-02T07:00:00Z", "wall_seconds": 3.2, "suites": {"corpus": {
        "questions": 5, "systems": {"isnad": {"summary": summary}}, "records": {"isnad": failures}}}}


def test_the_evaluation_report_compares_with_the_previous_run_and_links_failures():
    fail = {"id": "q7", "question": 'ما <b>"العاصمة"</b>؟', "answerable": True, "rank": 3,
            "quote_has_answer": False}
    html = report_html(_report(0.6, [fail]), _report(0.5, []), "ar")
    assert "R@1" in html and "0.600" in html and "0.500" in html and "+0.100" in html
    assert "near-miss" in html and "2026-12-02T07:00:00Z" in html
    assert 'data-ask="ما &lt;b&gt;&quot;العاصمة&quot;&lt;/b&gt;؟"' in html  # escaped, never markup
    assert "<b>" not in html
    first = report_html(_report(0.6, []), None, "en")
    assert "No previous run" in first and "No failures." in first
