"""The Gradio app: a right-to-left chat over the corpus, every answer with its sources.

    build_app(engine)            -> gradio.Blocks (queue enabled, several users at once)
    launch_app(app, host, port)  -> launches it with Isnad's theme, CSS and page script
    serve(settings, host, port)  -> loads (or first builds) the index, then serves

Layout: a chat (answers with [n] markers and a copy button, abstentions in amber,
errors as friendly bubbles) next to a sources panel (each cited passage with its quote
in <mark>; a link opens the whole document at that place in a viewer); on a phone the
sources come right under the answer. Above the chat, the conversations kept in the
browser (ui.app_conversations); a documents tab (ui.app_documents) and an evaluation
tab (ui.app_eval). The interface is Arabic or English, one at a time (ui.app_i18n);
the theme light or dark (ui.app_style). An API endpoint `/ask` returns the Answer JSON.

With a language model (`isnad serve --llm ...`), a checkbox (on by default) lets the
model write the answers: its draft streams into the chat, marked as unchecked, and is
replaced by the checked answer ("written by MODEL, sources checked by Isnad") or by
the extractive answer with a notice saying why.

Everything shown is escaped (see ui.app_render): document text and questions are
untrusted. The viewer opens only doc_ids that are in the index.
"""
from __future__ import annotations

import logging
import sys
import time

import gradio as gr

from qa.engine import Isnad
from qa.settings import Settings
from ui import app_render as R
from ui import app_viewer as V
from ui.app_chat import MAX_K, ChatController, Session  # noqa: F401  (Session: part of the API)
from ui.app_documents import documents_tab
from ui.app_eval import eval_tab
from ui.app_i18n import LANGUAGE_CHOICES, norm_lang, tr
from ui.app_style import (CSS, HEAD, LANGUAGE_JS, OPEN_LINKS_JS, SAVE_MARKDOWN_JS, SCROLL_TO_MARK_JS,
                          THEME_LOAD_JS, THEME_TOGGLE_JS, theme)

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
# The conversations are the reader's own data in the reader's own browser; a fixed
# secret keeps them readable after the server restarts (a random one would not).
BROWSER_SECRET = "isnad-conversations-v1"


class Labels:
    """Every component whose words depend on the interface language, with how to
    re-make it in a language: switching language is one event that updates them all."""

    def __init__(self) -> None:
        self.items: list[tuple[gr.components.Component, object]] = []

    def add(self, component, make) -> None:
        self.items.append((component, make))

    @property
    def components(self) -> list:
        return [c for c, _ in self.items]

    def updates(self, lang: str) -> list:
        return [make(lang) for _, make in self.items]


def header_html(info: dict, lang: str) -> str:
    return (f'<div id="isnad-header"><h1>{R.esc(tr(lang, "title"))}</h1>'
            f'<span class="sub">{R.esc(tr(lang, "subtitle"))}</span>'
            f'<span class="stat">{R.esc(V.status_line(info, lang))}</span></div>')


def chat_placeholder(lang: str) -> str:
    return f'<div dir="auto" style="text-align:center;opacity:.75">{tr(lang, "placeholder_chat")}</div>'


def _chat_column(L: Labels, llm_label: str):
    chatbot = gr.Chatbot(
        elem_id="isnad-chat", rtl=True, height="62vh", show_label=False,
        latex_delimiters=[], buttons=[], feedback_options=None,
        group_consecutive_messages=False, layout="bubble", placeholder=chat_placeholder("ar"),
    )
    L.add(chatbot, lambda l: gr.Chatbot(rtl=l == "ar", placeholder=chat_placeholder(l)))
    with gr.Row(equal_height=True, elem_id="isnad-ask-row"):
        msg = gr.Textbox(elem_id="isnad-input", show_label=False, rtl=True, lines=1, max_lines=6,
                         placeholder=tr("ar", "placeholder_input"), scale=8, autofocus=True,
                         max_length=None, submit_btn=False)
        send = gr.Button(tr("ar", "send"), variant="primary", scale=1, min_width=80, elem_id="isnad-send")
    L.add(msg, lambda l: gr.Textbox(placeholder=tr(l, "placeholder_input"), rtl=l == "ar"))
    L.add(send, lambda l: gr.Button(tr(l, "send")))
    llm_toggle = gr.Checkbox(True, label=tr("ar", "llm", model=llm_label), visible=bool(llm_label),
                             elem_id="isnad-llm")
    L.add(llm_toggle, lambda l: gr.Checkbox(label=tr(l, "llm", model=llm_label)))
    return chatbot, msg, send, llm_toggle


