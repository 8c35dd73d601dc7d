"""The answer contract (qa/ANSWER_CONTRACT.md) on the shipped corpus: shape,
[n] markers resolved, verbatim quotes at exact offsets, abstention, chat follow-ups,
retrieval de-duplication, and the LangChain retriever."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.engine import ABSTAIN_AR, ABSTAIN_EN, QuestionError, clean_question

QUESTIONS = Path(__file__).resolve().parent.parent / "evals" / "questions" / "corpus.jsonl"
ANSWER_KEYS = {"id", "question", "answer", "abstained", "citations", "passages", "timing_ms"}
CITATION_KEYS = {"n", "doc_id", "title", "chunk_id", "quote", "text", "start", "end", "page", "score"}
PASSAGE_KEYS = {"doc_id", "title", "chunk_id", "text", "start", "end", "page", "score"}


def fixed_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_contract(engine, answer) -> None:
    d = answer.to_dict()
    assert ANSWER_KEYS <= set(d)
    json.dumps(d, ensure_ascii=False)  # serializable as is
    markers = sorted({int(m) for m in re.findall(r"\[(\d+)\]", d["answer"])})
    assert markers == sorted(c["n"] for c in d["citations"]), "every [n] has exactly one citation"
    for c in d["citations"]:
        assert CITATION_KEYS <= set(c)
        doc = engine.document_text(c["doc_id"])
        assert doc[c["start"]:c["end"]] == c["quote"], "quote must sit verbatim at its offsets"
        assert c["quote"] and c["quote"] in c["text"]
        assert len(c["quote"]) <= engine.settings.answer.max_quote_chars
        # 1-based page of the quote in a paged document (PDF), null for other formats
        assert c["page"] == engine.store.page_of(c["doc_id"], c["start"])
        assert c["page"] is None or (isinstance(c["page"], int) and c["page"] >= 1)
    for p in d["passages"]:
        assert PASSAGE_KEYS <= set(p)
        assert engine.document_text(p["doc_id"])[p["start"]:p["end"]] == p["text"]
        assert p["page"] == engine.store.page_of(p["doc_id"], p["start"])
    assert {"retrieve", "answer", "total"} <= set(d["timing_ms"])
    if d["abstained"]:
        assert d["citations"] == [] and d["answer"] in (ABSTAIN_AR, ABSTAIN_EN)


def test_every_fixed_question_keeps_the_contract(shipped_engine):
    for q in fixed_questions():
        check_contract(shipped_engine, shipped_engine.ask(q["question"], id=q["id"]))


def test_answer_cites_the_treaty_sentence(shipped_engine):
    a = shipped_engine.ask("متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟")
    assert not a.abstained
    # The treaty document says «الشهر الماضي»; the answer quotes the sentence that dates it.
    quote = a.citations[0].quote
    assert "معاهدة" in quote and ("2024" in quote or "٢٠٢٤" in quote) and "الشهر الماضي" not in quote
    assert a.answer.endswith("[1]")


def test_digits_typed_western_find_arabic_indic_text(shipped_engine):
    # The document writes ٥٠٠ (Arabic-Indic); the question types 500.
    doc = shipped_engine.document_text("baku-tashkent-alliance-treaty-2024.txt")
    assert "٥٠٠" in doc
    a = shipped_engine.ask("ما الذي تبلغ قيمته 500 مليون دولار بين أذربيجان وأوزبكستان؟")
    assert any(p.doc_id == "baku-tashkent-alliance-treaty-2024.txt" for p in a.passages[:3])


@pytest.mark.parametrize("question", [
    "من فاز بكأس العالم لكرة القدم عام 2022؟",
    "ما هي أفضل طريقة لطهي الأرز البسمتي؟",
    "Who won the 2022 FIFA World Cup?",
])
def test_out_of_corpus_questions_abstain(shipped_engine, question):
    a = shipped_engine.ask(question)
    assert a.abstained, (question, a.answer, a.confidence)
    assert a.citations == []
    assert a.answer == (ABSTAIN_EN if question.isascii() else ABSTAIN_AR)
    assert a.passages, "the closest passages are still returned for inspection"


def test_english_question_about_arabic_text(shipped_engine):
    a = shipped_engine.ask("In which city did the defence ministers of the Central Asian states meet?")
    assert not a.abstained
    assert a.citations[0].doc_id == "central-asia-defence-ministers-samarkand.txt"
    assert "سمرقند" in a.citations[0].quote
    check_contract(shipped_engine, a)


def test_follow_up_uses_the_earlier_turn(shipped_engine):
    conv = shipped_engine.conversation()
    first = conv.ask("ما هي مناورات بيرليك 2025؟")
    follow = conv.ask("ومن شارك فيها؟")
    assert first.citations and follow.citations
    assert follow.citations[0].doc_id == "central-asia-defence-ministers-samarkand.txt"
    # The same words asked cold lack the topic and do not land there first.
    assert conv.turns[-1].context, "the follow-up was searched with the earlier question"
    conv.reset()
    assert conv.context_for("ومن شارك فيها؟") == ""


def test_stand_alone_question_after_a_turn_is_not_rewritten(shipped_engine):
    conv = shipped_engine.conversation()
    conv.ask("ما هي مناورات بيرليك 2025؟")
    long_question = "ما الشركة الأذربيجانية التي تجري مفاوضات للمشاركة في مشاريع النفط والغاز في أوزبكستان؟"
    assert conv.context_for(long_question) == ""


def test_overlapping_chunks_do_not_crowd_the_top(shipped_engine):
    a = shipped_engine.ask("التعاون العسكري بين تركيا وأوزبكستان", k=10)
    spans = [(p.doc_id, p.start, p.end) for p in a.passages]
    for i, (d1, s1, e1) in enumerate(spans):
        for d2, s2, e2 in spans[i + 1:]:
            assert not (d1 == d2 and s1 < e2 and s2 < e1), "overlapping passages returned twice"
    assert len(a.passages) == 10


@pytest.mark.parametrize("bad", ["", "   \n\t ", "؟؟؟ ...", "x" * 100_000, None, 42])
def test_bad_questions_raise_a_clear_error(shipped_engine, bad):
    with pytest.raises(QuestionError):
        shipped_engine.ask(bad)


def test_question_cleaning_drops_bidi_and_control_characters():
    assert clean_question("\u202eما\u0000 هي\u200f   مناورات؟\n") == "ما هي مناورات؟"


def test_langchain_retriever(shipped_engine):
    from langchain_core.retrievers import BaseRetriever

    from qa.langchain_retriever import IsnadRetriever

    r = IsnadRetriever(engine=shipped_engine, k=3)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke("ما هي مناورات بيرليك 2025؟")
    assert len(docs) == 3
    assert docs[0].metadata["doc_id"] == "central-asia-defence-ministers-samarkand.txt"
    text = shipped_engine.document_text(docs[0].metadata["doc_id"])
    assert text[docs[0].metadata["start"]:docs[0].metadata["end"]] == docs[0].page_content
