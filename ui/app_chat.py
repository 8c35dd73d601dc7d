"""What the chat does, apart from how it looks: answering (streamed), the sources panel,
the document viewer's keys, and the conversations kept in the browser (ui.app_conversations).

One `ChatController` per app, shared by all sessions (the engine is thread-safe);
per-session data lives in a `Session`, rebuilt from the browser's store on a reload.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from qa.chat import Turn
from qa.engine import Isnad, QuestionError
from qa.settings import DEFAULT_K, MAX_K  # MAX_K: one k limit for the app, the CLI and the engine
from qa.types import Answer
from ui import app_conversations as C
from ui import app_render as R
from ui import app_viewer as V
from ui.app_i18n import norm_lang, tr

log = logging.getLogger("isnad.app")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Session:
    """One browser session: its qa Conversation and what the chat shows."""

    conversation: Any
    history: list[dict] = field(default_factory=list)  # the Chatbot's messages
    answers: list[Answer] = field(default_factory=list)  # turn -> answer
    followups: list[bool] = field(default_factory=list)
    message_turn: dict[int, int] = field(default_factory=dict)  # chat message index -> turn
    contexts: list[str] = field(default_factory=list)  # turn -> what it was searched with
    shown: int | None = None  # the turn whose sources are on screen
    lang: str = "ar"  # the interface language


class ChatController:
    def __init__(self, engine: Isnad) -> None:
        self.engine = engine
        self.default_k = max(1, min(int(engine.settings.k or DEFAULT_K), MAX_K))

    def new_session(self) -> Session:
        return Session(conversation=self.engine.conversation())

    def documents(self) -> dict[str, Any]:
        return {d.doc_id: d for d in self.engine.documents()}

    # -- chat ----------------------------------------------------------------------
    def respond(self, message: str, session: Session | None, k: float | None = None,
                show_all: bool = False, generative: bool = True, lang: str = "ar"):
        """One question in the chat, as a generator of (cleared input, chat messages,
        session, sources panel HTML or gr.skip() when there is no new answer); the
        app's `keep` then adds the answer to the browser's store.

        With a language model (engine.llm_label) and `generative`: first a placeholder
        bubble, then the model's drafts as it writes (escaped, marked as unchecked), then
        the checked answer (or the extractive fallback, with its notice) and its sources."""
        lang = norm_lang(lang)
        session = session or self.new_session()
        session.lang = lang
        text = message if isinstance(message, str) else ""
        # A lone surrogate (valid in JSON, not in UTF-8) echoed back in the chat made the
        # response unserializable and cut the session's event stream: show U+FFFD instead.
        text = _LONE_SURROGATE.sub("\ufffd", text)
        if text.strip():
            session.history.append({"role": "user", "content": R.user_bubble(text.strip())})
        label = (getattr(self.engine, "llm_label", "") or "") if generative else ""
        slot: list[int] = []  # index of this turn's assistant bubble, once there is one
        skip = gr.skip

        def put(content: str) -> None:
            if slot:
                session.history[slot[0]] = {"role": "assistant", "content": content}
            else:
                session.history.append({"role": "assistant", "content": content})
                slot.append(len(session.history) - 1)

        if label and text.strip():
            put(R.pending_bubble(label, lang))
            yield "", session.history, session, skip()
        answer = None
        try:
            for item in session.conversation.ask_stream(text, k=int(k or self.default_k),
                                                        generative=bool(generative)):
                if isinstance(item, Answer):
                    answer = item
                elif isinstance(item, str):
                    put(R.draft_bubble(item, label, lang))
                    yield "", session.history, session, skip()
        except QuestionError as exc:
            log.info("refused a question: %s", exc)
            put(R.error_bubble(R.friendly_error(str(exc), lang), lang))
            yield "", session.history, session, skip()
            return
        except Exception:  # never a traceback in the chat
            log.exception("answering %r failed", text[:200])
            answer = None
        if answer is None:
            put(R.error_bubble(tr(lang, "err_internal"), lang))
            yield "", session.history, session, skip()
            return
        put(self._record(session, answer, lang))
        session.message_turn[slot[0]] = session.shown
        yield "", session.history, session, R.sources_html(answer, session.shown, show_all, lang)

    @staticmethod
    def _record(session: Session, answer: Answer, lang: str) -> str:
        """Keep a new answer in the session (shown from now on) -> its chat bubble."""
        turn = len(session.answers)
        turns = getattr(session.conversation, "turns", None) or []
        context = str(getattr(turns[-1], "context", "") or "") if turns else ""
        session.answers.append(answer)
        session.followups.append(bool(context))
        session.contexts.append(context)
        session.shown = turn
        return R.answer_bubble(answer, turn, bool(context), lang)

    def keep(self, store: Any, session: Session, lang: str):
        """-> (store with the session's last answer added, conversation list)."""
        store = C.add_turn(store, session.answers[-1], session.followups[-1], session.contexts[-1])
        return store, self.conversation_list(store, lang)

    def conversation_list(self, store: dict, lang: str):
        return gr.Dropdown(choices=C.choices(store, lang), value=store["current"])

    def restore(self, store: Any, lang: str = "ar", show_all: bool = False):
        """The current conversation of the browser's store -> (session, chat messages,
        sources panel, store, conversation list). Its turns go back into the qa
        Conversation, so a follow-up after a reload still knows what came before."""
        lang = norm_lang(lang)
        store = C.clean_store(store)
        session = self.new_session()
        session.lang = lang
        for answer, followup, context in C.turns_of(store):
            turn = len(session.answers)
            session.history.append({"role": "user", "content": R.user_bubble(answer.question)})
            session.history.append({"role": "assistant", "content": R.answer_bubble(answer, turn, followup, lang)})
            session.message_turn[len(session.history) - 1] = turn
            session.answers.append(answer)
            session.followups.append(followup)
            session.contexts.append(context)
            session.conversation.turns.append(Turn(answer.question, answer, context))
        session.shown = len(session.answers) - 1 if session.answers else None
        return (session, session.history, self.sources(session, show_all, lang), store,
                self.conversation_list(store, lang))

    def new_conversation(self, store: Any, lang: str = "ar"):
        """A new, empty conversation (the next question stands alone)."""
        return (*self.restore(C.start_new(store), lang), "")

    def switch(self, store: Any, conv_id: Any, lang: str = "ar", show_all: bool = False):
        store = C.clean_store(store)
        if conv_id == store["current"]:
            return (gr.skip(),) * 5
        return self.restore(C.switch_to(store, conv_id), lang, show_all)

    def export_markdown(self, store: Any, lang: str = "ar") -> str:
        """The current conversation as Markdown ("" when it has no turn yet)."""
        store = C.clean_store(store)
        item = C.current_item(store)
        return C.to_markdown(item, norm_lang(lang)) if item["turns"] else ""

    def sources(self, session: Session | None, show_all: bool, lang: str = "ar") -> str:
        if session is None or session.shown is None or session.shown >= len(session.answers):
            return R.sources_empty(lang)
        return R.sources_html(session.answers[session.shown], session.shown, show_all, lang)

    def rerender(self, session: Session | None, show_all: bool, lang: str):
        """The chat and the sources in another interface language."""
        if session is None:
            return gr.skip(), R.sources_empty(lang)
        session.lang = lang
        for idx, turn in session.message_turn.items():
            session.history[idx] = {"role": "assistant", "content": R.answer_bubble(
                session.answers[turn], turn, session.followups[turn], lang)}
        return session.history, self.sources(session, show_all, lang)

    def select_message(self, session: Session | None, show_all: bool, index: Any, lang: str = "ar"):
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
        return R.sources_html(session.answers[turn], turn, show_all, lang)

    # -- document viewer -----------------------------------------------------------
    def resolve_open(self, key: object, session: Session | None) -> V.DocView | None:
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
                return V.DocView(rest, docs[rest].title, self.engine.document_text(rest))
            if session is None or kind not in ("cite", "passage"):
                return None
            turn_s, _, which = rest.partition(":")
            turn, which_i = int(turn_s), int(which)
            if not 0 <= turn < len(session.answers):
                return None
            return self._answer_view(session.answers[turn], kind, which_i, docs)
        except (ValueError, KeyError):
            return None

    def _answer_view(self, answer: Answer, kind: str, which: int, docs: dict) -> V.DocView | None:
        if kind == "cite":
            c = next((c for c in answer.citations if c.n == which), None)
            if c is None or c.doc_id not in docs:
                return None
            ps = R.passage_start_of(c, answer.passages)
            return V.DocView(c.doc_id, c.title, self.engine.document_text(c.doc_id), c.start, c.end,
                             ps, ps + len(c.text), f"[{c.n}]", c.page)
        if not 0 <= which < len(answer.passages):
            return None
        p = answer.passages[which]
        if p.doc_id not in docs:
            return None
        return V.DocView(p.doc_id, p.title, self.engine.document_text(p.doc_id), -1, -1,
                         p.start, p.end, f"#{which + 1}", p.page)

    def open_document(self, key: object, session: Session | None):
        """-> (modal update, header HTML, document HTML); gr.skip()s for a bad key."""
        lang = session.lang if session is not None else "ar"
        view = self.resolve_open(key, session)
        if view is None:
            return gr.skip(), gr.skip(), gr.skip()
        d = self.documents().get(view.doc_id)
        meta = {"source": getattr(d, "source", ""), "date": getattr(d, "date", ""),
                "language": getattr(d, "language", "")}
        return gr.Column(visible=True), V.document_header_html(view, meta, lang), V.document_html(view)

    # -- API -----------------------------------------------------------------------
    def ask_json(self, question: str, k: int | None = None) -> dict:
        try:
            return self.engine.ask(question, k=int(k or self.default_k)).to_dict()
        except QuestionError as exc:  # the caller's input: one log line, no traceback
            log.info("refused a question: %s", exc)
            raise gr.Error(f"{exc} ({R.friendly_error(str(exc))})", print_exception=False) from None
