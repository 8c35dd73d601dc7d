"""The Gradio app: a right-to-left chat over the corpus, every answer with its sources.

    build_app(engine)            -> gradio.Blocks (queue enabled, several users at once)
    launch_app(app, host, port)  -> launches it with Isnad's theme, CSS and page script
    serve(settings, host, port)  -> loads (or first builds) the index, then serves

Layout: a chat (answers with [n] markers, abstentions in amber, errors as friendly
bubbles) next to a sources panel (each cited passage with its quote in <mark>; a
link opens the whole document at that place in a viewer); a documents tab lists
the corpus and the index status, and uploads or removes documents (ui.app_documents). An API endpoint `/ask` returns the Answer JSON.

With a language model (`isnad serve --llm ...`), a checkbox (on by default) lets the
model write the answers: its draft streams into the chat, marked as unchecked, and is
replaced by the checked answer ("written by MODEL, sources checked by Isnad") or by
the extractive answer with a notice saying why.

Everything shown is escaped (see ui.app_render): document text and questions are
untrusted. The viewer opens only doc_ids that are in the index.
"""
from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from qa.engine import Isnad, QuestionError
from qa.settings import Settings
from qa.types import Answer
from ui import app_render as R
from ui.app_documents import documents_tab
from ui.app_style import CSS, HEAD, OPEN_LINKS_JS, SCROLL_TO_MARK_JS, theme

log = logging.getLogger("isnad.app")

EXAMPLES = (
    "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟",
    "ما هي مناورات بيرليك 2025؟",
    "ما المقصود بالقوة الذكية التركية؟",
    "من شارك في اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟",
)
# Questions answered at once. Embedding a question is most of its CPU, and questions in
# flight together share one embedder call (index.embedders), so more workers than cores
# pay: 16 measured best with 20 clients (python -m evals.load; README "Many users").
DEFAULT_CONCURRENCY = 16
SESSION_CAPACITY = 1000  # sessions whose state is kept (least recently used dropped first)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_K = 20


@dataclass
class Session:
    """One browser session: its qa Conversation and what the chat shows."""

    conversation: Any
    history: list[dict] = field(default_factory=list)  # the Chatbot's messages
    answers: list[Answer] = field(default_factory=list)  # turn -> answer
    followups: list[bool] = field(default_factory=list)
    message_turn: dict[int, int] = field(default_factory=dict)  # chat message index -> turn
    shown: int | None = None  # the turn whose sources are on screen


