"""Chat: a conversation that carries its history so follow-ups keep their context.

Without a language model, a follow-up such as «ومتى وقعت؟» is searched together
with the previous question when it is short or leans on a pronoun, so it retrieves
the passage the earlier turn was about. The quoted evidence is still chosen for
the follow-up itself.

With a language model (engine.llm, see qa.generative), the model rewrites each
question after the first into a stand-alone question using the conversation, and
that is what is searched and answered (the model also sees the conversation); if
the rewrite fails, the keyword context above is used.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from corpus.normalize import normalize
from qa.question import clean_question
from qa.settings import SHORT_QUESTION_WORDS
from qa.types import Answer

# Clear signs that a question leans on an earlier turn: a question word joined to
# «و/ف» («ومتى وقعت؟», «فمن شارك؟»), a stand-alone pronoun or demonstrative, an
# English pronoun or "and ..."/"what about ..." opening. (Written normalized.)
_ANAPHORA = re.compile(
    r"^(و|ف)(متي|اين|من|كم|ما|ماذا|كيف|لماذا|لما|هل|اي|الي|في|عن|ما هو|ما هي)(\s|\?|$)|"
    r"(^|\s)(هذا|هذه|ذلك|تلك|هناك|هؤلاء|الاخير|الاخيره)(\s|$|\?)|"
    r"\b(it|its|they|them|their|he|she|his|her|this|that|these|those|there)\b|"
    r"^(and|what about|how about)\b",
    re.IGNORECASE,
)


class ChatEngine(Protocol):
    """What a Conversation needs of an engine (qa.engine.Isnad is one)."""

    llm: object | None  # the language model, None in extractive mode

    def ask(self, question: str, k: int | None = None, context: str = "", id: object = None, *,
            history: list[tuple[str, str]] | None = None, generative: bool | None = None) -> Answer: ...

    def ask_stream(self, question: str, k: int | None = None, context: str = "", id: object = None, *,
                   history: list[tuple[str, str]] | None = None,
                   generative: bool | None = None) -> Iterator[str | Answer]: ...

    def rewrite_followup(self, question: str, history: list[tuple[str, str]]) -> str | None: ...


@dataclass
class Turn:
    question: str
    answer: Answer
    context: str = ""  # what the question was searched with, if more than itself


@dataclass
class Conversation:
    engine: ChatEngine
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str, k: int | None = None, generative: bool | None = None) -> Answer:
        """One turn. `generative` False answers extractively even when the engine has a
        language model; None (the default) uses the model when there is one."""
        if not self._generative(generative):
            context = self.context_for(question)
            answer = self.engine.ask(question, k=k, context=context, generative=generative)
            if not context and answer.abstained and self.turns and is_short(question):
                context = self._topic()
                with_topic = self.engine.ask(question, k=k, context=context, generative=generative)
                if not with_topic.abstained:
                    answer = with_topic
                else:
                    context = ""
            self.turns.append(Turn(answer.question, answer, context))
            return answer
        asked, context, searched = self._standalone(question)
        answer = self.engine.ask(asked, k=k, context=context, history=self.history(),
                                 generative=generative)
        return self._record(question, answer, searched)

    def ask_stream(self, question: str, k: int | None = None,
                   generative: bool | None = None) -> Iterator[str | Answer]:
        """One turn as a stream (see Isnad.ask_stream): str drafts, then the final
        Answer, which is recorded as the turn. Raises QuestionError before yielding."""
        if not self._generative(generative):
            yield self.ask(question, k=k, generative=False)
            return
        asked, context, searched = self._standalone(question)
        stream = self.engine.ask_stream(asked, k=k, context=context, history=self.history(),
                                        generative=generative)
        for item in stream:
            if isinstance(item, Answer):
                item = self._record(question, item, searched)
            yield item

    def history(self) -> list[tuple[str, str]]:
        """(question, answer text) of the earlier turns, oldest first."""
        return [(t.question, t.answer.answer) for t in self.turns]

    def _generative(self, generative: bool | None) -> bool:
        return generative is not False and self.engine.llm is not None

    def _standalone(self, question: str) -> tuple[str, str, str]:
        """(question to ask, keyword context, what it was searched with beyond itself)."""
        q = clean_question(question)  # bad input fails here, before any model call
        if not self.turns:
            return q, "", ""
        rewritten = self.engine.rewrite_followup(q, self.history())
        if rewritten:
            return rewritten, "", (rewritten if rewritten != q else "")
        context = self.context_for(q)
        return q, context, context

    def _record(self, question: str, answer: Answer, searched: str) -> Answer:
        asked = clean_question(question)
        if answer.question != asked:  # answered the rewritten question; show the user's own
            answer = replace(answer, question=asked)
        self.turns.append(Turn(asked, answer, searched))
        return answer

    def context_for(self, question: str) -> str:
        """The earlier question(s) a follow-up needs, or "" for a stand-alone question."""
        if not self.turns or not is_followup(question):
            return ""
        return self._topic()

    def _topic(self) -> str:
        # A chain of follow-ups keeps the topic of the turn that started it.
        last = self.turns[-1]
        return f"{last.context} {last.question}".strip()

    def reset(self) -> None:
        self.turns.clear()


def is_followup(question: str) -> bool:
    """True when the question clearly refers to an earlier turn."""
    return bool(_ANAPHORA.search(normalize(question).strip()))


def is_short(question: str) -> bool:
    return len(normalize(question).split()) <= SHORT_QUESTION_WORDS
