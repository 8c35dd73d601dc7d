"""Which script a text is written in: the one language test of Isnad.

Arabic letters (U+0600-U+06FF) are counted against ASCII Latin letters; a tie goes to
Arabic (the corpus language). Used for documents (the catalog's `language`), for
questions (cross-lingual retrieval), for passages and for a model's answers.
"""
from __future__ import annotations

LANGUAGE_SAMPLE_CHARS = 5000  # a document's language is judged on its beginning


def _counts(text: str) -> tuple[int, int]:
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return arabic, latin


def is_arabic(text: str) -> bool:
    """At least as many Arabic letters as Latin ones (the whole text)."""
    arabic, latin = _counts(text)
    return arabic >= latin


def has_arabic(text: str) -> bool:
    """Any Arabic letter at all."""
    return any("\u0600" <= c <= "\u06ff" for c in text)


def guess_language(text: str) -> str:
    """"ar" or "en" (more Latin letters than Arabic ones), from the first
    LANGUAGE_SAMPLE_CHARS characters; a text without letters counts as Arabic."""
    return "ar" if is_arabic(text[:LANGUAGE_SAMPLE_CHARS]) else "en"
