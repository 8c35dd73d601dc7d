"""The first step of every question: clean it, bound it, know its language.

    question text -> clean_question -> Question(text, language)

Everything after this step (retrieval, sentence choice, abstention) reads the
cleaned text; bad input stops here with a QuestionError that says why.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from corpus.language import guess_language
from corpus.errors import UsageError
from qa.settings import MAX_K, MAX_QUESTION_CHARS, RAW_QUESTION_LIMIT

# Bidi overrides/isolates and other format/control characters: never meaningful in a question.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")


class QuestionError(UsageError):
    """A question that cannot be answered as given (empty, too long); the message says why."""


@dataclass(frozen=True)
class Question:
    text: str  # cleaned (see clean_question)
    language: str  # "ar" or "en" (corpus.language.guess_language)


def read_question(question: object) -> Question:
    """The cleaned question and the language it is asked in, or QuestionError."""
    text = clean_question(question)  # at most MAX_QUESTION_CHARS: judged whole
    return Question(text, guess_language(text))


def clean_question(question: object) -> str:
    """The question as Isnad will read it, or QuestionError."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    if len(question) > RAW_QUESTION_LIMIT:  # refuse huge input before scanning it character by character
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}"
        )
    text = _INVISIBLE.sub("", question)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text)
    # Composed (NFC), as the documents are stored: a decomposed question matches too.
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}"
        )
    if not any(c.isalnum() for c in text):
        raise QuestionError("the question has no words in it")
    return text


def clean_k(k: object, default: int) -> int:
    """k as a number of passages in 1..MAX_K (QuestionError for something that is not one)."""
    if k is None or k == 0:
        return max(1, min(int(default), MAX_K))
    try:
        value = int(k)
    except (TypeError, ValueError, OverflowError):
        raise QuestionError(f"k must be a whole number of passages, not {str(k)[:40]!r}") from None
    return max(1, min(value, MAX_K))