def _sources_column(L: Labels, default_k: int):
    sources = gr.HTML(R.SOURCES_EMPTY, elem_id="isnad-sources", js_on_load=OPEN_LINKS_JS)
    with gr.Accordion(tr("ar", "settings"), open=False, elem_id="isnad-settings") as acc:
        with gr.Row(elem_id="isnad-controls", equal_height=True):
            k_slider = gr.Slider(1, MAX_K, value=default_k, step=1, scale=1, min_width=200,
                                 label=tr("ar", "k"), elem_id="isnad-k")
            show_all = gr.Checkbox(False, label=tr("ar", "show_all"), scale=1, min_width=200,
                                   elem_id="isnad-show-all")
    L.add(acc, lambda l: gr.Accordion(label=tr(l, "settings")))
    L.add(k_slider, lambda l: gr.Slider(label=tr(l, "k")))
    L.add(show_all, lambda l: gr.Checkbox(label=tr(l, "show_all")))
    return sources, k_slider, show_all


def _conversation_bar(L: Labels):
    with gr.Row(elem_id="isnad-convbar", equal_height=False):
        conv_list = gr.Dropdown([], label=tr("ar", "conversations"), elem_id="isnad-conversations",
                                scale=4, min_width=160, allow_custom_value=False)
        new = gr.Button(tr("ar", "new"), variant="secondary", scale=1, min_width=90, size="sm",
                        elem_id="isnad-new")
        export = gr.Button(tr("ar", "export"), variant="secondary", scale=1, min_width=90, size="sm",
                           elem_id="isnad-export")
    L.add(conv_list, lambda l: gr.Dropdown(label=tr(l, "conversations")))
    L.add(new, lambda l: gr.Button(tr(l, "new")))
    L.add(export, lambda l: gr.Button(tr(l, "export")))
    return conv_list, new, export


