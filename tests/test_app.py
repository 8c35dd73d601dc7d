"""The Gradio app: HTML rendering (escaping, quote marks), the chat controller
(follow-ups, errors, the document viewer's doc_id check) and the real app served on
a loopback port, driven with gradio_client through its `/ask` endpoint."""
from __future__ import annotations

import html
from dataclasses import replace
import re
import threading

import pytest

from qa.engine import QuestionError, clean_question
from qa.settings import MAX_QUESTION_CHARS
from qa.types import Answer, Citation, Passage
from tests.app_server import XSS, app_engine, running_app  # noqa: F401  (app_engine: a fixture)
from ui import app_render as R
from ui import app_viewer as V
from ui.app import ChatController, Session, build_app

Q_TREATY = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"
Q_BERLIK = "ما هي مناورات بيرليك 2025؟"
Q_SMART = "ما المقصود بالقوة الذكية التركية؟"
# A model's answer to Q_TREATY that passes Isnad's checks (paraphrases of two sentences
# of the corpus, see tests/test_generative.py), and a claim the corpus does not support.
TREATY_SENTENCE = "تُضفي معاهدة التحالف التي وُقِّعَت الشهر الماضي"
HERITAGE_SENTENCE = "إلى إرثٍ ثقافيٍ وتاريخيٍ مشتركٍ"
CLAIM_TREATY = ("وُقّعت معاهدة التحالف بين أذربيجان وأوزبكستان قبل شهر من نشر التقرير، "
                "وهي تضفي طابعاً رسمياً على شراكتهما الاستراتيجية")
CLAIM_HERITAGE = "وتستند العلاقة بين البلدين إلى إرث ثقافي وتاريخي مشترك"
CLAIM_FALSE = "وقد فاز فريق برشلونة بالدوري الإسباني لكرة القدم"


def last(steps):
    """The chat controller's last step (it is a generator: drafts, then the answer)."""
    out = None
    for out in steps:
        pass
    return out


def steps_of(respond) -> list[tuple]:
    """Every step of the chat controller, with the chat messages as they were at that
    step (the controller updates one list in place)."""
    return [(box, [dict(m) for m in history], session, panel) for box, history, session, panel in respond]


def strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def marked(fragment: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", fragment, re.S)]


def with_fake_llm(engine, *replies: str):
    """`engine` answering with a fake LangChain chat model that streams `replies`, one
    per model call, word by word."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    return engine.with_llm(chat_model=GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies])))


def passage_number(passages, needle: str) -> int:
    """The [n] the model sees for the passage holding `needle`."""
    for i, p in enumerate(passages, 1):
        if needle in p.text:
            return i
    raise AssertionError(f"no passage holds {needle!r}")


def good_treaty_reply(engine, k: int = 5) -> str:
    passages = engine.ask(Q_TREATY, k=k).passages
    nt, nh = passage_number(passages, TREATY_SENTENCE), passage_number(passages, HERITAGE_SENTENCE)
    return f"{CLAIM_TREATY} [{nt}]. {CLAIM_HERITAGE} [{nh}]."


def check_citations(answer: dict, engine) -> None:
    """The Answer JSON's citation contract, checked mechanically."""
    assert set(answer) >= {"question", "answer", "abstained", "citations", "passages", "timing_ms"}
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])]
    numbers = [c["n"] for c in answer["citations"]]
    assert len(numbers) == len(set(numbers)), "each [n] has exactly one citation"
    assert set(markers) == set(numbers), "every marker resolves, every citation is used"
    passages = {p["chunk_id"]: p for p in answer["passages"]}
    for c in answer["citations"]:
        doc = engine.document_text(c["doc_id"])
        assert doc[c["start"]:c["end"]] == c["quote"], c
        p = passages.get(c["chunk_id"])
        base = p["start"] if p else c["start"] - c["text"].find(c["quote"])
        assert c["text"][c["start"] - base:c["end"] - base] == c["quote"]
        assert doc[base:base + len(c["text"])] == c["text"]