class ChatController:
    """What the app does, apart from how it looks: one instance per app, shared by all
    sessions (the engine is thread-safe); per-session data lives in a `Session`."""

    def __init__(self, engine: Isnad) -> None:
        self.engine = engine
        self.default_k = max(1, min(int(engine.settings.k or 5), MAX_K))

    def new_session(self) -> Session:
        return Session(conversation=self.engine.conversation())

    def documents(self) -> dict[str, Any]:
        return {d.doc_id: d for d in self.engine.documents()}

    # -- chat ----------------------------------------------------------------------
    def respond(self, message: str, session: Session | None, k: float | None = None,
                show_all: bool = False, generative: bool = True):
        """One question in the chat, as a generator of (cleared input, chat messages,
        session, sources panel HTML or gr.skip() when there is no new answer).

        With a language model (engine.llm_label) and `generative`: first a placeholder
        bubble, then the model's drafts as it writes (escaped, marked as unchecked; the
        sources panel keeps what it shows), then the checked answer (or the extractive
        fallback, with its notice) and its sources. Otherwise just the answer."""
        session = session or self.new_session()
        text = message if isinstance(message, str) else ""
        # A lone surrogate (valid in JSON, not in UTF-8) echoed back in the chat made the
        # response unserializable and cut the session's event stream: show U+FFFD instead.
        text = _LONE_SURROGATE.sub("\ufffd", text)
        if text.strip():
            session.history.append({"role": "user", "content": R.user_bubble(text.strip())})
        label = (getattr(self.engine, "llm_label", "") or "") if generative else ""
        slot: list[int] = []  # index of this turn's assistant bubble, once there is one

        def put(content: str) -> None:
            if slot:
                session.history[slot[0]] = {"role": "assistant", "content": content}
            else:
                session.history.append({"role": "assistant", "content": content})
                slot.append(len(session.history) - 1)

        if label and text.strip():
            put(R.pending_bubble(label))
            yield "", session.history, session, gr.skip()
        answer = None
        try:
            for item in session.conversation.ask_stream(text, k=int(k or self.default_k),
                                                        generative=bool(generative)):
                if isinstance(item, Answer):
                    answer = item
                elif isinstance(item, str):
                    put(R.draft_bubble(item, label))
                    yield "", session.history, session, gr.skip()
        except QuestionError as exc:
            log.info("refused a question: %s", exc)
            put(R.error_bubble(R.friendly_error(str(exc))))
            yield "", session.history, session, gr.skip()
            return
        except Exception:  # never a traceback in the chat
            log.exception("answering %r failed", text[:200])
            answer = None
        if answer is None:
            put(R.error_bubble("حدث خطأ غير متوقع أثناء الإجابة. أعد المحاولة، وإن تكرر فراجع سجلّ الخادم."))
            yield "", session.history, session, gr.skip()
            return
        turn = len(session.answers)
        turns = getattr(session.conversation, "turns", None) or []
        followup = bool(turns and getattr(turns[-1], "context", ""))
        session.answers.append(answer)
        session.followups.append(followup)
        put(R.answer_bubble(answer, turn, followup))
        session.message_turn[slot[0]] = turn
        session.shown = turn
        yield "", session.history, session, R.sources_html(answer, turn, show_all)

    def reset(self, session: Session | None):
        """New conversation: forget the turns (the next question stands alone)."""
        if session is not None:
            session.conversation.reset()
        return None, [], R.SOURCES_EMPTY, ""

    def sources(self, session: Session | None, show_all: bool) -> str:
        if session is None or session.shown is None or session.shown >= len(session.answers):
            return R.SOURCES_EMPTY
        return R.sources_html(session.answers[session.shown], session.shown, show_all)

    def select_message(self, session: Session | None, show_all: bool, index: Any):
        """A click on a chat message: show that answer's sources."""
        if session is None:
            return gr.skip()
        idx = index[0] if isinstance(index, (list, tuple)) and index else index
        turn = session.message_turn.get(idx)
        if turn is None and isinstance(idx, int):  # a question: its answer follows it
            turn = session.message_turn.get(idx + 1)
        if turn is None or turn == session.shown:
            return gr.skip()
        session.shown = turn
        return R.sources_html(session.answers[turn], turn, show_all)

    # -- document viewer -----------------------------------------------------------
    def resolve_open(self, key: object, session: Session | None) -> R.DocView | None:
        """A link key from the page -> the document view to open, or None.

        Keys: "doc:<doc_id>" (an indexed doc_id, checked against the index),
        "cite:<turn>:<n>" and "passage:<turn>:<i>" (looked up in this session's
        answers). Nothing else opens anything; no key is ever used as a path."""
        if not isinstance(key, str):
            return None
        kind, _, rest = key.partition(":")
        docs = self.documents()
        try:
            if kind == "doc":
                if rest not in docs:
                    return None
                return R.DocView(rest, docs[rest].title, self.engine.document_text(rest))
            if session is None or kind not in ("cite", "passage"):
                return None
            turn_s, _, which = rest.partition(":")
            turn, which_i = int(turn_s), int(which)
            if not 0 <= turn < len(session.answers):
                return None
            answer = session.answers[turn]
            if kind == "cite":
                c = next((c for c in answer.citations if c.n == which_i), None)
                if c is None or c.doc_id not in docs:
                    return None
                ps = R.passage_start_of(c, answer.passages)
                return R.DocView(c.doc_id, c.title, self.engine.document_text(c.doc_id), c.start, c.end,
                                 ps, ps + len(c.text), f"[{c.n}]", c.page)
            if not 0 <= which_i < len(answer.passages):
                return None
            p = answer.passages[which_i]
            if p.doc_id not in docs:
                return None
            return R.DocView(p.doc_id, p.title, self.engine.document_text(p.doc_id), -1, -1,
                             p.start, p.end, f"#{which_i + 1}", p.page)
        except (ValueError, KeyError):
            return None

    def open_document(self, key: object, session: Session | None):
        """-> (modal update, header HTML, document HTML); gr.skip()s for a bad key."""
        view = self.resolve_open(key, session)
        if view is None:
            return gr.skip(), gr.skip(), gr.skip()
        d = self.documents().get(view.doc_id)
        meta = {"source": getattr(d, "source", ""), "date": getattr(d, "date", ""),
                "language": getattr(d, "language", "")}
        return gr.Column(visible=True), R.document_header_html(view, meta), R.document_html(view)

    # -- API -----------------------------------------------------------------------
    def ask_json(self, question: str, k: int | None = None) -> dict:
        try:
            return self.engine.ask(question, k=int(k or self.default_k)).to_dict()
        except QuestionError as exc:  # the caller's input: one log line, no traceback
            log.info("refused a question: %s", exc)
            raise gr.Error(f"{exc} ({R.friendly_error(str(exc))})", print_exception=False) from None


