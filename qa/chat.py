"""Chat: a conversation that carries its history so follow-ups keep their context.

Without a language model, a follow-up such as «ومتى وقعت؟» is searched together
with the previous question when it is short or leans on a pronoun, so it retrieves
the passage the earlier turn was about. The quoted evidence is still chosen for
the follow-up itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.normalize import normalize
from qa.types import Answer

# Signs that a question leans on an earlier turn: Arabic attached pronouns and
# demonstratives, English pronouns, and "and ..."-openings.
_ANAPHORA = re.compile(
    r"(^و|^ف|(^|\s)(هو|هي|هم|هذا|هذه|ذلك|تلك|هناك|الاخير|الاخيره)(\s|$|\?)|"
    r"(ه|ها|هم|هما)(\s|\?|$)|"
    r"\b(it|its|they|them|their|he|she|his|her|this|that|there)\b|^(and|what about)\b)",
    re.IGNORECASE,
)
FOLLOWUP_MAX_WORDS = 6


@dataclass
class Turn:
    question: str
    answer: Answer
    context: str = ""  # what the question was searched with, if more than itself


@dataclass
class Conversation:
    engine: object
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str, k: int | None = None) -> Answer:
        context = self.context_for(question)
        answer = self.engine.ask(question, k=k, context=context)
        self.turns.append(Turn(answer.question, answer, context))
        return answer

    def context_for(self, question: str) -> str:
        """The earlier question(s) a follow-up needs, or "" for a stand-alone question."""
        if not self.turns or not is_followup(question):
            return ""
        last = self.turns[-1]
        # A chain of follow-ups keeps the topic of the turn that started it.
        return f"{last.context} {last.question}".strip()

    def reset(self) -> None:
        self.turns.clear()


def is_followup(question: str) -> bool:
    q = normalize(question).strip()
    return len(q.split()) <= FOLLOWUP_MAX_WORDS or bool(_ANAPHORA.search(q))
