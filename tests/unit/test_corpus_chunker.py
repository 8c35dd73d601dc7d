"""Sentence spans and chunks: exact offsets, sizes, overlap and sections."""
from __future__ import annotations

import hashlib

import pytest

from corpus.chunker import ChunkingParams, chunk_document, find_headings
from corpus.document import Document
from corpus.loaders import SHIPPED_DOCUMENTS, Skipped, iter_documents
from corpus.sentences import split_sentences

pytestmark = pytest.mark.unit


def _doc(text: str, doc_id: str = "test.txt") -> Document:
    return Document(doc_id=doc_id, title="t", text=text,
                    sha256=hashlib.sha256(text.encode()).hexdigest())


def _sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


@pytest.fixture(scope="module")
def shipped_docs() -> list[Document]:
    docs = list(iter_documents(SHIPPED_DOCUMENTS))
    assert not [d for d in docs if isinstance(d, Skipped)]
    assert len(docs) == 5
    return docs


# -- sentences -----------------------------------------------------------------------

def test_arabic_sentence_ends():
    text = "هل وصل الوفد؟ نعم وصل؛ ثم بدأ الاجتماع. كان ناجحاً! سطر أول\nسطر ثان"
    assert _sentences(text) == [
        "هل وصل الوفد؟", "نعم وصل؛", "ثم بدأ الاجتماع.", "كان ناجحاً!", "سطر أول", "سطر ثان",
    ]


def test_arabic_comma_does_not_end_a_sentence():
    text = "اجتمع وزراء كازاخستان، وقيرغيزستان، وطاجيكستان في سمرقند."
    assert _sentences(text) == [text]


@pytest.mark.parametrize("text", [
    "ارتفع النمو إلى 3.5 في المئة هذا العام.",
    "بلغت الميزانية 1.250.000 دولار تقريباً.",
    "كتب ا.م.د علي جاسم البحث.",
])
def test_dots_inside_numbers_and_abbreviations_do_not_split(text):
    assert _sentences(text) == [text]


def test_closing_quote_stays_with_its_sentence_and_spans_are_trimmed():
    text = '  قال الوزير: "هل نوافق؟"   ثم صمت.  \n\n  '
    spans = split_sentences(text)
    assert [text[s.start:s.end] for s in spans] == ['قال الوزير: "هل نوافق؟"', "ثم صمت."]


def test_punctuation_only_lines_are_not_sentences():
    assert _sentences("أولاً.\n.\n---\n؟\nثانياً") == ["أولاً.", "ثانياً"]


def test_split_sentences_within_a_range():
    text = "جملة أولى. جملة ثانية. جملة ثالثة."
    start = text.index("جملة ثانية")
    spans = split_sentences(text, start, len(text))
    assert [text[s.start:s.end] for s in spans] == ["جملة ثانية.", "جملة ثالثة."]


# -- chunks of the shipped documents ---------------------------------------------------

PARAMS = [
    ChunkingParams(),
    ChunkingParams(target_chars=300, overlap_chars=60, max_sentence_chars=400),
    ChunkingParams(target_chars=1200, overlap_chars=0, max_sentence_chars=1500),
    ChunkingParams(target_chars=120, overlap_chars=40, max_sentence_chars=150),
]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"t{p.target_chars}-o{p.overlap_chars}")
def test_shipped_chunks_round_trip_and_respect_sizes(shipped_docs, params):
    for doc in shipped_docs:
        chunks = chunk_document(doc, params)
        assert chunks, doc.doc_id
        for i, c in enumerate(chunks):
            assert c.doc_id == doc.doc_id and c.ordinal == i
            assert 0 <= c.start < c.end <= len(doc.text)
            assert doc.text[c.start:c.end] == c.text
            assert c.text.strip(), c.chunk_id
            size = c.end - c.start
            if size > params.target_chars:
                # only a single (possibly cut) sentence may exceed the target
                assert size <= params.max_sentence_chars, c.chunk_id
                assert len(split_sentences(doc.text, c.start, c.end)) == 1, c.chunk_id
        # chunks advance through the document
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        assert all(b.start > a.start and b.end > a.end for a, b in zip(chunks, chunks[1:]))
        # no text is lost: every sentence lies inside some chunk
        for s in split_sentences(doc.text):
            inside = [c for c in chunks if c.start <= s.start and s.end <= c.end]
            if s.end - s.start <= params.max_sentence_chars:
                assert inside, (doc.doc_id, s)
            else:  # cut into pieces, each inside a chunk, covering it
                covered = sorted((max(c.start, s.start), min(c.end, s.end))
                                 for c in chunks if c.start < s.end and c.end > s.start)
                assert covered[0][0] == s.start and covered[-1][1] == s.end
        # overlapping chunks never exceed the allowed overlap
        for a, b in zip(chunks, chunks[1:]):
            assert a.end - b.start <= max(params.overlap_chars, 0) or b.start >= a.end


