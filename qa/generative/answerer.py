"""The generative answerer: prompts, model call or stream, checks, fallback with a notice."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace

from corpus.language import is_arabic
from qa.generative.checking import Evidence, check_answer
from qa.generative.errors import GenerativeError
from qa.generative.models import describe_failure, make_chat_model
from qa.generative.output import _MARKER, NO_ANSWER, _has_words, message_text, strip_reasoning
from qa.settings import HISTORY_ANSWER_CHARS, REWRITE_MAX_CHARS, STREAM_TIMEOUT_FACTOR, GenerativeParams
from qa.types import Answer, Passage

_LABEL = re.compile(r"^\s*(?:stand-?alone question|rewritten question|question|السؤال(?: المستقل| المعاد صياغته)?)\s*[:：]\s*",
                    re.IGNORECASE)


SYSTEM_PROMPT = """\
You answer questions about a collection of documents, using ONLY the numbered passages you are given.
Rules:
1. Answer in the language of the question: an Arabic question gets a Modern Standard Arabic answer, an English question an English answer.
2. Use only what the passages state. Never add outside knowledge, and never guess.
3. End every sentence with the number(s) of the passage(s) it comes from in square brackets, e.g. [1] or [2][3]. Every sentence needs one; cite only the numbers of the passages below.
4. Be brief: one to four sentences. Stay close to the passages' own wording.
5. If the passages do not contain the answer, reply with exactly: NO_ANSWER"""

REWRITE_PROMPT = """\
Rewrite the user's last question as one stand-alone question that can be understood without the conversation, in the same language as that question. Replace pronouns and references ("it", "there", "that treaty", «ها», «ذلك») with what they refer to in the conversation. If the question already stands alone, return it unchanged. Reply with the question only: no explanation, no quotes, no answer."""


def _notice(kind: str, arabic: bool, label: str, detail: str = "", n: int = 0,
            abstained: bool = False) -> str:
    """What the user is told, in the question's language. `abstained`: what is shown
    instead is the abstention, not an extractive answer."""
    if kind == "dropped":
        return (f"حُذفت من إجابة النموذج اللغوي {n} جملة لم تسندها المقاطع المسترجعة." if arabic else
                f"{n} sentence(s) of the model's answer were removed: the passages did not support them.")
    if arabic:
        head = {
            "failure": f"تعذّر الحصول على إجابة من النموذج اللغوي {label} ({detail})",
            "no-answer": f"لم يجد النموذج اللغوي {label} الإجابة في المقاطع المسترجعة",
        }.get(kind, f"لم تستند إجابة النموذج اللغوي {label} إلى المقاطع المسترجعة ({detail})")
        tail = "" if abstained else "؛ هذه الإجابة مستخرجة من الوثائق مباشرة"
        return head + tail + "."
    head = {
        "failure": f"The language model {label} failed ({detail})",
        "no-answer": f"The language model {label} found no answer in the passages",
    }.get(kind, f"The answer of the language model {label} was not supported by the passages ({detail})")
    return head + ("." if abstained else "; this is the extractive answer.")


_PROBLEM_DETAIL = {
    "empty": "empty answer", "no-citation": "no valid citation",
    "unsupported": "citations do not support it", "mostly-unsupported": "most of it unsupported",
    "wrong-language": "not in the language of the question",
}


