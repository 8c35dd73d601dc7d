"""Page numbers end to end: page offsets of a paged document, the page of a citation
and of a passage in the Answer, the CLI's «ص N», the app's sources and viewer."""
from __future__ import annotations

from corpus.document import Document, page_at
from qa.pages import stream_with_pages, with_pages
from qa.types import Answer, Citation, Passage
from ui import app_render as R
from ui import app_viewer as V
from ui.cli import format_answer


def test_page_at_offsets():
    assert page_at((), 10) is None
    starts = (0, 100, 250)
    assert [page_at(starts, o) for o in (0, 99, 100, 249, 250, 10_000)] == [1, 1, 2, 2, 3, 3]
    doc = Document("r.pdf", "t", "x" * 300, "0", format="pdf", pages=starts)
    assert doc.page_at(120) == 2
    assert Document("r.txt", "t", "x", "0").page_at(0) is None


def _answer() -> Answer:
    text = "نص الصفحة الأولى.\n\nنص الصفحة الثانية هنا."
    second = text.index("نص الصفحة الثانية")
    c = Citation(1, "r.pdf", "تقرير", "r.pdf#0", text[second:], text, second, len(text), 0.9)
    p = Passage("r.pdf", "تقرير", "r.pdf#0", text, 0, len(text), 0.9)
    q = Passage("n.md", "ملاحظات", "n.md#0", "نص", 0, 2, 0.5)
    return Answer("س؟", f"{c.quote} [1]", False, [c], [p, q])


def page_of(doc_id: str, offset: int) -> int | None:
    return page_at((0, 19), offset) if doc_id.endswith(".pdf") else None


def test_with_pages_sets_the_page_of_quotes_and_passages():
    a = with_pages(_answer(), page_of)
    assert a.citations[0].page == 2  # the quote starts on page 2
    assert [p.page for p in a.passages] == [1, None]  # the passage starts on page 1; .md has none
    d = a.to_dict()
    assert d["citations"][0]["page"] == 2 and d["passages"][1]["page"] is None
    streamed = list(stream_with_pages(iter(["draft", _answer()]), page_of))
    assert streamed[0] == "draft" and streamed[1].citations[0].page == 2


def test_cli_and_app_show_the_page():
    a = with_pages(_answer(), page_of)
    assert "[1] تقرير — ص 2 (r.pdf)" in format_answer(a)  # the terminal: title, page, file
    panel = R.sources_html(a, 0, show_all=True)
    assert '<span class="isnad-page">ص 2</span>' in panel
    assert '<span class="isnad-page">ص 1</span>' not in panel  # the cited passage is shown once
    assert "ص 2" in R.plain_text(a)
    c = a.citations[0]
    head = V.document_header_html(V.DocView(c.doc_id, c.title, c.text, c.start, c.end, 0, len(c.text), "[1]", c.page))
    assert "ص 2، الأحرف" in head
    plain = with_pages(_answer(), lambda d, o: None)
    assert ", ص " not in format_answer(plain) and "isnad-page" not in R.sources_html(plain, 0, True)