def test_shipped_chunk_ids_unique(shipped_docs):
    ids = [c.chunk_id for d in shipped_docs for c in chunk_document(d)]
    assert len(ids) == len(set(ids))
    assert all(cid.startswith(cid.split("#")[0]) and "#" in cid for cid in ids)


def test_chunk_ids_are_unique_and_stable():
    text = "جملة مكررة تماماً هنا. " * 200
    doc = _doc(text)
    a = chunk_document(doc, ChunkingParams(target_chars=200, overlap_chars=50))
    b = chunk_document(doc, ChunkingParams(target_chars=200, overlap_chars=50))
    assert len({c.chunk_id for c in a}) == len(a) > 5
    assert [(c.chunk_id, c.start, c.end) for c in a] == [(c.chunk_id, c.start, c.end) for c in b]
    # repeated text still gets its own offsets (no str.find confusion)
    assert len({c.start for c in a}) == len(a)
    assert all(text[c.start:c.end] == c.text for c in a)


# -- size, overlap, over-long sentences -------------------------------------------------

def _running_text(n: int, width: int = 60) -> str:
    """n sentences of exactly `width` characters (the full stop included), one line."""
    sentences = []
    for i in range(n):
        body = f"الجملة رقم {i} تتحدث عن التعاون العسكري "
        body = (body + "و" * width)[: width - 1] + "."
        sentences.append(body)
    return " ".join(sentences)


def test_overlap_really_overlaps_consecutive_chunks():
    text = _running_text(40)
    params = ChunkingParams(target_chars=400, overlap_chars=130)
    chunks = chunk_document(_doc(text), params)
    assert len(chunks) >= 5
    for a, b in zip(chunks, chunks[1:]):
        shared = a.end - b.start
        assert 0 < shared <= params.overlap_chars, (a, b)
        # the overlap is made of whole sentences: b starts where a sentence of a starts
        assert b.start in {s.start for s in split_sentences(text, a.start, a.end)}
    for c in chunks:
        assert c.end - c.start <= params.target_chars


def test_no_overlap_when_overlap_is_zero():
    text = _running_text(40)
    chunks = chunk_document(_doc(text), ChunkingParams(target_chars=400, overlap_chars=0))
    assert len(chunks) >= 5
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.end
        assert text[a.end:b.start].strip() == ""  # nothing between them is lost


def test_over_long_sentence_is_cut_at_max_sentence_chars():
    words = " ".join(f"كلمة{i}" for i in range(700))  # one sentence, ~5600 chars, no stop
    text = "مقدمة قصيرة. " + words + ". خاتمة قصيرة."
    params = ChunkingParams(target_chars=500, overlap_chars=100, max_sentence_chars=800)
    chunks = chunk_document(_doc(text), params)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert max(c.end - c.start for c in chunks) <= params.max_sentence_chars
    big = [c for c in chunks if c.end - c.start > params.target_chars]
    assert len(big) >= 5
    for c in big:
        # cut at white space, between words
        assert not c.text[0].isspace() and c.text[-1].strip()
        assert c.start == 0 or text[c.start - 1] == " "
    # every word survives in some chunk
    joined = " ".join(c.text for c in chunks)
    assert all(f"كلمة{i}" in joined for i in (0, 1, 350, 698, 699))