class GenerativeAnswerer:
    """A chat model behind Isnad's checks. Thread-safe when the chat model is (the
    LangChain OpenAI and Ollama clients are)."""

    def __init__(self, model, params: GenerativeParams, label: str | None = None) -> None:
        self.model = model
        self.params = params
        self.label = label or params.label or _model_label(model)

    # -- prompts -------------------------------------------------------------------
    def messages(self, question: str, passages: list[Passage], history: list[tuple[str, str]] = ()) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        parts = []
        convo = _history_text(history, self.params.history_turns)
        if convo:
            parts.append("Conversation so far:\n" + convo)
        blocks = []
        for i, p in enumerate(passages, 1):
            head = p.title + (f" — {p.section}" if p.section and p.section != p.title else "")
            blocks.append(f"[{i}] ({head})\n{' '.join(p.text.split())}")
        parts.append("Passages:\n\n" + "\n\n".join(blocks))
        parts.append(f"Question: {question}")
        return [SystemMessage(SYSTEM_PROMPT), HumanMessage("\n\n".join(parts))]

    def rewrite_messages(self, question: str, history: list[tuple[str, str]]) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        convo = _history_text(history, self.params.history_turns)
        return [SystemMessage(REWRITE_PROMPT),
                HumanMessage(f"Conversation:\n{convo}\n\nLast question: {question}\n\nStand-alone question:")]

    # -- calls -------------------------------------------------------------------------
    def rewrite(self, question: str, history: list[tuple[str, str]]) -> str:
        """The follow-up `question` as a stand-alone question (GenerativeError on failure)."""
        try:
            reply = message_text(self.model.invoke(self.rewrite_messages(question, history)))
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the service
            raise GenerativeError(describe_failure(exc, self.params)) from exc
        line = next((ln for ln in strip_reasoning(reply).splitlines() if ln.strip()), "")
        line = _LABEL.sub("", line).strip().strip("\"'«»“”`*").strip()
        if not line or not _has_words(line) or len(line) > max(REWRITE_MAX_CHARS, 4 * len(question)):
            raise GenerativeError("malformed rewrite from the model")
        return line

    def generate(self, question: str, passages: list[Passage], history=()) -> str:
        try:
            return message_text(self.model.invoke(self.messages(question, passages, history)))
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GenerativeError(describe_failure(exc, self.params)) from exc

    def generate_stream(self, question: str, passages: list[Passage], history=()) -> Iterator[str]:
        """Cumulative raw text as the model writes it. A stream that goes on longer than
        STREAM_TIMEOUT_FACTOR x the timeout is cut (the client's own timeout covers a silent service)."""
        deadline = time.monotonic() + STREAM_TIMEOUT_FACTOR * self.params.timeout
        text = ""
        try:
            for chunk in self.model.stream(self.messages(question, passages, history)):
                text += message_text(chunk)
                yield text
                if time.monotonic() > deadline:
                    raise GenerativeError(f"the model was still writing after {STREAM_TIMEOUT_FACTOR * self.params.timeout:g} s")
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GenerativeError(describe_failure(exc, self.params)) from exc

    # -- answers -----------------------------------------------------------------------
    def answer(self, base: Answer, passages: list[Passage], ev: Evidence, history=()) -> Answer:
        """The checked generative answer, or `base` (the extractive one) with a notice."""
        t0 = time.perf_counter()
        try:
            raw = self.generate(base.question, passages, history)
        except GenerativeError as exc:
            return self._fallback(base, "failure", exc.reason, t0)
        return self.finish(base, raw, passages, ev, t0)

    def stream(self, base: Answer, passages: list[Passage], ev: Evidence, history=()) -> Iterator[str | Answer]:
        """Drafts (str, the answer so far as the model writes it, unchecked, reasoning
        hidden), then the final checked Answer."""
        t0 = time.perf_counter()
        raw = ""
        try:
            shown = ""
            for raw in self.generate_stream(base.question, passages, history):
                draft = strip_reasoning(raw).strip()
                if draft and draft != shown and not NO_ANSWER.startswith(draft.upper()[: len(NO_ANSWER)]):
                    shown = draft
                    yield draft
        except GenerativeError as exc:
            yield self._fallback(base, "failure", exc.reason, t0)
            return
        yield self.finish(base, raw, passages, ev, t0)

    def finish(self, base: Answer, raw: str, passages: list[Passage], ev: Evidence, t0: float) -> Answer:
        if not isinstance(raw, str):
            return self._fallback(base, "failure", "malformed response from the model service", t0)
        checked = check_answer(raw, passages, ev, self.params)
        if checked.problem == "no-answer":
            return self._fallback(base, "no-answer", "", t0)
        if not checked.problem and is_arabic(checked.text) != is_arabic(base.question):
            checked.problem = "wrong-language"
        if checked.problem:
            return self._fallback(base, "unsupported", _PROBLEM_DETAIL.get(checked.problem, checked.problem), t0)
        arabic = is_arabic(base.question)
        notice = _notice("dropped", arabic, self.label, n=checked.dropped) if checked.dropped else ""
        return replace(
            base, answer=checked.text, citations=checked.citations, abstained=False, notice=notice,
            confidence=checked.support, model=self.label, timing_ms=_timing(base.timing_ms, t0),
        )

    def _fallback(self, base: Answer, kind: str, detail: str, t0: float) -> Answer:
        notice = _notice(kind, is_arabic(base.question), self.label, detail, abstained=base.abstained)
        if base.notice:
            notice = f"{notice} {base.notice}"
        return replace(base, notice=notice, model="", timing_ms=_timing(base.timing_ms, t0))


def _timing(timing: dict, t0: float) -> dict:
    gen = (time.perf_counter() - t0) * 1000
    out = dict(timing)
    out["generate"] = gen
    out["answer"] = out.get("answer", 0.0) + gen
    out["total"] = out.get("total", 0.0) + gen
    return out


def _history_text(history, turns: int) -> str:
    lines = []
    for q, a in list(history)[-max(0, turns):] if turns else []:
        a = " ".join(_MARKER.sub("", a or "").split())
        if len(a) > HISTORY_ANSWER_CHARS:
            a = a[:HISTORY_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"User: {' '.join(q.split())}\nAssistant: {a}")
    return "\n".join(lines)


def _model_label(model) -> str:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    kind = type(model).__name__
    return f"{kind}:{name}" if isinstance(name, str) and name else kind


def make_generative(params: GenerativeParams, chat_model=None) -> GenerativeAnswerer | None:
    """The answerer for `params` (or around `chat_model`, any LangChain chat model);
    None when generative answers are off."""
    if chat_model is not None:
        return GenerativeAnswerer(chat_model, params)
    if not params.enabled:
        return None
    return GenerativeAnswerer(make_chat_model(params), params)
