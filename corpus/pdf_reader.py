"""PDF: text in logical reading order, one page after another, with page offsets.

Glyphs are read with pdfplumber (pdfminer.six) with their positions, grouped into
lines, each line put back into logical order by position (corpus.bidi_lines), and
lines joined into paragraphs by spacing and font size. Running headers and footers
(the same line at the top or bottom of most pages, page numbers) are dropped. A page
break always ends a paragraph, so no sentence runs across pages.
"""
from __future__ import annotations

import io
import logging
import re
import statistics
import unicodedata
import warnings
from dataclasses import dataclass

from corpus.bidi_lines import mostly_rtl, visual_to_logical
from corpus.document import DocumentError, Extracted

WORD_GAP = 0.12  # a horizontal gap wider than this many font sizes separates words
PARAGRAPH_GAP = 1.0  # a vertical gap wider than this many font sizes starts a paragraph
HEADING_SIZE = 1.15  # a line this much larger than the body text is a heading
PAGE_SEPARATOR = "\n\n"


@dataclass
class Line:
    text: str
    top: float
    bottom: float
    size: float
    x0: float
    x1: float


def read_pdf(raw: bytes, doc_id: str) -> Extracted:
    title = _check_and_title(raw, doc_id)
    pages = _page_lines(raw)
    if not any(pages):
        raise DocumentError(
            f"{doc_id}: PDF has no text layer (a scan or images of text); it needs OCR "
            "first (e.g. `ocrmypdf in.pdf out.pdf`)"
        )
    pages = drop_running_lines(pages)
    body = statistics.median([ln.size for page in pages for ln in page] or [10.0])
    text_parts: list[str] = []
    starts: list[int] = []
    headings: list[tuple[int, str]] = []
    length = 0
    for page in pages:
        if text_parts:
            text_parts.append(PAGE_SEPARATOR)
            length += len(PAGE_SEPARATOR)
        starts.append(length)
        for para, is_heading, sep in _paragraphs(page, body):
            if sep:
                text_parts.append(sep)
                length += len(sep)
            if is_heading:
                headings.append((length, para))
            text_parts.append(para)
            length += len(para)
    return Extracted("".join(text_parts), title, tuple(starts), tuple(headings))


