"""Loading .txt .md .html .pdf .docx files, skipping bad ones with a clear reason."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from corpus.document import Document, DocumentError
from corpus.loaders import (
    SHIPPED_DOCUMENTS,
    Skipped,
    iter_documents,
    list_files,
    load_document,
    read_catalog,
)

pytestmark = pytest.mark.unit

AR = "وقّعت أذربيجان وأوزبكستان معاهدة التحالف في طشقند عام ٢٠٢٤."


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A minimal valid one-page PDF. With `lines`, a Helvetica text object shows them
    (ASCII only); without, the page only draws a line (no text layer)."""
    if lines:
        shown = " ".join(f"({line}) '" for line in lines)
        content = f"BT /F1 12 Tf 72 720 Td 14 TL {shown} ET".encode("ascii")
    else:
        content = b"0 0 m 200 200 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(b"<< /Title (%s) >>" % title.encode("ascii"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    info = b" /Info 6 0 R" if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info, xref)
    return bytes(out)


def make_docx(path: Path, paragraphs: list[str], title: str | None = None) -> None:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if title:
        d.core_properties.title = title
    d.save(str(path))


# -- formats -------------------------------------------------------------------------

def test_txt(tmp_path):
    raw = ("عنوان التقرير\r\n" + AR + "\r\n").encode("utf-8")
    (tmp_path / "r.txt").write_bytes(raw)
    doc = load_document(tmp_path / "r.txt", "r.txt")
    assert doc.text == "عنوان التقرير\n" + AR + "\n"  # CRLF -> LF, offsets refer to this
    assert doc.title == "عنوان التقرير"
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.format == "txt" and doc.language == "ar"


def test_txt_with_bom_and_iso_date(tmp_path):
    (tmp_path / "d.txt").write_bytes("\ufeffتقرير\nنشر في 2024-11-03 في باكو.".encode("utf-8"))
    doc = load_document(tmp_path / "d.txt", "d.txt")
    assert not doc.text.startswith("\ufeff")
    assert doc.date == "2024-11-03"


def test_md_title_from_heading(tmp_path):
    (tmp_path / "notes.md").write_text("مقدمة قصيرة\n\n# الممر الأوسط\n\n" + AR, encoding="utf-8")
    doc = load_document(tmp_path / "notes.md", "notes.md")
    assert doc.title == "الممر الأوسط"
    assert doc.format == "md"
    assert AR in doc.text


def test_catalog_title_wins(tmp_path):
    (tmp_path / "notes.md").write_text("# عنوان من الملف\n\n" + AR, encoding="utf-8")
    doc = load_document(tmp_path / "notes.md", "notes.md",
                        {"title": "عنوان الفهرس", "source": "الوفاق", "date": "2024-11-03"})
    assert (doc.title, doc.source, doc.date) == ("عنوان الفهرس", "الوفاق", "2024-11-03")