# ------------------------------------------------------------------ rendering (pure)
def _answer(text="جملة أولى [1] وجملة ثانية [2].", abstained=False) -> Answer:
    doc = "مقدمة. <b>عنوان</b>\n\nهذه الجملة المقتبسة <script>x()</script> هنا. وبعدها كلام."
    quote = "هذه الجملة المقتبسة <script>x()</script> هنا."
    qs = doc.index(quote)
    p = Passage("d.txt", "عنوان <i>مائل</i>", "d.txt#0", doc[7:], 7, len(doc), 0.9, "قسم <u>")
    cites = [] if abstained else [
        Citation(1, "d.txt", p.title, p.chunk_id, quote, p.text, qs, qs + len(quote), 0.9, p.section),
        Citation(2, "d.txt", p.title, p.chunk_id, "وبعدها كلام.", p.text, len(doc) - 12, len(doc), 0.9),
    ]
    other = Passage("e.txt", "أخرى", "e.txt#3", "نص آخر", 100, 106, 0.3, "")
    return Answer("سؤال <b>؟", text, abstained, cites, [p, other], {"total": 12.0})


def test_quote_span_and_highlight_mark_the_quote():
    a = _answer()
    for c in a.citations:
        s, e = R.quote_span(c, a.passages)
        assert c.text[s:e] == c.quote
        out = R.highlight(c.text, s, e)
        assert marked(out) == [c.quote]
    out = R.highlight(a.citations[0].text, *R.quote_span(a.citations[0], a.passages))
    assert "<script" not in out and "<b>" not in out and "&lt;script&gt;" in out


def test_quote_span_falls_back_to_the_text_when_the_passage_is_unknown():
    c = _answer().citations[0]
    assert c.text[slice(*R.quote_span(c, []))] == c.quote


def test_answer_bubble_resolves_markers_and_escapes():
    a = _answer(text="الجواب <img src=x onerror=alert(1)> [1] ثم [2] و[7].\n\nسطر")
    out = R.answer_bubble(a, turn=3)
    assert "isnad-ref isnad-ref-3-1" in out and "isnad-ref isnad-ref-3-2" in out
    assert "[7]" in out and "isnad-ref-3-7" not in out  # an unknown marker stays plain text
    assert "<img" not in out and "&lt;img" in out
    assert "\n" not in out  # a raw (blank) line would end the chat's HTML block
    assert 'dir="rtl"' in out and "isnad-abstain" not in out


def test_abstention_looks_like_one():
    a = _answer(text="لا تتضمن الوثائق المتاحة إجابة عن هذا السؤال.", abstained=True)
    out = R.answer_bubble(a, turn=0)
    assert "isnad-abstain" in out and "isnad-ref" not in out and "⚠" in out
    assert "لا تتضمن الوثائق المتاحة" in strip_tags(out)
    panel = R.sources_html(a, 0, show_all=False)
    assert "isnad-card" not in panel and "لا مصادر" in panel
    assert panel.count("isnad-card") == 0
    assert R.sources_html(a, 0, show_all=True).count('<article class="isnad-card') == 2


def test_notice_model_and_drafts_are_escaped_and_visible():
    from dataclasses import replace

    a = replace(_answer(), notice="تعذّر <b>x</b> الحصول على إجابة من النموذج.\n\nسطر", model="fake:<i>m</i>")
    out = R.answer_bubble(a, turn=0)
    assert "isnad-notice" in out and "⚠" in out
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "\n" not in out
    assert "كتبه fake:<i>m</i>، وتحقق إسناد من مصادره" in strip_tags(out)
    assert "<i>m</i>" not in out
    plain = R.answer_bubble(_answer(), turn=0)  # extractive, nothing noticed: neither line
    assert "isnad-notice" not in plain and "isnad-by" not in plain and "كتبه" not in plain
    abstained = R.answer_bubble(replace(_answer(abstained=True), notice="لم يجد النموذج الإجابة."), 0)
    assert "isnad-abstain" in abstained and "لم يجد النموذج الإجابة." in strip_tags(abstained)
    draft = R.draft_bubble("مسودة " + XSS + "\n\nبقية [1]", "fake:<m>")
    assert "isnad-draft" in draft and "لم يُتحقق منها" in draft and "\n" not in draft
    assert "<script" not in draft and "<img" not in draft and "<m>" not in draft
    assert XSS in strip_tags(draft) and "isnad-ref" not in draft  # a draft's [n] are not links yet
    assert "isnad-answer" not in draft and "isnad-answer" not in R.pending_bubble("m")


def test_user_bubble_escapes_script_and_img():
    out = R.user_bubble(XSS + "\n\nسطر ثان")
    assert "<script" not in out and "<img" not in out
    assert strip_tags(out).startswith(XSS)
    assert "\n" not in out
    long = R.user_bubble("س" * 5000)
    assert len(long) < 1000


