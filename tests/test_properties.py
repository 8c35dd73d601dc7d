"""Property tests: offsets stay exact and nothing crashes, whatever the text."""
from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.chunker import ChunkingParams, chunk_document, find_headings
from corpus.document import Document
from corpus.normalize import find_normalized, normalize, normalize_with_offsets
from corpus.sentences import split_sentences

SETTINGS = settings(max_examples=200, deadline=None)

# Arabic letters, tashkeel, tatweel, digits of three scripts, presentation forms,
# invisible marks, punctuation that does and does not end sentences, white space.
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةىٱ"
MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640"
DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬"
FORMS = "ﻻﻷﺍﻟﺴﻼﻡﺓﷲ\u200c\u200f\ufeff"
PUNCT = ".،,؟?!؛;:…\"«»()-#"
SPACE = " \n\n\t\r\u00a0"
ALPHABET = ARABIC + MARKS + DIGITS + FORMS + PUNCT + SPACE + "abcXYZ"

arabic_text = st.text(alphabet=ALPHABET, max_size=400)
# whole words and lines too, so sentences and headings really occur
words = st.text(alphabet=ARABIC + MARKS, min_size=1, max_size=12)
tokens = st.one_of(words, st.sampled_from([" ", " ", "\n", "\n\n", ". ", "؟ ", "، ", "؛ ", "# ",
                                          "3.5", "٢٠٢٤", "ا.م.د", "...", "!", "«", "»"]))
structured_text = st.lists(tokens, max_size=300).map("".join)
any_text = st.one_of(st.text(max_size=300), arabic_text, structured_text)


@SETTINGS
@given(any_text)
def test_normalize_with_offsets_bounds(text):
    norm, offsets = normalize_with_offsets(text)
    assert len(offsets) == len(norm) + 1
    assert offsets[-1] == len(text)
    assert all(0 <= o < len(text) for o in offsets[:-1])
    assert offsets == sorted(offsets)  # monotone: spans map to spans
    assert norm == normalize(text)


@SETTINGS
@given(arabic_text)
def test_normalize_is_idempotent_on_arabic(text):
    once = normalize(text)
    assert normalize(once) == once


def _folded(s: str) -> str:
    return " ".join(s.split())


@SETTINGS
@given(any_text, st.data())
def test_find_normalized_span_renormalizes_to_needle(text, data):
    """Any piece of the normalized text is found, and the source span maps back to it.

    A source character can normalize to several (ﻻ -> لا, ﷲ -> الله): a needle that
    ends inside such an expansion gets the whole source character, so the span
    re-normalizes to the needle plus at most the rest of that expansion."""
    norm = normalize(text)
    if not norm.strip():
        return
    i = data.draw(st.integers(0, len(norm) - 1))
    j = data.draw(st.integers(i + 1, len(norm)))
    needle = norm[i:j]
    span = find_normalized(text, needle)
    if not needle.strip():
        assert span is None
        return
    assert span is not None
    start, end = span
    assert 0 <= start < end <= len(text)
    found, wanted = _folded(normalize(text[start:end])), _folded(needle)
    assert wanted in found
    if found != wanted:  # only when the needle cut an expanded character
        assert any(len(normalize(ch)) > 1 for ch in text[start:end])
        assert len(found) - len(wanted) <= 2 * 3


@SETTINGS
@given(any_text)
def test_split_sentences_spans(text):
    spans = split_sentences(text)
    prev_end = 0
    for s in spans:
        assert 0 <= prev_end <= s.start < s.end <= len(text)  # in bounds, ordered, disjoint
        piece = text[s.start:s.end]
        assert piece == piece.strip()  # trimmed
        assert "\n" not in piece  # a line break always ends a sentence
        assert any(ch.isalnum() for ch in piece)
        prev_end = s.end
    # nothing with letters or digits is lost between sentences
    covered = set()
    for s in spans:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, ch in enumerate(text) if ch.isalnum())


@SETTINGS
@given(any_text, st.integers(0, 50), st.integers(0, 50))
def test_split_sentences_within_range(text, a, b):
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    for s in split_sentences(text, start, end):
        assert start <= s.start < s.end <= end


params = st.builds(
    lambda target, overlap_frac, max_sentence: ChunkingParams(
        target_chars=target, overlap_chars=int(overlap_frac * (target - 1)),
        max_sentence_chars=max_sentence),
    st.integers(50, 400), st.floats(0, 0.9), st.integers(20, 500),
)


@SETTINGS
@given(st.one_of(structured_text, arabic_text), params)
def test_chunk_offsets_exact(text, p):
    doc = Document(doc_id="d.txt", title="t", text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    chunks = chunk_document(doc, p)
    headings = {title for _, title in find_headings(text)}
    for i, c in enumerate(chunks):
        assert c.ordinal == i and c.chunk_id == f"d.txt#{i}"
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text
        assert c.text.strip()
        assert c.end - c.start <= max(p.target_chars, p.max_sentence_chars)
        assert c.section == "" or c.section in headings
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:]))
    # every sentence's letters end up in some chunk
    if any(ch.isalnum() for ch in text):
        assert chunks
        for s in split_sentences(text):
            for k in range(s.start, s.end):
                if text[k].isalnum():
                    assert any(c.start <= k < c.end for c in chunks), (k, s)
