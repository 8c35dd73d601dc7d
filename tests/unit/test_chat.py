"""qa.chat: which questions are follow-ups and what they are searched with."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from qa.chat import ChatEngine, Conversation, is_followup, is_short
from qa.question import QuestionError, clean_question
from qa.types import Answer

pytestmark = pytest.mark.unit


class RecordingEngine:
    """A ChatEngine that answers when the searched text holds `knows`, and records every call."""

    def __init__(self, knows: str = "", llm: object | None = None, rewrite: str | None = None) -> None:
        self.knows, self.llm, self.rewrite = knows, llm, rewrite
        self.calls: list[dict] = []

    def ask(self, question, k=None, context="", id=None, *, history=None, generative=None) -> Answer:
        q = clean_question(question)
        self.calls.append({"question": q, "context": context, "history": history})
        found = bool(self.knows) and self.knows in f"{context} {q}"
        return Answer(q, "جواب [1]" if found else "لا جواب", abstained=not found)

    def ask_stream(self, question, k=None, context="", id=None, *, history=None,
                   generative=None) -> Iterator[str | Answer]:
        yield "مسودة"
        yield self.ask(question, k, context, id, history=history, generative=generative)

    def rewrite_followup(self, question, history):
        return self.rewrite


def test_the_fake_is_a_chat_engine():
    engine: ChatEngine = RecordingEngine()  # type-checks against the Protocol
    assert Conversation(engine).engine is engine


@pytest.mark.parametrize("question", ["ومتى وقعت؟", "فمن شارك فيها؟", "ما أهمية هذه المعاهدة؟",
                                      "And when was it signed?", "what about their capital?"])
def test_followups(question):
    assert is_followup(question)


@pytest.mark.parametrize("question", ["متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟",
                                      "What is the capital of Uzbekistan?"])
def test_stand_alone_questions(question):
    assert not is_followup(question)


def test_short():
    assert is_short("متى؟") and is_short("كم عددهم؟") and not is_short("متى وقعت معاهدة التحالف الجديدة؟")


def test_a_followup_is_searched_with_the_topic_of_its_chain():
    conv = Conversation(RecordingEngine(knows="المعاهدة"))
    conv.ask("ما هي المعاهدة التي وقعتها أذربيجان؟")
    conv.ask("ومتى وقعت؟")
    conv.ask("ومن شارك فيها؟")
    contexts = [c["context"] for c in conv.engine.calls]
    assert contexts[0] == ""
    assert contexts[1] == "ما هي المعاهدة التي وقعتها أذربيجان؟"
    assert contexts[2] == contexts[1] + " ومتى وقعت؟"  # the chain keeps its first topic
    assert [t.question for t in conv.turns] == ["ما هي المعاهدة التي وقعتها أذربيجان؟", "ومتى وقعت؟",
                                                "ومن شارك فيها؟"]


def test_a_short_question_gets_the_topic_only_when_alone_it_finds_nothing():
    conv = Conversation(RecordingEngine(knows="المعاهدة"))
    conv.ask("ما هي المعاهدة التي وقعتها أذربيجان؟")
    answer = conv.ask("متى؟")
    assert not answer.abstained
    assert [c["context"] for c in conv.engine.calls[1:]] == ["", "ما هي المعاهدة التي وقعتها أذربيجان؟"]
    assert conv.turns[-1].context == "ما هي المعاهدة التي وقعتها أذربيجان؟"


def test_a_short_question_that_finds_nothing_either_way_keeps_no_context():
    conv = Conversation(RecordingEngine(knows="سمرقند"))
    conv.ask("ما هي المعاهدة التي وقعتها أذربيجان؟")
    answer = conv.ask("متى؟")
    assert answer.abstained and len(conv.engine.calls) == 3
    assert conv.turns[-1].context == ""


def test_a_stand_alone_question_is_searched_alone():
    conv = Conversation(RecordingEngine())
    conv.ask("ما هي المعاهدة التي وقعتها أذربيجان؟")
    conv.ask("ما هي عاصمة أوزبكستان الحالية اليوم؟")
    assert conv.engine.calls[-1]["context"] == ""


def test_with_a_model_the_rewritten_question_is_asked_and_the_users_shown():
    engine = RecordingEngine(llm=object(), rewrite="متى وقعت المعاهدة بين أذربيجان وأوزبكستان؟")
    conv = Conversation(engine)
    conv.ask("ما هي المعاهدة التي وقعتها أذربيجان؟")
    answer = conv.ask("ومتى وقعت؟")
    assert engine.calls[-1]["question"] == "متى وقعت المعاهدة بين أذربيجان وأوزبكستان؟"
    assert engine.calls[-1]["history"] == [("ما هي المعاهدة التي وقعتها أذربيجان؟", "لا جواب")]
    assert answer.question == "ومتى وقعت؟" and conv.turns[-1].context == engine.rewrite


def test_a_stream_records_its_final_answer_once():
    conv = Conversation(RecordingEngine(llm=object()))
    items = list(conv.ask_stream("ما هي المعاهدة التي وقعتها أذربيجان؟"))
    assert items[0] == "مسودة" and isinstance(items[-1], Answer) and len(conv.turns) == 1


def test_bad_input_fails_before_the_engine_is_asked():
    engine = RecordingEngine(llm=object())
    with pytest.raises(QuestionError):
        Conversation(engine).ask("   ")
    assert engine.calls == []
    conv = Conversation(engine)
    conv.reset()
    assert conv.history() == []