def test_sources_panel_cited_only_or_all():
    a = _answer()
    cited = R.sources_html(a, 0, show_all=False)
    assert cited.count('<article class="isnad-card cited"') == 2
    assert "e.txt" not in cited
    assert marked(cited) == [c.quote for c in a.citations]
    every = R.sources_html(a, 0, show_all=True)
    assert every.count('<article class="isnad-card') == 3 and "e.txt" in every
    for panel in (cited, every):
        assert "<script" not in panel and "<i>" not in panel and "<u>" not in panel
        assert 'data-open="cite:0:1"' in panel
        assert 'id="isnad-src-0-1"' in panel
    assert 'data-open="passage:0:1"' in every
    # the copy text is plain (escaped in the page, unescaped by the browser)
    assert "[1] عنوان <i>مائل</i>" in R.plain_text(a)


def test_document_view_marks_and_escapes():
    text = "أول <script>alert(1)</script>\n\n\n\nالاقتباس هنا. آخر <img src=x onerror=y>"
    qs = text.index("الاقتباس")
    view = V.DocView("d.txt", "<b>t</b>", text, qs, qs + len("الاقتباس هنا."), 0, len(text), "[1]")
    out = V.document_html(view)
    assert "<script" not in out and "<img" not in out
    assert marked(out) == ["الاقتباس هنا."]
    assert '<mark id="isnad-doc-mark">' in out
    head = V.document_header_html(view, {"source": "<x>", "language": "ar"})
    assert "<b>t</b>" not in head and "&lt;b&gt;t&lt;/b&gt;" in head and "العربية" in head
    plain = V.document_html(V.DocView("d.txt", "t", text))
    assert "<mark" not in plain and "&lt;script&gt;" in plain


def test_documents_table_and_status_escape():
    class Doc:
        doc_id = 'evil"<x>.txt'
        title = "<img src=x onerror=alert(1)>"
        source, date, language, n_chunks = "<b>s</b>", None, "ar", 3

    out = V.documents_table_html([Doc()])
    assert "<img" not in out and "<b>s</b>" not in out and "<x>" not in out
    assert 'data-open="doc:evil&quot;&lt;x&gt;.txt"' in out
    status = V.index_status_html({"documents": 1, "chunks": 3, "embedder": "<e>", "skipped": {"a<b": "why"}})
    assert "<e>" not in status and "a<b" not in status


@pytest.mark.parametrize("question, expect", [
    ("", "فارغ"), ("   \n ", "فارغ"), ("؟؟ !!", "كلمات"), ("س" * (MAX_QUESTION_CHARS + 1), "طويل"),
])
def test_friendly_errors_for_every_question_error(question, expect):
    with pytest.raises(QuestionError) as err:
        clean_question(question)
    assert expect in R.friendly_error(str(err.value))


# ------------------------------------------------------------------ controller (engine)
@pytest.fixture(scope="module")
def ctl(app_engine) -> ChatController:
    return ChatController(app_engine)


def test_chat_answers_with_sources_and_marks(ctl, app_engine):
    out_msg, history, session, panel = last(ctl.respond(Q_BERLIK, None, 5, False))
    assert out_msg == "" and isinstance(session, Session)
    assert [m["role"] for m in history] == ["user", "assistant"]
    a = session.answers[0]
    assert not a.abstained and a.citations
    check_citations(a.to_dict(), app_engine)
    assert "isnad-ref isnad-ref-0-1" in history[1]["content"]
    quotes = [" ".join(c.quote.split()) for c in a.citations]
    assert [" ".join(m.split()) for m in marked(panel)] == quotes
    assert panel.count('<article class="isnad-card cited"') == len(a.citations)