def build_app(engine: Isnad, concurrency: int = DEFAULT_CONCURRENCY) -> gr.Blocks:
    """The Isnad chat app over a loaded engine. Launch it with `launch_app` (which
    adds the theme, CSS and page script; plain `.launch()` works but looks bare)."""
    ctl = ChatController(engine)
    info = engine.info()
    llm_label = getattr(engine, "llm_label", "") or ""
    default_k = ctl.default_k

    def select_message(session: Session | None, show_all: bool, evt: gr.SelectData):
        return ctl.select_message(session, show_all, evt.index)

    def open_document(session: Session | None, evt: gr.EventData):
        data = getattr(evt, "_data", None)
        return ctl.open_document(data.get("open") if isinstance(data, dict) else None, session)

    def close_document():
        return gr.Column(visible=False)

    def ask(question: str, k: int = default_k) -> dict:
        """Answer one question; returns the Answer JSON (see DESIGN.md)."""
        return ctl.ask_json(question, k)

    # ----------------------------------------------------------------- layout
    with gr.Blocks(title="إسناد · Isnad", analytics_enabled=False, fill_width=True) as app:
        session = gr.State(None)
        gr.HTML(
            '<div id="isnad-header" dir="rtl"><h1>إسناد</h1>'
            '<span class="sub">اسأل الوثائق العربية، وكل إجابة بإسنادها: المقطع والجملة التي تستند إليها</span>'
            f'<span class="stat">{R.esc(R.status_line(info))}</span></div>',
            js_on_load=None,
        )
        with gr.Tabs():
            with gr.Tab("المحادثة", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            elem_id="isnad-chat", rtl=True, height="62vh", show_label=False,
                            latex_delimiters=[], buttons=[], feedback_options=None,
                            group_consecutive_messages=False, layout="bubble",
                            placeholder=(
                                '<div dir="rtl" style="text-align:center;opacity:.75">'
                                "اكتب سؤالاً عن الوثائق، أو اختر مثالاً أدناه."
                                "<br>أسئلة المتابعة تستفيد من سياق المحادثة.</div>"
                            ),
                        )
                        with gr.Row(equal_height=True):
                            msg = gr.Textbox(
                                elem_id="isnad-input", show_label=False, rtl=True, lines=1, max_lines=6,
                                placeholder="اكتب سؤالك هنا… (Enter للإرسال)", scale=8, autofocus=True,
                                max_length=None, submit_btn=False,
                            )
                            send = gr.Button("اسأل", variant="primary", scale=1, min_width=90,
                                             elem_id="isnad-send")
                            clear = gr.Button("محادثة جديدة", variant="secondary", scale=1, min_width=140,
                                              elem_id="isnad-new")
                        llm_toggle = gr.Checkbox(
                            True, label=f"إجابة مولّدة بالنموذج اللغوي ({llm_label})",
                            visible=bool(llm_label), elem_id="isnad-llm",
                        )
                        with gr.Row(elem_classes=["isnad-examples"]):
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", min_width=160) for q in EXAMPLES
                            ]
                    with gr.Column(scale=2, min_width=340, elem_id="isnad-sources-col"):
                        with gr.Row(elem_id="isnad-controls", equal_height=True):
                            k_slider = gr.Slider(1, MAX_K, value=default_k, step=1, scale=1, min_width=240,
                                                 label="عدد المقاطع (k)", elem_id="isnad-k")
                            show_all = gr.Checkbox(False, label="عرض كل المقاطع المسترجعة", scale=1,
                                                   min_width=230, elem_id="isnad-show-all")
                        sources = gr.HTML(R.SOURCES_EMPTY, elem_id="isnad-sources",
                                          js_on_load=OPEN_LINKS_JS)
            with gr.Tab("الوثائق", id="docs"):
                gr.HTML('<h3 dir="rtl">حالة الفهرس</h3>' + R.index_status_html(info), js_on_load=None)
                gr.HTML('<h3 dir="rtl">الوثائق المفهرسة</h3>', js_on_load=None)
                docs_table = gr.HTML(R.documents_table_html(engine.documents()), elem_id="isnad-docs",
                                     js_on_load=OPEN_LINKS_JS)
                docs_ctl, remove_choice = documents_tab(engine, docs_table)

        with gr.Column(visible=False, elem_id="isnad-modal") as modal:
            with gr.Row(equal_height=False):
                modal_head = gr.HTML("", elem_id="isnad-modal-head", js_on_load=None)
                close_btn = gr.Button("إغلاق ✕", elem_id="isnad-modal-close", size="sm", scale=0,
                                      min_width=110)
            with gr.Column(elem_id="isnad-modal-body"):
                modal_body = gr.HTML("", elem_id="isnad-doc", js_on_load=SCROLL_TO_MARK_JS)

        # ----------------------------------------------------------------- events
        chat_io = dict(inputs=[msg, session, k_slider, show_all, llm_toggle],
                       outputs=[msg, chatbot, session, sources])
        msg.submit(ctl.respond, api_visibility="private", **chat_io)
        send.click(ctl.respond, api_visibility="private", **chat_io)
        for b, q in zip(example_buttons, EXAMPLES):
            b.click(lambda q=q: q, outputs=[msg], api_visibility="private", queue=False).then(
                ctl.respond, api_visibility="private", **chat_io)
        for trigger in (clear.click, chatbot.clear):
            trigger(ctl.reset, inputs=[session], outputs=[session, chatbot, sources, msg],
                    api_visibility="private")
        show_all.change(ctl.sources, inputs=[session, show_all], outputs=[sources],
                        api_visibility="private")
        chatbot.select(select_message, inputs=[session, show_all], outputs=[sources],
                       api_visibility="private")
        for panel in (sources, docs_table):
            panel.click(open_document, inputs=[session], outputs=[modal, modal_head, modal_body],
                        api_visibility="private")
        close_btn.click(close_document, outputs=[modal], api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
        app.load(docs_ctl.view, outputs=[docs_table, remove_choice], api_visibility="private")

    app.queue(default_concurrency_limit=max(2, int(concurrency)))
    app.isnad_max_upload_bytes = docs_ctl.max_bytes  # launch_app makes the server enforce it
    return app


def launch_app(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, *,
               prevent_thread_lock: bool = False, quiet: bool = False, **kwargs):
    """Launch `app` with Isnad's theme, CSS and page script (Gradio 6 takes them at launch)."""
    options = dict(
        server_name=host, server_port=port, prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        theme=theme(), css=CSS, head=HEAD, footer_links=["api"], show_error=False,
        inbrowser=False, share=False, ssr_mode=False,
        # Gradio keeps a copy of every component's config per session (~70 KB here), for
        # its 10,000 most recent sessions, and each REST call (/gradio_api/call/ask) is a
        # new session: memory grew ~60 KB per API question (tests/test_reliability_app.py).
        state_session_capacity=SESSION_CAPACITY,
        # Uploads over the limit are refused by the server itself (HTTP 413), not only the page.
        max_file_size=getattr(app, "isnad_max_upload_bytes", None),
    )
    options.update(kwargs)
    return app.launch(**options)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          concurrency: int = DEFAULT_CONCURRENCY) -> None:
    """Load the engine (building the shipped corpus index on a fresh data dir, with
    progress on the terminal), then serve the app until interrupted."""
    from corpus.files import printable
    from index import index_status

    def say(text: str) -> None:
        print(f"isnad: {printable(text)}", file=sys.stderr, flush=True)

    _log_to_stderr()
    t0 = time.perf_counter()
    if index_status(settings.home).fresh:
        say(f"first run: building the index of the shipped corpus in {settings.home} "
            "(about half a minute)…")
    else:
        say(f"loading the index from {settings.home}…")
    engine = Isnad.open(settings, on_stage=lambda stage: say(f"  {stage}"))
    info = engine.info()
    say(f"ready in {time.perf_counter() - t0:.1f} s: {info['documents']} documents, "
        f"{info['chunks']} chunks, embedder {info['embedder']}"
        + (f", language model {engine.llm_label} (answers checked against the sources)"
           if getattr(engine, "llm_label", "") else ""))
    app = build_app(engine, concurrency=concurrency)
    say(f"open http://{host}:{port} in a browser (Ctrl+C to stop)")
    launch_app(app, host, port)


def _log_to_stderr() -> None:
    """Isnad's own log lines (a refused question, a switch to a new index) on the
    server's stderr, one line each; libraries keep their own settings."""
    root = logging.getLogger("isnad")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("isnad: %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
