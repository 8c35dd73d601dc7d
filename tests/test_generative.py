"""Optional generative answers (qa.generative): the checks on what a model writes
(citations must name a given passage and be supported, with exact offsets; else the
extractive answer with a notice), follow-up rewriting, streaming, and the real
ChatOpenAI client end to end against an OpenAI-compatible server on 127.0.0.1
(canned JSON, SSE streaming, malformed output, a timeout, a refused connection),
through `Isnad.ask`, `Isnad.ask_stream` and `isnad ask --llm ...`."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from qa.generative import (
    Evidence, GenerativeConfigError, align, check_answer, describe_failure, make_chat_model, parse_claims,
)
from qa.settings import GenerativeParams, Settings, SettingsError
from qa.types import Answer, Passage

Q_TREATY = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"
Q_BERLIK = "ما هي مناورات بيرليك 2025؟"
TREATY_SENTENCE = "تُضفي معاهدة التحالف التي وُقِّعَت الشهر الماضي"
HERITAGE_SENTENCE = "إلى إرثٍ ثقافيٍ وتاريخيٍ مشتركٍ"
# Paraphrases (not copies) of those two sentences, and one the corpus does not support.
CLAIM_TREATY = ("وُقّعت معاهدة التحالف بين أذربيجان وأوزبكستان قبل شهر من نشر التقرير، "
                "وهي تضفي طابعاً رسمياً على شراكتهما الاستراتيجية")
CLAIM_HERITAGE = "وتستند العلاقة بين البلدين إلى إرث ثقافي وتاريخي مشترك"
CLAIM_FALSE = "وقد فاز فريق برشلونة بالدوري الإسباني لكرة القدم"


# ------------------------------------------------------------------ helpers
def check_citations(answer: dict, engine) -> None:
    """The Answer JSON's citation contract of qa/ANSWER_CONTRACT.md, checked mechanically."""
    assert set(answer) >= {"question", "answer", "abstained", "citations", "passages", "timing_ms"}
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])]
    numbers = [c["n"] for c in answer["citations"]]
    assert numbers == list(range(1, len(numbers) + 1)), "numbered 1..m"
    assert set(markers) == set(numbers), "every [n] resolves, every citation is used"
    assert sorted(dict.fromkeys(markers), key=markers.index) == numbers, "in order of appearance"
    passages = {p["chunk_id"]: p for p in answer["passages"]}
    for c in answer["citations"]:
        doc = engine.document_text(c["doc_id"])
        assert doc[c["start"]:c["end"]] == c["quote"], c
        p = passages[c["chunk_id"]]
        assert p["start"] <= c["start"] < c["end"] <= p["end"]
        assert c["text"] == p["text"]


def number_of(passages: list[Passage], needle: str) -> int:
    """The [n] of the passage holding `needle` (as the model would see it)."""
    for i, p in enumerate(passages, 1):
        if needle in p.text:
            return i
    raise AssertionError(f"no passage holds {needle!r}")


class Recording(FakeListChatModel):
    """FakeListChatModel that records the prompts it gets; `fail` holds the call
    numbers (0-based) that raise `error` instead of answering."""

    seen: list = []
    fail: set = set()
    error: Exception = ConnectionError("[Errno 111] Connection refused")

    def _next(self, messages):
        self.seen.append(messages)
        if len(self.seen) - 1 in self.fail:
            self.i = min(self.i + 1, len(self.responses) - 1) if self.responses else 0
            raise self.error

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self._next(messages)
        return super()._call(messages, stop, run_manager, **kwargs)

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self._next(messages)
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def user_prompt(messages) -> str:
    return messages[-1].content


@pytest.fixture(scope="module")
def treaty(shipped_engine):
    """The extractive answer to Q_TREATY and the [n] of the two passages the fakes cite."""
    base = shipped_engine.ask(Q_TREATY)
    return base, number_of(base.passages, TREATY_SENTENCE), number_of(base.passages, HERITAGE_SENTENCE)