def test_chat_follow_up_uses_the_conversation_and_reset_forgets_it(ctl):
    _, _, session, _ = last(ctl.respond(Q_TREATY, None, 5, False))
    _, history, session, _ = last(ctl.respond("ومتى وقعت؟", session, 5, False))
    assert session.conversation.turns[-1].context  # searched together with the first question
    assert session.followups == [False, True]
    assert "سؤال متابعة" in history[-1]["content"]
    store = None
    for i, _a in enumerate(session.answers):  # what the app keeps in the browser
        store, _ = ctl.keep(store, replace(session, answers=session.answers[:i + 1],
                                           followups=session.followups[:i + 1],
                                           contexts=session.contexts[:i + 1]), "ar")
    session, history, panel, store, _list, box = ctl.new_conversation(store)
    assert session.answers == [] and history == [] and panel == R.SOURCES_EMPTY and box == ""
    _, _, fresh, _ = last(ctl.respond("ومتى وقعت؟", session, 5, False))
    assert fresh.conversation.turns[-1].context == ""
    assert fresh.followups == [False]


@pytest.mark.parametrize("question, expect", [
    ("", "فارغ"), ("س" * (MAX_QUESTION_CHARS + 5), "طويل"), ("؟!", "كلمات"),
])
def test_chat_errors_are_friendly_bubbles(ctl, question, expect):
    import gradio as gr

    _, history, session, panel = last(ctl.respond(question, None, 5, False))
    assert history[-1]["role"] == "assistant"
    assert "isnad-error" in history[-1]["content"] and expect in history[-1]["content"]
    assert "Traceback" not in history[-1]["content"]
    assert isinstance(panel, type(gr.skip())) and session.answers == []


def test_chat_unexpected_failure_is_not_a_traceback(ctl, monkeypatch):
    session = ctl.new_session()
    monkeypatch.setattr(session.conversation, "ask_stream", lambda *a, **k: iter([1 / 0]))
    _, history, _, _ = last(ctl.respond("سؤال", session, 5, False))
    assert "isnad-error" in history[-1]["content"] and "ZeroDivision" not in history[-1]["content"]


def test_chat_question_with_markup_is_shown_as_text(ctl):
    _, history, _, _ = last(ctl.respond("ما هي مناورات بيرليك؟ " + XSS, None, 5, False))
    user = history[0]["content"]
    assert "<script" not in user and "<img" not in user and XSS in strip_tags(user)
    for m in history:
        assert "<script" not in m["content"]


def test_show_all_and_selecting_an_earlier_answer(ctl):
    _, _, session, _ = last(ctl.respond(Q_BERLIK, None, 8, False))
    _, history, session, _ = last(ctl.respond(Q_SMART, session, 8, False))
    a0 = session.answers[0]
    panel = ctl.select_message(session, False, 1)  # the first answer's message
    assert session.shown == 0 and f"«{html.escape(a0.question)}»" in panel
    every = ctl.sources(session, True)
    uncited = {p.chunk_id for p in a0.passages} - {c.chunk_id for c in a0.citations}
    assert every.count('<article class="isnad-card') == len(a0.citations) + len(uncited)
    assert len(a0.passages) == 8


def test_document_viewer_opens_only_indexed_documents(ctl, app_engine):
    doc_id = app_engine.documents()[0].doc_id
    view = ctl.resolve_open(f"doc:{doc_id}", None)
    assert view is not None and view.text == app_engine.document_text(doc_id)
    for bad in ("doc:../../../../etc/passwd", "doc:/etc/passwd", f"doc:{doc_id}/..", "doc:",
                "file:/etc/passwd", "cite:0:1", "cite:x:y", "", None, 42, {"open": "doc:x"}):
        assert ctl.resolve_open(bad, None) is None, bad
    _, _, session, _ = last(ctl.respond(Q_SMART, None, 5, False))
    c = session.answers[0].citations[0]
    view = ctl.resolve_open(f"cite:0:{c.n}", session)
    assert (view.doc_id, view.start, view.end) == (c.doc_id, c.start, c.end)
    assert view.text[view.passage_start:view.passage_end] == c.text
    out = V.document_html(view)
    assert " ".join(marked(out)[0].split()) == " ".join(c.quote.split())
    assert ctl.resolve_open("cite:0:99", session) is None
    assert ctl.resolve_open("cite:5:1", session) is None
    assert ctl.resolve_open("passage:0:99", session) is None
    assert ctl.resolve_open("passage:0:1", session).start == -1
    modal, head, body = ctl.open_document(f"cite:0:{c.n}", session)
    assert 'id="isnad-doc-mark"' in body and html.escape(c.title) in head