def _check_and_title(raw: bytes, doc_id: str) -> str | None:
    """Opens the file with pypdf first: clear messages for encrypted or broken files."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf logs (and warns about) every oddity of a damaged file on stderr; the
    # user gets one line per file from the indexer instead.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(raw))
            if reader.is_encrypted and not reader.decrypt(""):
                raise FileNotDecryptedError("password required")
            _ = len(reader.pages)
            return (reader.metadata.title if reader.metadata else None) or None
    except (FileNotDecryptedError, DependencyError, NotImplementedError) as exc:
        raise DocumentError(
            f"{doc_id}: encrypted (password-protected) PDF; save an unencrypted copy"
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{doc_id}: unreadable PDF ({exc})") from exc


def _page_lines(raw: bytes) -> list[list[Line]]:
    import pdfplumber

    for name in ("pdfminer", "pdfplumber"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            pages = [page.chars for page in pdf.pages]
    rtl = mostly_rtl([c.get("text") or "" for chars in pages for c in chars])
    return [_lines(chars, rtl) for chars in pages]


def _lines(chars: list[dict], rtl_document: bool = False) -> list[Line]:
    """Glyphs grouped into lines by vertical position, each line in logical order."""
    rows: list[list[dict]] = []
    for ch in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        if not ch.get("text") or all(unicodedata.category(c) == "Cc" for c in ch["text"]):
            continue  # a glyph the font lacks comes out as U+0000
        mid = (ch["top"] + ch["bottom"]) / 2
        if rows and rows[-1][0]["top"] - 1 <= mid <= rows[-1][0]["bottom"] + 1:
            rows[-1].append(ch)
        else:
            rows.append([ch])
    lines = []
    for row in rows:
        text = _line_text(row, rtl_document)
        if text:
            sizes = [c["size"] for c in row if not c["text"].isspace()] or [10.0]
            lines.append(Line(text, min(c["top"] for c in row), max(c["bottom"] for c in row),
                              statistics.median(sizes), min(c["x0"] for c in row),
                              max(c["x1"] for c in row)))
    return lines


def _line_text(row: list[dict], rtl_document: bool) -> str:
    # By centre: a zero-width glyph (the second letter of a ligature) sits at an edge.
    glyphs = sorted((c for c in row if not c["text"].isspace()), key=lambda c: (c["x0"] + c["x1"]) / 2)
    glyphs = _attach_marks(glyphs)
    spaces = [(c["x0"] + c["x1"]) / 2 for c in row if c["text"].isspace()]
    units: list[str] = []
    right = None  # the right edge of the glyphs placed so far
    for cur in glyphs:
        if right is not None:
            gap = cur["x0"] - right
            spaced = any(right - 0.5 <= s <= cur["x0"] + 0.5 for s in spaces)
            if gap > WORD_GAP * max(cur["size"], 1.0) or (spaced and gap > 0.02 * cur["size"]):
                units.append(" ")
        units.append(cur["text"])
        right = cur["x1"] if right is None else max(right, cur["x1"])
    return " ".join(visual_to_logical(units, rtl_document).split())


def _attach_marks(glyphs: list[dict]) -> list[dict]:
    """Combining marks (harakat) drawn over a letter travel with that letter."""
    bases = [dict(g) for g in glyphs if not _is_mark(g["text"])]
    for g in glyphs:
        if not _is_mark(g["text"]) or not bases:
            continue
        centre = (g["x0"] + g["x1"]) / 2
        host = min(bases, key=lambda b: 0 if b["x0"] <= centre <= b["x1"]
                   else min(abs(b["x0"] - centre), abs(b["x1"] - centre)))
        host["text"] += g["text"]
    return bases


def _is_mark(text: str) -> bool:
    return all(unicodedata.combining(c) or "\ufe70" <= c <= "\ufe7f" for c in text)


_PAGE_NUMBER = re.compile(
    r"^(?:[-–—\s|]*\d{1,4}[-–—\s|]*|\d{1,4}\s*/\s*\d{1,4}|(?:page|صفحة|الصفحة|ص)\.?\s*\d{1,4}"
    r"(?:\s*(?:of|من|/)\s*\d{1,4})?)$", re.I)
EDGE_LINES = 2  # lines at the top and at the bottom of a page looked at as header/footer


def drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Without lines repeated at the top or bottom of at least half the pages (two at
    least), digits aside (running titles, dates, "1/2"), and bare page numbers."""
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text)

    counts: dict[str, int] = {}
    for page in pages:
        for k in {key(ln) for ln in _edges(page)}:
            counts[k] = counts.get(k, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    out = []
    for page in pages:
        edges = {id(ln) for ln in _edges(page)}
        out.append([
            ln for ln in page
            if id(ln) not in edges
            or not (counts.get(key(ln), 0) >= needed or _PAGE_NUMBER.match(ln.text.strip()))
        ])
    return out


def _edges(page: list[Line]) -> list[Line]:
    return page[:EDGE_LINES] + page[-EDGE_LINES:] if len(page) > EDGE_LINES else list(page)


def _paragraphs(page: list[Line], body: float):
    """(paragraph text, is heading, separator before it) for the lines of one page."""
    pitch = _line_pitch(page)
    current: list[Line] = []
    out = []
    for line in page:
        if current and not _continues(current[-1], line, body, pitch):
            out.append(current)
            current = []
        current.append(line)
    if current:
        out.append(current)
    after_heading = False
    for i, para in enumerate(out):
        text = " ".join(ln.text for ln in para)
        heading = para[0].size >= HEADING_SIZE * body and len(text) <= 160
        # A blank line around a heading, as in the other formats.
        yield text, heading, ("\n\n" if heading or after_heading else "\n") if i else ""
        after_heading = heading


def _line_pitch(page: list[Line]) -> float | None:
    """The usual distance from one line's top to the next inside a paragraph."""
    pitches = sorted(b.top - a.top for a, b in zip(page, page[1:])
                     if abs(a.size - b.size) <= 0.15 * a.size and b.top > a.top)
    return pitches[len(pitches) // 4] if pitches else None


def _continues(prev: Line, line: Line, body: float, pitch: float | None) -> bool:
    """Does `line` carry on the paragraph `prev` ends?"""
    size = max(prev.size, 1.0)
    if abs(line.size - prev.size) > 0.15 * size:
        return False
    if prev.size >= HEADING_SIZE * body:
        return False  # a heading is a paragraph of its own
    if line.top - prev.bottom > PARAGRAPH_GAP * size:
        return False
    return pitch is None or line.top - prev.top <= 1.2 * pitch