def build_app(engine: Isnad, concurrency: int = DEFAULT_CONCURRENCY) -> gr.Blocks:
    """The Isnad chat app over a loaded engine. Launch it with `launch_app` (which
    adds the theme, CSS and page script; plain `.launch()` works but looks bare)."""
    ctl = ChatController(engine)
    info = engine.info()
    llm_label = getattr(engine, "llm_label", "") or ""
    L = Labels()

    with gr.Blocks(title="إسناد · Isnad", analytics_enabled=False, fill_width=True) as app:
        session = gr.State(None)
        store = gr.BrowserState(None, storage_key="isnad-conversations", secret=BROWSER_SECRET)
        lang = gr.BrowserState("ar", storage_key="isnad-language", secret=BROWSER_SECRET)
        with gr.Row(elem_id="isnad-top", equal_height=True):
            header = gr.HTML(header_html(info, "ar"), js_on_load=None, elem_id="isnad-head", scale=8)
            lang_radio = gr.Radio(LANGUAGE_CHOICES, value="ar", show_label=False, container=False,
                                  elem_id="isnad-lang", scale=0, min_width=170)
            theme_btn = gr.Button("◐", elem_id="isnad-theme", size="sm", scale=0, min_width=44)

        def header_view(l):
            return header_html(engine.info(), l)

        def status_view(l):
            return _status(engine.info(), l)

        L.add(header, header_view)
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab(tr("ar", "tab_chat"), id="chat") as chat_tab:
                conv_list, new_btn, export_btn = _conversation_bar(L)
                with gr.Row(equal_height=False, elem_id="isnad-main"):
                    with gr.Column(scale=3, min_width=300, elem_id="isnad-chat-col"):
                        chatbot, msg, send, llm_toggle = _chat_column(L, llm_label)
                    with gr.Column(scale=2, min_width=300, elem_id="isnad-sources-col"):
                        sources, k_slider, show_all = _sources_column(L, ctl.default_k)
                with gr.Row(elem_classes=["isnad-examples"], elem_id="isnad-examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary", min_width=160)
                                       for q in EXAMPLES]
            with gr.Tab(tr("ar", "tab_docs"), id="docs") as docs_tab:
                status_head = gr.HTML(_status(info, "ar"), js_on_load=None, elem_id="isnad-status-panel")
                docs_table = gr.HTML(V.documents_table_html(engine.documents()), elem_id="isnad-docs",
                                     js_on_load=OPEN_LINKS_JS)
                docs_ctl, remove_choice = documents_tab(engine, docs_table, lang, L,
                                                        [(header, header_view), (status_head, status_view)])
            with gr.Tab(tr("ar", "tab_eval"), id="eval") as eval_tab_:
                _eval_ctl, ev = eval_tab(engine.settings, lang, L)
        L.add(status_head, status_view)
        for tab, key in ((chat_tab, "tab_chat"), (docs_tab, "tab_docs"), (eval_tab_, "tab_eval")):
            L.add(tab, lambda l, key=key: gr.Tab(label=tr(l, key)))

        with gr.Column(visible=False, elem_id="isnad-modal") as modal:
            with gr.Row(equal_height=False):
                modal_head = gr.HTML("", elem_id="isnad-modal-head", js_on_load=None)
                close_btn = gr.Button(tr("ar", "close"), elem_id="isnad-modal-close", size="sm", scale=0,
                                      min_width=110)
            with gr.Column(elem_id="isnad-modal-body"):
                modal_body = gr.HTML("", elem_id="isnad-doc", js_on_load=SCROLL_TO_MARK_JS)
        L.add(close_btn, lambda l: gr.Button(tr(l, "close")))
        export_md = gr.Textbox("", visible="hidden", elem_id="isnad-export-md")

        _wire(app, ctl, L, locals())

    app.queue(default_concurrency_limit=max(2, int(concurrency)))
    app.isnad_max_upload_bytes = docs_ctl.max_bytes  # launch_app makes the server enforce it
    return app


def _status(info: dict, lang: str) -> str:
    return (f'<h3 dir="auto">{R.esc(tr(lang, "h_status"))}</h3>' + V.index_status_html(info, lang)
            + f'<h3 dir="auto">{R.esc(tr(lang, "h_docs"))}</h3>')


def _wire(app: gr.Blocks, ctl: ChatController, L: Labels, c: dict) -> None:
    """The events of the layout `c` (build_app's components, by name)."""
    P = dict(api_visibility="private")
    session, store, lang, chatbot, sources, show_all = (c[k] for k in (
        "session", "store", "lang", "chatbot", "sources", "show_all"))
    convs = [session, chatbot, sources, store, c["conv_list"]]
    chat_io = dict(inputs=[c["msg"], session, c["k_slider"], show_all, c["llm_toggle"], lang, store],
                   outputs=[c["msg"], chatbot, session, sources, store, c["conv_list"]], **P)

    def respond(message, s, k, a, generative, l, st):
        """The chat's answer, streamed; a new answer also goes into the browser's store."""
        for box, history, s, panel in ctl.respond(message, s, k, a, generative, norm_lang(l)):
            kept = ctl.keep(st, s, norm_lang(l)) if isinstance(panel, str) else (gr.skip(), gr.skip())
            yield box, history, s, panel, *kept

    chat_io["fn"] = respond

    c["msg"].submit(**chat_io)
    c["send"].click(**chat_io)
    for b, q in zip(c["example_buttons"], EXAMPLES):
        b.click(lambda q=q: q, outputs=[c["msg"]], queue=False, **P).then(**chat_io)
    for trigger in (c["new_btn"].click, chatbot.clear):
        trigger(ctl.new_conversation, inputs=[store, lang], outputs=[*convs, c["msg"]], **P)
    c["conv_list"].input(ctl.switch, inputs=[store, c["conv_list"], lang, show_all], outputs=convs, **P)
    c["export_btn"].click(ctl.export_markdown, inputs=[store, lang], outputs=[c["export_md"]], **P).then(
        None, inputs=[c["export_md"]], js=SAVE_MARKDOWN_JS, **P)
    show_all.change(ctl.sources, inputs=[session, show_all, lang], outputs=[sources], **P)
    _wire_panels(app, ctl, L, c, chat_io)