# ------------------------------------------------------------------ controller with a language model
def test_generated_answer_streams_drafts_then_the_checked_answer(app_engine):
    import gradio as gr

    reply = good_treaty_reply(app_engine)
    engine = with_fake_llm(app_engine, reply)
    steps = steps_of(ChatController(engine).respond(Q_TREATY, None, 5, False, True))
    skip = type(gr.skip())
    # 1. the question and a placeholder; 2. drafts as the model writes; 3. the checked answer
    first, drafts, final = steps[0], steps[1:-1], steps[-1]
    assert "isnad-pending" in first[1][-1]["content"] and isinstance(first[3], skip)
    assert len(drafts) > 5
    texts = []
    for out_msg, history, session, panel in drafts:
        assert out_msg == "" and isinstance(panel, skip)
        assert [m["role"] for m in history] == ["user", "assistant"]  # one bubble, replaced
        bubble = history[-1]["content"]
        assert "isnad-draft" in bubble and "لم يُتحقق منها" in bubble and "isnad-answer" not in bubble
        texts.append(strip_tags(bubble.split('class="isnad-draft-text">', 1)[1]))
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:])), "drafts grow"
    assert texts[-1] == reply
    _, history, session, panel = final
    assert [m["role"] for m in history] == ["user", "assistant"]
    a = session.answers[0]
    assert a.model == engine.llm_label and not a.notice and not a.abstained
    assert a.answer == f"{CLAIM_TREATY} [1]. {CLAIM_HERITAGE} [2]."
    check_citations(a.to_dict(), app_engine)
    for c in a.citations:  # quotes verbatim at their offsets
        assert app_engine.document_text(c.doc_id)[c.start:c.end] == c.quote
    assert TREATY_SENTENCE in a.citations[0].quote and HERITAGE_SENTENCE in a.citations[1].quote
    bubble = history[-1]["content"]
    assert "isnad-answer" in bubble and "isnad-ref isnad-ref-0-2" in bubble and "isnad-draft" not in bubble
    assert f"كتبه {engine.llm_label}، وتحقق إسناد من مصادره" in strip_tags(bubble)
    assert "isnad-notice" not in bubble
    assert [" ".join(m.split()) for m in marked(panel)] == [" ".join(c.quote.split()) for c in a.citations]
    assert session.message_turn == {1: 0} and session.shown == 0


def test_generated_answer_that_fails_the_check_shows_the_notice(app_engine):
    base = app_engine.ask(Q_TREATY, k=5)
    engine = with_fake_llm(app_engine, f"{CLAIM_FALSE} [1].")
    steps = steps_of(ChatController(engine).respond(Q_TREATY, None, 5, False, True))
    assert any("isnad-draft" in s[1][-1]["content"] for s in steps[1:-1])
    _, history, session, panel = steps[-1]
    a = session.answers[0]
    assert a.model == "" and a.notice and "مستخرجة" in a.notice  # the extractive answer, said so
    assert (a.answer, a.citations) == (base.answer, base.citations)
    check_citations(a.to_dict(), app_engine)
    bubble = history[-1]["content"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "isnad-notice" in bubble and "⚠" in bubble and "isnad-draft" not in bubble
    assert " ".join(a.notice.split()) in " ".join(strip_tags(bubble).split())
    assert engine.llm_label in strip_tags(bubble)  # the notice names the model
    assert "كتبه" not in strip_tags(bubble) and "برشلونة" not in bubble
    assert marked(panel)


def test_without_a_model_the_chat_answers_in_one_step(app_engine):
    steps = steps_of(ChatController(app_engine).respond(Q_TREATY, None, 5, False, True))
    assert len(steps) == 1  # no placeholder, no drafts
    _, history, session, panel = steps[0]
    assert [m["role"] for m in history] == ["user", "assistant"] and "isnad-answer" in history[-1]["content"]
    assert session.answers[0].model == "" and marked(panel)


def test_generated_mode_off_answers_extractively_at_once(app_engine):
    engine = with_fake_llm(app_engine)  # no reply: consulting it would fail (and say so)
    steps = steps_of(ChatController(engine).respond(Q_TREATY, None, 5, False, False))
    assert len(steps) == 1
    _, history, session, _ = steps[0]
    a = session.answers[0]
    assert a.model == "" and not a.notice and a.answer == app_engine.ask(Q_TREATY, k=5).answer
    assert "isnad-notice" not in history[-1]["content"] and "كتبه" not in history[-1]["content"]


def test_generated_mode_bad_question_replaces_the_placeholder(app_engine):
    engine = with_fake_llm(app_engine)
    steps = steps_of(ChatController(engine).respond("؟!", None, 5, False, True))
    _, history, session, _ = steps[-1]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "isnad-error" in history[-1]["content"] and "كلمات" in history[-1]["content"]
    assert session.answers == [] and session.message_turn == {}
    # The empty question: no user bubble, so no placeholder either.
    _, history, _, _ = last(ChatController(engine).respond("  ", None, 5, False, True))
    assert [m["role"] for m in history] == ["assistant"] and "isnad-error" in history[0]["content"]


def _llm_checkbox(app):
    cfg = app.get_config_file()
    box = next(c for c in cfg["components"] if c["props"].get("elem_id") == "isnad-llm")
    respond = next(d for d in cfg["dependencies"] if d.get("api_name") == "respond")
    return box, respond


def test_llm_checkbox_only_with_a_model(app_engine):
    box, respond = _llm_checkbox(build_app(app_engine))
    assert box["type"] == "checkbox" and box["props"]["visible"] is False
    assert box["id"] in respond["inputs"]
    engine = with_fake_llm(app_engine)
    box, respond = _llm_checkbox(build_app(engine))
    assert box["props"]["visible"] is True and box["props"]["value"] is True
    assert box["props"]["label"] == f"إجابة مولّدة بالنموذج اللغوي ({engine.llm_label})"
    assert box["id"] in respond["inputs"]


# ------------------------------------------------------------------ served app + gradio_client
@pytest.fixture(scope="module")
def served(app_engine):
    with running_app(app_engine) as (app, url):
        yield app, url


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[1], verbose=False)


