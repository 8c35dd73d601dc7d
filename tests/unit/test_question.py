"""qa.question: cleaning, limits, language of the question; corpus.language."""
from __future__ import annotations

import pytest

from corpus.language import guess_language, has_arabic, is_arabic
from qa.question import Question, QuestionError, clean_k, clean_question, read_question
from qa.settings import MAX_K, MAX_QUESTION_CHARS, RAW_QUESTION_LIMIT

pytestmark = pytest.mark.unit


def test_cleaning_drops_invisible_marks_and_folds_space():
    raw = "\u202b  متى\u200f وقعت\n\tالمعاهدة؟ \ufeff"
    assert clean_question(raw) == "متى وقعت المعاهدة؟"


def test_a_decomposed_question_is_composed():
    assert clean_question("caf\u0065\u0301?") == "caf\u00e9?"


@pytest.mark.parametrize("bad, says", [
    ("", "empty"), ("   \u200b ", "empty"), ("؟؟ !!", "no words"), (None, "must be text"),
    (42, "must be text"), ("س" * (MAX_QUESTION_CHARS + 1), "limit is"),
    (" " * (RAW_QUESTION_LIMIT + 1), "limit is"),
])
def test_bad_questions_say_why(bad, says):
    with pytest.raises(QuestionError, match=says):
        clean_question(bad)


def test_read_question_knows_the_language():
    assert read_question(" متى وقعت المعاهدة؟ ") == Question("متى وقعت المعاهدة؟", "ar")
    assert read_question("When was the treaty signed?").language == "en"
    # A tie of scripts, or no letters at all, goes to Arabic, the corpus language.
    assert read_question("ab مع").language == "ar"
    assert read_question("2024?").language == "ar"


@pytest.mark.parametrize("k, want", [(None, 5), (0, 5), (-3, 1), (7, 7), ("7", 7), (3.9, 3),
                                     (10**12, MAX_K)])
def test_k_is_clamped_to_one_limit(k, want):
    assert clean_k(k, 5) == want


def test_a_k_that_is_not_a_number_is_refused():
    with pytest.raises(QuestionError, match="whole number"):
        clean_k("five", 5)


def test_language_of_text():
    assert guess_language("هذا نص عربي طويل فيه with some words") == "ar"
    assert guess_language("An English abstract about طشقند") == "en"
    assert guess_language("12345 ...") == "ar"
    # Documents are judged on their beginning only.
    assert guess_language("x" * 5000 + "ع" * 6000) == "en"
    assert is_arabic("x" * 5000 + "ع" * 6000)  # a text as a whole (a model's answer)
    assert has_arabic("Samarkand سمرقند") and not has_arabic("Samarkand")