# ------------------------------------------------------------------ parsing (pure)
def test_markers_are_read_in_every_usual_form():
    claims = parse_claims("الجملة الأولى. [١] والثانية [2، 3]. والثالثة [المقطع 4]\n- بند [1-2]")
    assert [c.markers for c in claims] == [[1], [2, 3], [4], [1, 2]]
    assert [c.body for c in claims] == ["الجملة الأولى.", "والثانية.", "والثالثة", "- بند"]
    assert claims[2].sep == "\n"
    # Leading style, and a claim without a marker inherits the next one of its paragraph.
    assert [c.markers for c in parse_claims("[1] First. [2] Second.")] == [[1], [2]]
    inherited = parse_claims("Alpha beta. Gamma delta [3].\nAlone here.")
    assert [(c.markers, c.inherited) for c in inherited] == [([3], True), ([3], False), ([], False)]
    # Reasoning is never part of the answer.
    assert [c.body for c in parse_claims("<think>[9] musing</think>Answer [1].")] == ["Answer."]


def test_params_from_spec_and_environment(monkeypatch):
    p = GenerativeParams.from_spec("ollama:qwen2.5:7b-instruct", "http://localhost:11434")
    assert (p.provider, p.model, p.base_url, p.temperature) == ("ollama", "qwen2.5:7b-instruct",
                                                                "http://localhost:11434", 0.0)
    assert p.enabled and p.label == "ollama:qwen2.5:7b-instruct"
    assert not GenerativeParams.from_spec("none").enabled
    assert not GenerativeParams.from_spec(None).enabled
    for bad in ("qwen2.5", "openai:", ":gpt", "a b:c"):
        with pytest.raises(SettingsError):
            GenerativeParams.from_spec(bad)
    with pytest.raises(SettingsError):
        GenerativeParams.from_spec("openai:x", "localhost:8000")
    monkeypatch.setenv("ISNAD_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("ISNAD_LLM_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ISNAD_LLM_TIMEOUT", "7.5")
    g = Settings.from_env().generative
    assert (g.provider, g.model, g.base_url, g.timeout) == ("openai", "gpt-4o-mini", "http://127.0.0.1:9/v1", 7.5)
    assert not Settings.from_env(llm="none").generative.enabled  # a flag beats the environment
    assert Settings.from_env(llm="ollama:llama3.2").generative.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("ISNAD_LLM_TIMEOUT", "soon")
    with pytest.raises(SettingsError):
        Settings.from_env()


def test_chat_models_are_built_with_the_settings(monkeypatch):
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI

    monkeypatch.delenv("ISNAD_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    m = make_chat_model(GenerativeParams.from_spec("openai:m1", "http://127.0.0.1:1/v1", timeout=3.0, max_tokens=99))
    assert isinstance(m, ChatOpenAI)
    assert (m.model_name, m.openai_api_base, m.request_timeout, m.temperature, m.max_tokens) == (
        "m1", "http://127.0.0.1:1/v1", 3.0, 0.0, 99)
    o = make_chat_model(GenerativeParams.from_spec("ollama:qwen2.5", "http://127.0.0.1:2", timeout=4.0))
    assert isinstance(o, ChatOllama)
    assert (o.model, o.base_url, o.num_predict, o.client_kwargs["timeout"]) == ("qwen2.5", "http://127.0.0.1:2", 600, 4.0)
    with pytest.raises(GenerativeConfigError, match="ISNAD_LLM_API_KEY"):
        make_chat_model(GenerativeParams.from_spec("openai:gpt-4o-mini"))  # api.openai.com needs a key
    monkeypatch.setenv("ISNAD_LLM_API_KEY", "sk-test")
    assert make_chat_model(GenerativeParams.from_spec("openai:gpt-4o-mini")).openai_api_key.get_secret_value() == "sk-test"


def test_failures_are_described_in_one_short_line():
    p = GenerativeParams.from_spec("openai:m", "http://h/v1", timeout=2)
    assert "within 2 s" in describe_failure(TimeoutError(), p)
    assert "could not connect" in describe_failure(ConnectionRefusedError(), p)
    assert "malformed" in describe_failure(json.JSONDecodeError("x", "", 0), p)
    assert "malformed" in describe_failure(IndexError("list index out of range"), p)


# ------------------------------------------------------------------ alignment (stub evidence)
def _stub_evidence(doc: str, embed=None) -> tuple[Evidence, Passage]:
    from corpus.sentences import split_sentences
    from index.lexical import ArabicAnalyzer
    from index.store import StoredSentence

    an = ArabicAnalyzer()
    stems = lambda t: an.analyze(t).stems  # noqa: E731
    sents = [StoredSentence(0, s.start, s.end, frozenset(stems(doc[s.start:s.end]))) for s in split_sentences(doc)]
    p = Passage("d.txt", "t", "d.txt#0", doc, 0, len(doc), 1.0)
    ev = Evidence(doc_text=lambda _: doc, stems=stems, idf=lambda ts: {t: 1.0 for t in ts},
                  sentences={"d.txt#0": sents}, embed=embed, corpus_arabic=True)
    return ev, p


def test_alignment_picks_the_supporting_sentence_or_pair_with_exact_offsets():
    doc = ("افتتح المؤتمر في الرياض يوم الاثنين. حضر الاجتماع وزراء الدفاع من خمس دول. "
           "وناقش الوزراء أمن الحدود المشتركة. ثم زار الوفد مصنعاً للطائرات المسيّرة.")
    ev, p = _stub_evidence(doc)
    a = align("ناقش وزراء الدفاع أمن الحدود", p, ev)
    assert doc[a.start:a.end] in ("وناقش الوزراء أمن الحدود المشتركة.",
                                  "حضر الاجتماع وزراء الدفاع من خمس دول. وناقش الوزراء أمن الحدود المشتركة.")
    one = align("ناقش الوزراء أمن الحدود المشتركة", p, ev)
    assert doc[one.start:one.end] == "وناقش الوزراء أمن الحدود المشتركة." and one.score == 1.0
    assert align("فاز فريق برشلونة بالدوري", p, ev).score < 0.5


def test_a_claim_in_another_language_is_aligned_by_embedding():
    doc = "وقعت الدولتان معاهدة تحالف. وارتفعت أسعار القمح."

    def embed(texts):  # claim ~ first sentence only
        return np.array([[1.0, 0.0] if ("treaty" in t or "معاهدة" in t) else [0.0, 1.0] for t in texts])

    ev, p = _stub_evidence(doc, embed)
    a = align("The two countries signed an alliance treaty", p, ev, cross_lingual=True)
    assert doc[a.start:a.end] == "وقعت الدولتان معاهدة تحالف." and a.score == 1.0


def test_check_answer_renumbers_in_order_of_appearance():
    doc = "الجملة عن المطر الغزير في المدينة. الجملة عن الرياح القوية في الساحل."
    ev, p = _stub_evidence(doc)
    q = Passage("e.txt", "e", "e.txt#0", "لا شيء هنا عن ذلك", 0, 17, 0.5)
    ev2 = Evidence(doc_text=lambda d: doc if d == "d.txt" else "لا شيء هنا عن ذلك", stems=ev.stems, idf=ev.idf,
                   sentences=ev.sentences, corpus_arabic=True)
    params = GenerativeParams()
    out = check_answer("هبت رياح قوية على الساحل [2]. وهطل مطر غزير في المدينة [2][9].", [q, p], ev2, params)
    assert out.problem == "" and out.text == "هبت رياح قوية على الساحل [1]. وهطل مطر غزير في المدينة [2]."
    assert [c.quote for c in out.citations] == ["الجملة عن الرياح القوية في الساحل.",
                                                "الجملة عن المطر الغزير في المدينة."]
    assert out.dropped_markers == 1  # [9]: no such passage
    assert check_answer("هبت رياح قوية على الساحل.", [q, p], ev2, params).problem == "no-citation"
    assert check_answer("NO_ANSWER", [q, p], ev2, params).problem == "no-answer"
    assert check_answer("هبت رياح قوية على الساحل [1].", [q, p], ev2, params).problem == "unsupported"
    # A lead-in line and a trailing list of sources are neither claims nor removals.
    out = check_answer("وفقاً للمقاطع:\n- هبت رياح قوية على الساحل [2]\n\n**المصادر:**\n[2] عنوان", [q, p], ev2, params)
    assert (out.text, out.dropped) == ("- هبت رياح قوية على الساحل [1]", 0)
    # A removed first part leaves no dangling comma.
    out = check_answer("فاز فريق برشلونة بالدوري الإسباني [2]، وهبت رياح قوية على الساحل [2].", [q, p], ev2,
                       GenerativeParams(min_supported_share=0.3))
    assert (out.text, out.dropped) == ("وهبت رياح قوية على الساحل [1].", 1)


def test_a_claim_drawing_on_two_passages_is_checked_on_both():
    from qa.generative import Evidence

    doc1 = "الجملة عن المطر الغزير في المدينة. الجملة عن الرياح القوية في الساحل."
    doc2 = "ارتفعت درجات الحرارة في الصحراء. وانخفضت الرطوبة كثيرا."
    ev1, p1 = _stub_evidence(doc1)
    ev2, _ = _stub_evidence(doc2)
    p2 = Passage("e.txt", "e", "e.txt#0", doc2, 0, len(doc2), 0.5)
    ev = Evidence(doc_text=lambda d: doc1 if d == "d.txt" else doc2, stems=ev1.stems, idf=ev1.idf,
                  sentences={"d.txt#0": ev1.sentences["d.txt#0"], "e.txt#0": ev2.sentences["d.txt#0"]})
    params = GenerativeParams()
    # Markers inside a sentence cite its parts.
    out = check_answer("ارتفعت درجات الحرارة في الصحراء [2]، وهطل مطر غزير في المدينة [1].", [p1, p2], ev, params)
    assert out.text == "ارتفعت درجات الحرارة في الصحراء [1]، وهطل مطر غزير في المدينة [2]."
    assert [c.doc_id for c in out.citations] == ["e.txt", "d.txt"]
    # One sentence, two sources: each adds what the other lacks.
    out = check_answer("هطل مطر غزير في المدينة وارتفعت درجات الحرارة في الصحراء [1][2].", [p1, p2], ev, params)
    assert out.text.endswith("[1][2].") and len(out.citations) == 2
    # ... but a second citation does not rescue a claim half made up.
    out = check_answer("هطل مطر غزير في المدينة وفاز برشلونة بالدوري الإسباني [1][2].", [p1, p2], ev, params)
    assert out.problem == "unsupported"


# ------------------------------------------------------------------ the engine with fake chat models
def test_valid_citations_are_aligned_with_exact_offsets(shipped_engine, treaty):
    base, nt, nh = treaty
    fake = Recording(responses=[f"{CLAIM_TREATY} [{nt}]. {CLAIM_HERITAGE} [{nh}]."])
    eng = shipped_engine.with_llm(fake)
    ans = eng.ask(Q_TREATY)
    assert ans.model and not ans.abstained and not ans.notice
    assert ans.answer == f"{CLAIM_TREATY} [1]. {CLAIM_HERITAGE} [2]."
    assert TREATY_SENTENCE in ans.citations[0].quote and HERITAGE_SENTENCE in ans.citations[1].quote
    assert all(c.score >= 0.5 for c in ans.citations)
    d = ans.to_dict()
    check_citations(d, shipped_engine)
    assert d["model"] == ans.model and d["passages"] == base.to_dict()["passages"]
    assert {"generate", "retrieve", "answer", "total"} <= set(d["timing_ms"])
    # What the model was given: the question and the numbered passages, with the rules.
    system, user = fake.seen[0][0].content, user_prompt(fake.seen[0])
    assert "ONLY the numbered passages" in system and "[1]" in system and "language of the question" in system
    assert f"Question: {Q_TREATY}" in user
    for i, p in enumerate(base.passages, 1):
        assert f"[{i}] ({p.title}" in user
    # The session engine itself is untouched.
    assert shipped_engine.llm is None and shipped_engine.ask(Q_TREATY).model == ""


def test_hallucinated_citations_are_dropped(shipped_engine, treaty):
    _, nt, nh = treaty
    fake = FakeListChatModel(responses=[f"{CLAIM_TREATY} [{nt}][7]. {CLAIM_HERITAGE} [{nh}]. "
                                        f"{CLAIM_FALSE} [{nt}]."])
    ans = shipped_engine.with_llm(fake).ask(Q_TREATY)
    assert ans.model, ans.notice
    assert ans.answer == f"{CLAIM_TREATY} [1]. {CLAIM_HERITAGE} [2]."  # [7] gone, Barcelona gone
    assert "برشلونة" not in ans.answer and "1" in ans.notice  # "1 sentence removed"
    check_citations(ans.to_dict(), shipped_engine)


@pytest.mark.parametrize("reply, why", [
    (f"{CLAIM_TREATY}.", "no citation"),
    (f"{CLAIM_TREATY} [7].", "only a passage that was not given"),
    (f"{CLAIM_FALSE} [1]. فازت البرازيل بكأس العالم [2].", "citations that do not support it"),
    ("NO_ANSWER", "the model found nothing"),
    ("", "empty output"),
])
def test_unsupported_answers_fall_back_to_the_extractive_answer(shipped_engine, treaty, reply, why):
    base = treaty[0]
    ans = shipped_engine.with_llm(FakeListChatModel(responses=[reply])).ask(Q_TREATY)
    assert ans.model == "" and ans.notice, why
    assert (ans.answer, ans.citations, ans.abstained) == (base.answer, base.citations, base.abstained)
    assert "extractive" in ans.notice or "مستخرجة" in ans.notice
    d = ans.to_dict()
    assert d["notice"] == ans.notice and "model" not in d
    check_citations(d, shipped_engine)


def test_languages_an_english_question_is_checked_across_languages(shipped_engine, treaty):
    # Arabic question, English answer: not what was asked for.
    nt = treaty[1]
    wrong = shipped_engine.with_llm(FakeListChatModel(responses=[
        f"The alliance treaty between Azerbaijan and Uzbekistan was signed last month [{nt}]."])).ask(Q_TREATY)
    assert wrong.model == "" and "language" in wrong.notice
    # English question over the Arabic corpus: English claims are aligned by embedding,
    # and a number the quote does not hold sinks a claim.
    qe = "When was the alliance treaty between Azerbaijan and Uzbekistan signed?"
    n = number_of(shipped_engine.ask(qe).passages, TREATY_SENTENCE)
    good = ("The alliance treaty between Azerbaijan and Uzbekistan was signed last month and "
            f"formalises their growing strategic partnership [{n}].")
    ans = shipped_engine.with_llm(FakeListChatModel(responses=[good])).ask(qe)
    assert ans.model and TREATY_SENTENCE in ans.citations[0].quote, ans.notice
    check_citations(ans.to_dict(), shipped_engine)
    bad = f"Turkey and Uzbekistan agreed to strengthen ties in 2017 [{n}]."
    assert shipped_engine.with_llm(FakeListChatModel(responses=[bad])).ask(qe).model == ""


def test_when_the_extractive_answer_abstains_the_model_may_still_answer(shipped_engine, treaty):
    from dataclasses import replace

    _, nt, _ = treaty

    def abstaining(model, **generative):
        eng = shipped_engine.with_llm(model)
        eng.settings = eng.settings.with_(answer=replace(eng.settings.answer, abstain_below=1.01),
                                          generative=replace(eng.settings.generative, **generative))
        return eng

    ans = abstaining(FakeListChatModel(responses=[f"{CLAIM_TREATY} [{nt}]."])).ask(Q_TREATY)
    assert not ans.abstained and ans.model and ans.citations
    ans = abstaining(FakeListChatModel(responses=["NO_ANSWER"])).ask(Q_TREATY)
    assert ans.abstained and ans.citations == [] and "مستخرجة" not in ans.notice and ans.notice
    fake = Recording(responses=[f"{CLAIM_TREATY} [{nt}]."])
    ans = abstaining(fake, answer_when_abstained=False).ask(Q_TREATY)
    assert ans.abstained and not ans.notice and fake.seen == []


def test_a_failing_model_falls_back_with_a_notice(shipped_engine, treaty):
    fake = Recording(responses=["x"], fail={0})
    ans = shipped_engine.with_llm(fake).ask(Q_TREATY)
    assert ans.answer == treaty[0].answer and "could not connect" in ans.notice


def test_generative_false_and_no_model_answer_extractively(shipped_engine, treaty):
    fake = Recording(responses=["x"])
    ans = shipped_engine.with_llm(fake).ask(Q_TREATY, generative=False)
    assert ans.answer == treaty[0].answer and not ans.notice and fake.seen == []
    items = list(shipped_engine.ask_stream(Q_TREATY))
    assert len(items) == 1 and isinstance(items[0], Answer) and items[0].answer == treaty[0].answer


def test_streaming_yields_drafts_then_the_checked_answer(shipped_engine, treaty):
    _, nt, nh = treaty
    raw = f"{CLAIM_TREATY} [{nt}]. {CLAIM_HERITAGE} [{nh}][9]."
    fake = GenericFakeChatModel(messages=iter([AIMessage(content=raw)]))
    items = list(shipped_engine.with_llm(fake).ask_stream(Q_TREATY))
    drafts, final = items[:-1], items[-1]
    assert len(drafts) > 5 and all(isinstance(d, str) for d in drafts)
    assert all(b.startswith(a) for a, b in zip(drafts, drafts[1:])), "drafts grow"
    assert drafts[-1] == raw
    assert isinstance(final, Answer) and final.answer == f"{CLAIM_TREATY} [1]. {CLAIM_HERITAGE} [2]."
    check_citations(final.to_dict(), shipped_engine)
    # A stream that fails half-way still ends with one Answer: the extractive one.
    broken = Recording(responses=["x"], fail={0})
    items = list(shipped_engine.with_llm(broken).ask_stream(Q_TREATY))
    assert len(items) == 1 and items[0].answer == treaty[0].answer and items[0].notice


def test_followups_are_rewritten_by_the_model(shipped_engine):
    first = shipped_engine.ask(Q_BERLIK)
    n = number_of(first.passages, "بيرليك 2025")
    rewritten = "من شارك في مناورات بيرليك 2025؟"
    fake = Recording(responses=[
        f"مناورات بيرليك 2025 تدريبات عسكرية مشتركة انطلقت في أوزبكستان [{n}].",  # turn 1
        f"السؤال: «{rewritten}»",  # the rewrite (label and quotes are stripped)
        "NO_ANSWER",  # turn 2 (-> the extractive answer to the rewritten question)
    ])
    conv = shipped_engine.with_llm(fake).conversation()
    a1 = conv.ask(Q_BERLIK)
    assert a1.model and "[1]" in a1.answer
    a2 = conv.ask("ومن شارك فيها؟")
    assert a2.question == "ومن شارك فيها؟", "the user's own question is kept"
    assert conv.turns[-1].context == rewritten, "the turn records what was searched"
    assert "بيرليك" in a2.passages[0].text
    rewrite_prompt = user_prompt(fake.seen[1])
    assert Q_BERLIK in rewrite_prompt and "ومن شارك فيها؟" in rewrite_prompt
    assert "[1]" not in rewrite_prompt, "markers are stripped from the history"
    answer_prompt = user_prompt(fake.seen[2])
    assert f"Question: {rewritten}" in answer_prompt and "Conversation so far" in answer_prompt
    assert conv.history()[0] == (Q_BERLIK, a1.answer)


def test_a_failed_rewrite_keeps_the_keyword_context(shipped_engine):
    fake = Recording(responses=["NO_ANSWER"], fail={1})
    conv = shipped_engine.with_llm(fake).conversation()
    conv.ask(Q_BERLIK)
    a2 = conv.ask("ومن شارك فيها؟")
    assert conv.turns[-1].context == Q_BERLIK  # the keyword behaviour of qa.chat
    assert a2.question == "ومن شارك فيها؟" and a2.passages


def test_conversation_streams_and_records_the_turn(shipped_engine, treaty):
    _, nt, _ = treaty
    fake = FakeListChatModel(responses=[f"{CLAIM_TREATY} [{nt}]."])
    conv = shipped_engine.with_llm(fake).conversation()
    items = list(conv.ask_stream(Q_TREATY))
    assert isinstance(items[-1], Answer) and items[-1].model
    assert len(conv.turns) == 1 and conv.turns[0].answer is items[-1]


# ------------------------------------------------------------------ a real OpenAI-compatible server
class FakeOpenAIServer:
    """/v1/chat/completions on 127.0.0.1: canned JSON, or SSE when asked to stream
    (and Ollama's /api/chat, NDJSON).
    `reply` is a str or a function of the request body; `raw` replaces the body;
    `delay` makes it sleep before answering (interrupted at close)."""

    def __init__(self) -> None:
        self.reply: object = "NO_ANSWER"
        self.raw: bytes | None = None
        self.delay = 0.0
        self.requests: list[dict] = []
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, **body})
                if server.delay:
                    server._closing.wait(server.delay)
                try:
                    if self.path == "/api/chat":  # Ollama's API: NDJSON lines
                        self._ollama(body, server.reply(body) if callable(server.reply) else server.reply)
                    elif not self.path.endswith("/chat/completions"):
                        self.send_error(404)
                    elif server.raw is not None:
                        self._send(server.raw)
                    else:
                        text = server.reply(body) if callable(server.reply) else server.reply
                        (self._stream if body.get("stream") else self._complete)(body, text)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _send(self, data: bytes, ctype: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _complete(self, body, text):
                self._send(json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }, ensure_ascii=False).encode())

            def _stream(self, body, text):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                for i, w in enumerate(words):
                    delta = {"content": w if i == 0 else " " + w}
                    if i == 0:
                        delta["role"] = "assistant"
                    self._event({"id": "c", "object": "chat.completion.chunk", "created": 0,
                                 "model": body.get("model"),
                                 "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                self._event({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _ollama(self, body, text):
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                head = {"model": body.get("model"), "created_at": "2025-01-01T00:00:00Z"}
                for i, w in enumerate(text.split(" ")):
                    line = {**head, "message": {"role": "assistant", "content": w if i == 0 else " " + w},
                            "done": False}
                    self.wfile.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                end = {**head, "message": {"role": "assistant", "content": ""}, "done": True,
                       "done_reason": "stop", "eval_count": 5, "prompt_eval_count": 5}
                self.wfile.write(json.dumps(end).encode() + b"\n")
                self.wfile.flush()

            def _event(self, obj):
                self.wfile.write(f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeOpenAIServer()
    try:
        yield s
    finally:
        s.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def openai_engine(shipped_home, url: str, timeout: float = 10.0):
    from qa.engine import Isnad

    settings = Settings.from_env(home=shipped_home, llm="openai:fake", llm_url=url, llm_timeout=timeout)
    return Isnad.open(settings, build_if_missing=False)


def good_reply(treaty):
    _, nt, nh = treaty
    return f"{CLAIM_TREATY}. [{nt}]\n{CLAIM_HERITAGE} [{nh}]."


def test_openai_endpoint_good_answer(shipped_home, shipped_engine, treaty, server):
    server.reply = good_reply(treaty)
    eng = openai_engine(shipped_home, server.url)
    assert eng.llm_label == "openai:fake" and eng.info()["llm"] == "openai:fake"
    ans = eng.ask(Q_TREATY)
    assert ans.model == "openai:fake" and not ans.notice
    assert ans.answer == f"{CLAIM_TREATY} [1].\n{CLAIM_HERITAGE} [2]."
    check_citations(ans.to_dict(), shipped_engine)
    req = server.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["model"] == "fake" and not req.get("stream")
    assert req["temperature"] == 0 and req["max_tokens"] == 600
    assert [m["role"] for m in req["messages"]] == ["system", "user"]
    assert Q_TREATY in req["messages"][1]["content"]


def test_openai_endpoint_streams_over_sse(shipped_home, shipped_engine, treaty, server):
    server.reply = good_reply(treaty)
    items = list(openai_engine(shipped_home, server.url).ask_stream(Q_TREATY))
    assert server.requests[-1]["stream"] is True
    drafts, final = items[:-1], items[-1]
    assert len(drafts) >= 5 and all(isinstance(d, str) for d in drafts)
    assert drafts[-1] == good_reply(treaty)
    assert isinstance(final, Answer) and final.model == "openai:fake"
    assert final.answer == f"{CLAIM_TREATY} [1].\n{CLAIM_HERITAGE} [2]."
    check_citations(final.to_dict(), shipped_engine)


@pytest.mark.parametrize("raw", [b"this is not json", b'{"choices": null}', b'{"choices": []}'])
def test_openai_endpoint_malformed_output(shipped_home, shipped_engine, treaty, server, raw):
    server.raw = raw
    ans = openai_engine(shipped_home, server.url).ask(Q_TREATY)
    assert ans.answer == treaty[0].answer and ans.model == ""
    assert "malformed" in ans.notice, ans.notice
    check_citations(ans.to_dict(), shipped_engine)


def test_openai_endpoint_timeout_falls_back_quickly(shipped_home, treaty, server):
    server.delay = 30.0
    eng = openai_engine(shipped_home, server.url, timeout=0.5)
    t0 = time.monotonic()
    ans = eng.ask(Q_TREATY)
    items = list(eng.ask_stream(Q_TREATY))
    took = time.monotonic() - t0
    assert took < 12, f"took {took:.1f} s"  # 2 calls x (1 try + 1 retry) x 0.5 s, plus load
    for a in (ans, items[-1]):
        assert a.answer == treaty[0].answer and "0.5 s" in a.notice, a.notice
    assert len(items) == 1


def test_refused_connection_falls_back(shipped_home, treaty):
    eng = openai_engine(shipped_home, f"http://127.0.0.1:{closed_port()}/v1", timeout=5)
    t0 = time.monotonic()
    ans = eng.ask(Q_TREATY)
    assert time.monotonic() - t0 < 10
    assert ans.answer == treaty[0].answer and "could not connect" in ans.notice
    conv = eng.conversation()
    conv.ask(Q_TREATY)
    follow = conv.ask("ومتى وقعت؟")  # the rewrite fails too: keyword context, no hang
    assert conv.turns[-1].context == Q_TREATY and follow.notice


def test_cli_ask_with_llm_flag(shipped_home, shipped_engine, treaty, server, capsys):
    from ui.cli import main

    server.reply = good_reply(treaty)
    code = main(["ask", Q_TREATY, "--home", str(shipped_home), "--llm", "openai:fake",
                 "--llm-url", server.url, "--json"])
    out = capsys.readouterr().out
    assert code == 0, capsys.readouterr().err
    d = json.loads(out)
    assert d["model"] == "openai:fake" and "notice" not in d
    assert d["answer"] == f"{CLAIM_TREATY} [1].\n{CLAIM_HERITAGE} [2]."
    check_citations(d, shipped_engine)


def test_ollama_endpoint_through_chat_ollama(shipped_home, shipped_engine, treaty, server):
    from qa.engine import Isnad

    server.reply = good_reply(treaty)
    base = server.url.removesuffix("/v1")
    eng = Isnad.open(Settings.from_env(home=shipped_home, llm="ollama:qwen2.5:7b-instruct", llm_url=base,
                                       llm_timeout=10), build_if_missing=False)
    ans = eng.ask(Q_TREATY)
    assert ans.model == "ollama:qwen2.5:7b-instruct", ans.notice
    assert ans.answer == f"{CLAIM_TREATY} [1].\n{CLAIM_HERITAGE} [2]."
    check_citations(ans.to_dict(), shipped_engine)
    req = server.requests[-1]
    assert req["path"] == "/api/chat" and req["model"] == "qwen2.5:7b-instruct"
    assert req["options"]["temperature"] == 0 and req["options"]["num_predict"] == 600
    items = list(eng.ask_stream(Q_TREATY))
    assert len(items) > 3 and items[-1].answer == ans.answer


def test_cli_environment_and_bad_spec(shipped_home, treaty, server, capsys, monkeypatch):
    from ui.cli import main

    monkeypatch.setenv("ISNAD_LLM", "openai:fake")
    monkeypatch.setenv("ISNAD_LLM_URL", f"http://127.0.0.1:{closed_port()}/v1")
    assert main(["ask", Q_TREATY, "--home", str(shipped_home)]) == 0
    out = capsys.readouterr().out
    from qa.answerer import as_prose

    # the notice, then the answer (a quote's own footnote marks [4] print as (4))
    assert "could not connect" in out and as_prose(treaty[0].citations[0].quote) in out
    assert main(["ask", Q_TREATY, "--home", str(shipped_home), "--llm", "gpt4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("isnad: error:") and "PROVIDER:MODEL" in err and "Traceback" not in err