def test_client_ask_returns_the_answer_json(client, app_engine):
    for q in (Q_TREATY, Q_BERLIK, Q_SMART):
        a = client.predict(q, 5, api_name="/ask")
        assert a["question"] == q and not a["abstained"] and a["citations"]
        assert len(a["passages"]) == 5 and a["timing_ms"]["total"] > 0
        check_citations(a, app_engine)
    assert len(client.predict(Q_BERLIK, 2, api_name="/ask")["passages"]) == 2


def test_client_ask_bad_question_is_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", 5, api_name="/ask")
    with pytest.raises(AppError, match="characters long"):
        client.predict("س" * (MAX_QUESTION_CHARS + 1), 5, api_name="/ask")


def test_only_ask_is_public_api(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


def test_several_users_at_once(served, client, app_engine):
    app, url = served
    assert app._queue.default_concurrency_limit > 1
    from gradio_client import Client

    questions = [Q_TREATY, Q_BERLIK, Q_SMART] * 3
    results: list = [None] * len(questions)

    def ask(i: int) -> None:
        results[i] = Client(url, verbose=False).predict(questions[i], 5, api_name="/ask")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for q, r in zip(questions, results):
        assert r is not None and r["question"] == q
        check_citations(r, app_engine)


def test_serve_builds_then_launches_on_loopback(tmp_path, monkeypatch, capsys, app_engine):
    import ui.app as app_module

    seen = {}
    monkeypatch.setattr(app_module.Isnad, "open",
                        classmethod(lambda cls, settings, **kw: seen.update(open=kw) or app_engine))
    monkeypatch.setattr(app_module, "launch_app",
                        lambda app, host, port, **kw: seen.update(app=app, host=host, port=port))
    from qa.settings import Settings

    app_module.serve(Settings.from_env(home=tmp_path / "fresh"))
    assert seen["host"] == "127.0.0.1" and seen["port"] == 7860
    assert seen["app"]._queue.default_concurrency_limit > 1
    assert callable(seen["open"].get("on_stage"))
    err = capsys.readouterr().err
    assert "first run" in err and "ready in" in err


def test_build_app_plain(app_engine):
    import gradio as gr

    app = build_app(app_engine)
    assert isinstance(app, gr.Blocks)
    cfg = app.get_config_file()
    kinds = {c["type"] for c in cfg["components"]}
    assert {"chatbot", "textbox", "slider", "checkbox", "html", "state"} <= kinds
    chat = next(c for c in cfg["components"] if c["type"] == "chatbot")
    assert chat["props"]["rtl"] is True and chat["props"]["latex_delimiters"] == []
    box = next(c for c in cfg["components"] if c["type"] == "textbox" and c["props"].get("elem_id") == "isnad-input")
    assert box["props"]["rtl"] is True