def test_html_drops_scripts_and_styles_and_uses_title(tmp_path):
    html = f"""<!doctype html><html><head><meta charset="utf-8">
    <title>  معاهدة باكو وطشقند </title>
    <style>body {{ color: red; }} .secret-style {{}}</style>
    <script>var secretScript = "لا تظهر";</script></head>
    <body><h1>العنوان الرئيسي</h1><p>{AR}</p>
    <noscript>noscript-text</noscript><p>فقرة&nbsp;ثانية   بمسافات.</p>
    <script type="text/javascript">alert('x')</script></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    doc = load_document(tmp_path / "page.html", "page.html")
    assert doc.title == "معاهدة باكو وطشقند"
    assert AR in doc.text and "العنوان الرئيسي" in doc.text
    for hidden in ("secretScript", "secret-style", "color: red", "alert", "noscript-text", "لا تظهر"):
        assert hidden not in doc.text
    assert "فقرة ثانية بمسافات." in doc.text
    assert doc.format == "html"
    # .htm is the same format
    (tmp_path / "page.htm").write_text(html, encoding="utf-8")
    assert load_document(tmp_path / "page.htm", "page.htm").format == "html"


def test_docx(tmp_path):
    make_docx(tmp_path / "memo.docx", ["مذكرة التعاون", AR, "الفقرة الثالثة."], title="مذكرة رسمية")
    doc = load_document(tmp_path / "memo.docx", "memo.docx")
    assert doc.text.split("\n") == ["مذكرة التعاون", AR, "الفقرة الثالثة."]
    assert doc.title == "مذكرة رسمية"
    assert doc.format == "docx"
    make_docx(tmp_path / "untitled.docx", ["العنوان من السطر الأول", AR])
    assert load_document(tmp_path / "untitled.docx", "untitled.docx").title == "العنوان من السطر الأول"


def test_pdf_with_text_layer(tmp_path):
    (tmp_path / "report.pdf").write_bytes(
        make_pdf(["Tashkent Consultations 2025", "The ministers met in Samarkand."], title="Defence Report"))
    doc = load_document(tmp_path / "report.pdf", "report.pdf")
    assert "Tashkent Consultations 2025" in doc.text
    assert "The ministers met in Samarkand." in doc.text
    assert doc.title == "Defence Report"
    assert doc.format == "pdf" and doc.language == "en"
    (tmp_path / "untitled.pdf").write_bytes(make_pdf(["First line as title", "", "More text."]))
    assert load_document(tmp_path / "untitled.pdf", "untitled.pdf").title == "First line as title"


# -- bad files -----------------------------------------------------------------------

BAD_FILES = {
    "empty.txt": (b"", "no text"),
    "blank.md": (b"  \n\n\t \n", "no text"),
    "binary.txt": (bytes(range(256)) * 4, "binary"),
    "latin1.txt": ("café résumé naïve".encode("latin-1"), "UTF-8"),
    "scan.pdf": (make_pdf([]), "no text layer"),
    "broken.pdf": (b"%PDF-1.4\nthis is not really a pdf", "PDF"),
    "broken.docx": (b"PK\x03\x04 not a real zip", "docx"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_raises_document_error_naming_it(tmp_path, name):
    raw, phrase = BAD_FILES[name]
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(DocumentError) as info:
        load_document(tmp_path / name, f"sub/{name}")
    message = str(info.value)
    assert message.startswith(f"sub/{name}: ")
    assert phrase.lower() in message.lower()
    assert "\n" not in message


def test_iter_documents_skips_bad_files_and_loads_the_rest(tmp_path):
    for name, (raw, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(raw)
    (tmp_path / "good.txt").write_text(AR, encoding="utf-8")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "good.md").write_text("# عنوان\n\n" + AR, encoding="utf-8")
    make_docx(tmp_path / "nested" / "memo.docx", [AR])
    (tmp_path / "report.pdf").write_bytes(make_pdf(["Plain English text in a PDF."]))
    # not documents: unsupported types, hidden files, the catalog itself
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / ".hidden.txt").write_text(AR, encoding="utf-8")
    (tmp_path / "catalog.json").write_text(
        json.dumps({"good.txt": {"title": "عنوان من الفهرس", "date": "2025-09-13"}}, ensure_ascii=False),
        encoding="utf-8")

    results = list(iter_documents(tmp_path))
    loaded = {r.doc_id: r for r in results if isinstance(r, Document)}
    skipped = {r.doc_id: r for r in results if isinstance(r, Skipped)}
    assert set(loaded) == {"good.txt", "nested/deeper/good.md", "nested/memo.docx", "report.pdf"}
    assert set(skipped) == set(BAD_FILES)
    for doc_id, s in skipped.items():
        assert s.reason.startswith(f"{doc_id}: ") and BAD_FILES[doc_id][1].lower() in s.reason.lower()
    assert loaded["good.txt"].title == "عنوان من الفهرس"
    assert loaded["good.txt"].date == "2025-09-13"
    assert loaded["nested/deeper/good.md"].title == "عنوان"
    # results come sorted by path, and list_files agrees on what is a document
    assert [r.doc_id for r in results] == sorted(r.doc_id for r in results)
    assert set(list_files(tmp_path)) == set(loaded) | set(skipped)


def test_iter_documents_on_missing_dir_and_bad_catalog(tmp_path):
    with pytest.raises(DocumentError, match="not a directory"):
        list(iter_documents(tmp_path / "nope"))
    (tmp_path / "catalog.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DocumentError, match="catalog"):
        read_catalog(tmp_path)


def test_oversized_file_is_skipped(tmp_path, monkeypatch):
    import corpus.loaders as loaders

    monkeypatch.setattr(loaders, "MAX_DOCUMENT_BYTES", 1000)
    (tmp_path / "big.txt").write_text("ا" * 2000, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"^big\.txt: .*limit"):
        load_document(tmp_path / "big.txt", "big.txt")


# -- the shipped corpus ---------------------------------------------------------------

def test_shipped_catalog_gives_titles_and_dates():
    catalog = json.loads((SHIPPED_DOCUMENTS / "catalog.json").read_text(encoding="utf-8"))
    docs = list(iter_documents(SHIPPED_DOCUMENTS))
    assert all(isinstance(d, Document) for d in docs)
    assert sorted(d.doc_id for d in docs) == sorted(catalog) and len(docs) == 5
    for d in docs:
        meta = catalog[d.doc_id]
        assert d.title == meta["title"]
        assert d.source == meta["source"]
        assert d.date == (meta["date"] or d.date)
        assert d.language == "ar"
        assert d.format == "txt"
        assert d.sha256 == hashlib.sha256((SHIPPED_DOCUMENTS / d.doc_id).read_bytes()).hexdigest()
    by_id = {d.doc_id: d for d in docs}
    assert by_id["baku-tashkent-alliance-treaty-2024.txt"].date == "2024-11-03"
    assert by_id["azerbaijan-uzbekistan-military-cooperation-2025.txt"].date == "2025-09-13"
    assert by_id["central-asia-defence-ministers-samarkand.txt"].title == "اجتماع وزراء دفاع آسيا الوسطى في سمرقند"
