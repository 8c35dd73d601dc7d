"""Format readers on documents made by real producers (tests/fixtures/user_docs, made
by tests/fixtures/make_fixtures.py): PDFs from Chromium, LibreOffice and reportlab in
logical order with pages; HTML main content; DOCX headings and tables; Markdown
without markup; titles from the document when the metadata has none."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.bidi_lines import base_letters, is_presentation_form, visual_to_logical
from corpus.chunker import chunk_document
from corpus.document import DocumentError
from corpus.loaders import load_document
from corpus.sentences import split_sentences
from corpus.textblocks import table_lines, usable_title

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOCS = FIXTURES / "user_docs"
PDFS = ["chromium-lake.pdf", "libreoffice-port.pdf", "reportlab-oasis.pdf"]
PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")


def load(name: str):
    return load_document(DOCS / name, name)


def expected_pages(name: str) -> list[str]:
    text = (FIXTURES / "expected" / name.replace(".pdf", ".txt")).read_text(encoding="utf-8")
    return [" ".join(page.split()) for page in text.split("\f")]


def page_texts(doc) -> list[str]:
    bounds = [*doc.pages, len(doc.text)]
    return [" ".join(doc.text[a:b].split()) for a, b in zip(bounds, bounds[1:])]


# -- PDF -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", PDFS)
def test_pdf_text_is_the_expected_logical_text_page_by_page(name):
    doc = load(name)
    assert doc.format == "pdf" and len(doc.pages) == 2 and doc.pages[0] == 0
    assert page_texts(doc) == expected_pages(name)
    assert not PRESENTATION.search(doc.text)


@pytest.mark.parametrize("name", PDFS)
def test_pdf_running_headers_footers_and_page_numbers_are_dropped(name):
    text = load(name).text
    for furniture in ("file:", "ﬁle:", "AM", "PM", "تقرير ميناء الرمال السنوي", "صفحة",
                      "نشرة الواحة الزراعية", "1/2", "2/2"):
        assert furniture not in text, furniture
    assert not re.search(r"^\s*\d+\s*$", text, re.M), "a bare page number line"


@pytest.mark.parametrize("name", PDFS)
def test_pdf_page_break_ends_a_sentence_and_titles_come_from_the_first_heading(name):
    doc = load(name)
    # Metadata titles were «lake.html», "untitled" and none: the first heading wins.
    assert doc.title == expected_pages(name)[0].split(" يبلغ")[0].split(" بلغت")[0].split(" تضم")[0]
    second = doc.pages[1]
    assert doc.text[second - 2:second] == "\n\n"
    assert any(s.start == second for s in split_sentences(doc.text))
    assert doc.page_at(second - 3) == 1 and doc.page_at(second) == 2
    chunks = chunk_document(doc)
    assert all(doc.page_at(c.start) in (1, 2) for c in chunks)
    assert {c.section for c in chunks} <= {h for _, h in doc.headings}


def test_pdf_without_text_layer_says_it_needs_ocr(tmp_path):
    from tests.unit.test_corpus_loaders import make_pdf

    (tmp_path / "scan.pdf").write_bytes(make_pdf([]))
    with pytest.raises(DocumentError, match=r"^scan\.pdf: .*no text layer.*OCR"):
        load_document(tmp_path / "scan.pdf", "scan.pdf")


# -- bidi, base letters --------------------------------------------------------------

def test_visual_line_back_to_logical_order():
    # A line as a reportlab user writes it (reshaped, display order), glyph by glyph.
    from_display = list(reversed("نحو 42000 زائر"))
    from_display = [u for u in "".join(from_display).replace("00024", "42000")]
    assert visual_to_logical(from_display) == "نحو 42000 زائر"
    # Latin inside Arabic keeps its own order; brackets are mirrored back.
    visual = list("(Tourism Authority) ةئيه")  # as displayed: mirrored glyphs
    assert visual_to_logical(visual, rtl_document=True) == "هيئة (Tourism Authority)"
    assert visual_to_logical(list("ةئيه 3")) == "3 هيئة"
    # A left-to-right line is left as it is.
    assert visual_to_logical(list("Page 3 of 10")) == "Page 3 of 10"


def test_presentation_forms_become_base_letters_only_there():
    assert base_letters("ﻳﺒﻠﻎ ﻋﻤﻖ") == "يبلغ عمق"
    assert base_letters("ﻻ") == "لا"  # a lam-alef ligature is two letters
    assert base_letters("\ufe70") == "\u064b"  # spacing tanween form: the mark, no space
    assert base_letters("ﬁle ①²") == "ﬁle ①²"  # other compatibility characters stay
    assert not any(is_presentation_form(c) for c in base_letters("ﺑﺤﻴﺮﺓ ﺍﻟﻘﻤﺮ"))


# -- HTML ----------------------------------------------------------------------------

def test_html_main_content_without_menu_footer_or_related_links():
    doc = load("museum-news.html")
    for furniture in ("الرئيسية", "اتصل بنا", "جريدة الضحى", "جميع الحقوق محفوظة",
                      "سياسة الخصوصية", "أخبار ذات صلة", "مهرجان الشعر", "ثقافة", "dataLayer"):
        assert furniture not in doc.text, furniture
    # inline <strong>, <a>, <em> do not cut the sentence
    sentences = [doc.text[s.start:s.end] for s in split_sentences(doc.text)]
    assert any("وقد زاره نحو 85000 زائر خلال الشهر الأول" in s for s in sentences)
    assert any("المعماري سامي الحداد على مساحة 6000 متر مربع" in s for s in sentences)
    # <title> is a file name: the first heading is the title; headings make sections
    assert doc.title == "افتتاح متحف الخط العربي في مدينة النور"
    assert [h for _, h in doc.headings] == ["افتتاح متحف الخط العربي في مدينة النور", "المبنى"]
    assert doc.date == "2025-03-14"


def test_html_without_main_or_article_drops_nav_header_footer(tmp_path):
    html = ("<html><body><header>شعار الموقع</header><nav><a>الرئيسية</a></nav>"
            "<div id='sidebar'>روابط جانبية</div><h1>عنوان الخبر</h1>"
            "<p>افتتح <b>الجسر الجديد</b> أمس.</p><footer>حقوق النشر</footer></body></html>")
    (tmp_path / "p.html").write_text(html, encoding="utf-8")
    doc = load_document(tmp_path / "p.html", "p.html")
    assert doc.text == "عنوان الخبر\n\nافتتح الجسر الجديد أمس."
    # a content wrapper whose class name looks like furniture is kept
    (tmp_path / "q.html").write_text("<html><body><div class='post has-comments'><p>نص المقال كله هنا."
                                     "</p><div class='comments'>تعليق</div></div></body></html>", encoding="utf-8")
    assert load_document(tmp_path / "q.html", "q.html").text == "نص المقال كله هنا."


# -- DOCX ----------------------------------------------------------------------------

def test_docx_headings_are_sections_and_tables_are_readable_rows():
    doc = load("cement-exports.docx")
    lines = doc.text.split("\n")
    assert "السنة: 2024 — الصادرات بالطن: 585000" in lines
    assert [h for _, h in doc.headings] == ["صادرات شركة الفجر للأسمنت", "الصادرات السنوية", "المصانع والعمال"]
    assert doc.title == "صادرات شركة الفجر للأسمنت"  # core title empty
    sentences = [doc.text[s.start:s.end] for s in split_sentences(doc.text)]
    assert "السنة: 2024 — الصادرات بالطن: 585000" in sentences
    for s in sentences:  # no heading glued to a sentence
        assert s in [h for _, h in doc.headings] or not any(h in s for _, h in doc.headings if h != s)
    by_text = {c.text: c.section for c in chunk_document(doc)}
    assert any("2100 عامل" in t and sec == "المصانع والعمال" for t, sec in by_text.items())


def test_table_lines():
    assert table_lines([["السنة", "القيمة"], ["2024", "5"], ["", ""], ["2025", ""]]) == [
        "السنة: 2024 — القيمة: 5", "السنة: 2025"]
    assert table_lines([["وحيد", "صف"]]) == ["وحيد — صف"]


# -- Markdown ------------------------------------------------------------------------

def test_markdown_text_has_no_markup_and_headings_are_sections():
    doc = load("wind-project.md")
    for mark in ("#", "**", "*", "`", "[", "](", "https://", "> ", "- "):
        assert mark not in doc.text, mark
    assert "بلغت الكلفة الإجمالية للمشروع 480 مليون دولار ممولة من ثلاثة مصارف وطنية." in doc.text
    assert [h for _, h in doc.headings] == ["مشروع محطة الرياح في تلال الغيم", "التمويل", "القدرة الإنتاجية"]
    for off, heading in doc.headings:  # offsets are exact in the stored text
        assert doc.text[off:off + len(heading)] == heading
    sections = {c.section for c in chunk_document(doc)}
    assert sections <= {h for _, h in doc.headings}


def test_markdown_table_and_code(tmp_path):
    md = "# جدول\n\n| المدينة | السكان |\n|---|---|\n| باكو | 2300000 |\n\n```\nprint(1)\n```\n"
    (tmp_path / "t.md").write_text(md, encoding="utf-8")
    doc = load_document(tmp_path / "t.md", "t.md")
    assert doc.text == "جدول\n\nالمدينة: باكو — السكان: 2300000\nprint(1)"


# -- titles --------------------------------------------------------------------------

@pytest.mark.parametrize("title,usable", [
    ("b.html", False), ("untitled", False), ("Untitled document", False), ("", False),
    (None, False), ("Microsoft Word - تقرير.docx", False), ("C:\\Users\\a\\x.doc", False),
    ("report_final.v2", False), ("بدون عنوان", False),
    ("ميناء الرمال في عام 2024", True), ("Annual Report 2024", True),
])
def test_usable_title(title, usable):
    assert usable_title(title) is usable


def test_a_file_name_title_falls_back_to_the_first_line(tmp_path):
    from tests.unit.test_corpus_loaders import make_docx

    make_docx(tmp_path / "m.docx", ["العنوان الحقيقي للمذكرة", "نص المذكرة."], title="Microsoft Word - m.docx")
    assert load_document(tmp_path / "m.docx", "m.docx").title == "العنوان الحقيقي للمذكرة"