def test_over_long_sentence_without_spaces_is_cut_hard():
    text = "ا" * 2500
    params = ChunkingParams(target_chars=300, overlap_chars=0, max_sentence_chars=1000)
    chunks = chunk_document(_doc(text), params)
    assert [(c.start, c.end) for c in chunks] == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_chunking_params_validation():
    with pytest.raises(ValueError):
        ChunkingParams(target_chars=10)
    with pytest.raises(ValueError):
        ChunkingParams(target_chars=200, overlap_chars=200)
    with pytest.raises(ValueError):
        ChunkingParams(target_chars=200, overlap_chars=-1)


def test_empty_and_blank_documents_have_no_chunks():
    assert chunk_document(_doc("")) == []
    assert chunk_document(_doc("   \n\n  ")) == []


# -- sections -----------------------------------------------------------------------------

def _section_of(headings: list[tuple[int, str]], offset: int) -> str:
    current = ""
    for off, title in headings:
        if off <= offset:
            current = title
    return current


def _body(topic: str, n: int) -> str:
    return " ".join(f"هذه الجملة {i} من فقرة {topic} وتشرح جانباً من الموضوع بالتفصيل." for i in range(n))


def test_markdown_sections():
    parts = [("# مقدمة", "المقدمة"), ("## التاريخ", "التاريخ"), ("## الاقتصاد", "الاقتصاد"),
             ("### الطاقة والنقل", "الطاقة")]
    text = "\n\n".join(f"{h}\n\n{_body(topic, 20)}" for h, topic in parts) + "\n"
    headings = find_headings(text)
    assert [t for _, t in headings] == ["مقدمة", "التاريخ", "الاقتصاد", "الطاقة والنقل"]
    assert [off for off, _ in headings] == [text.index(h) for h, _ in parts]

    chunks = chunk_document(_doc(text, "doc.md"), ChunkingParams(target_chars=500, overlap_chars=100))
    assert len(chunks) > 8
    for c in chunks:
        assert c.section == _section_of(headings, c.start), c
    assert {c.section for c in chunks} == {t for _, t in headings}
    # A heading starts a new chunk unless the text gathered before it is short (at
    # most a third of the target): only such a short tail may share a chunk with
    # the next section, and the chunk then carries the earlier heading.
    for c in chunks:
        topics = {topic for _, topic in parts if f"فقرة {topic} " in c.text}
        assert len(topics) <= 2, c.text[:80]
        for off, _ in headings:
            if c.start < off < c.end:
                assert off - c.start <= 500 // 3 + 70, c  # + one sentence
    heading_offsets = {off for off, _ in headings}
    assert sum(c.start in heading_offsets for c in chunks) >= 2


def test_arabic_short_heading_lines():
    text = (
        "وحدة المصير العسكري\n"
        + _body("الأولى", 15) + "\n"
        + "ملامح تحول استراتيجي\n"
        + _body("الثانية", 15) + "\n"
        + "هذا سطر قصير ينتهي بنقطة.\n"  # running text, not a heading
        + "قائمة:\n"  # ends with a colon: not a heading
        + "- بند في قائمة\n"
        + _body("الثالثة", 3) + "\n"
    )
    headings = find_headings(text)
    assert [t for _, t in headings] == ["وحدة المصير العسكري", "ملامح تحول استراتيجي"]
    chunks = chunk_document(_doc(text), ChunkingParams(target_chars=400, overlap_chars=80))
    second = text.index("ملامح تحول استراتيجي")
    for c in chunks:
        expected = "وحدة المصير العسكري" if c.start < second else "ملامح تحول استراتيجي"
        assert c.section == expected, c
    # the second heading starts a chunk of its own
    assert any(c.start == second for c in chunks)


def test_shipped_sections_are_headings_of_the_document(shipped_docs):
    for doc in shipped_docs:
        headings = find_headings(doc.text)
        titles = {t for _, t in headings}
        for c in chunk_document(doc):
            if c.section:
                assert c.section in titles
                assert c.section == _section_of(headings, c.start) or not _section_of(headings, c.start)
            else:
                assert not any(c.start <= off < c.end for off, _ in headings) and \
                    not any(off <= c.start for off, _ in headings)
    samarkand = next(d for d in shipped_docs if d.doc_id.startswith("central-asia"))
    sections = {c.section for c in chunk_document(samarkand)}
    assert {"وحدة المصير العسكري", "ملامح تحول استراتيجي"} <= sections