def _wire_panels(app: gr.Blocks, ctl: ChatController, L: Labels, c: dict, chat_io: dict) -> None:
    """The events around the chat: sources, viewer, evaluation links, language, theme, load."""
    P = dict(api_visibility="private")
    session, store, lang, chatbot, sources, show_all = (c[k] for k in (
        "session", "store", "lang", "chatbot", "sources", "show_all"))
    convs = [session, chatbot, sources, store, c["conv_list"]]
    respond = chat_io["fn"]
    chat_io = {k: v for k, v in chat_io.items() if k != "fn"}

    def select_message(s, a, l, evt: gr.SelectData):
        return ctl.select_message(s, a, evt.index, l)

    chatbot.select(select_message, inputs=[session, show_all, lang], outputs=[sources], **P)

    def open_document(s, evt: gr.EventData):
        data = getattr(evt, "_data", None)
        return ctl.open_document(data.get("open") if isinstance(data, dict) else None, s)

    for panel in (sources, c["docs_table"]):
        panel.click(open_document, inputs=[session], outputs=[c["modal"], c["modal_head"], c["modal_body"]],
                    **P)
    c["close_btn"].click(lambda: gr.Column(visible=False), outputs=[c["modal"]], queue=False, **P)

    def ask_in_chat(evt: gr.EventData):  # a failure in the evaluation tab -> the chat
        data = getattr(evt, "_data", None)
        q = data.get("ask") if isinstance(data, dict) else None
        return (gr.Tabs(selected="chat"), q) if isinstance(q, str) and q.strip() else (gr.skip(), gr.skip())

    c["ev"]["result"].click(ask_in_chat, outputs=[c["tabs"], c["msg"]], **P).then(respond, **chat_io)

    def relabel(l, s, a):
        l = norm_lang(l)
        return [l, *L.updates(l), *ctl.rerender(s, a, l)]

    c["lang_radio"].change(None, inputs=[c["lang_radio"]], js=LANGUAGE_JS, **P)
    c["lang_radio"].change(relabel, inputs=[c["lang_radio"], session, show_all],
                           outputs=[lang, *L.components, chatbot, sources], **P)
    c["theme_btn"].click(None, js=THEME_TOGGLE_JS, **P)

    def restore(st, l, a):
        return (*ctl.restore(st, l, a), norm_lang(l))

    app.load(restore, inputs=[store, lang, show_all], outputs=[*convs, c["lang_radio"]], **P)
    app.load(None, js=THEME_LOAD_JS, **P)
    app.load(c["docs_ctl"].view, inputs=[lang], outputs=[c["docs_table"], c["remove_choice"]], **P)

    def ask(question: str, k: int = ctl.default_k) -> dict:
        """Answer one question; returns the Answer JSON (qa/ANSWER_CONTRACT.md)."""
        return ctl.ask_json(question, k)

    gr.api(ask, api_name="ask")


def launch_app(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, *,
               prevent_thread_lock: bool = False, quiet: bool = False, **kwargs):
    """Launch `app` with Isnad's theme, CSS and page script (Gradio 6 takes them at launch)."""
    options = dict(
        server_name=host, server_port=port, prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        theme=theme(), css=CSS, head=HEAD, footer_links=[], show_error=False,
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
