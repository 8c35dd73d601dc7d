"""Plain text assembled block by block from a structured document (HTML, DOCX,
Markdown), keeping where each heading starts, and the readable form of table rows."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from corpus.document import Extracted

ROW_SEPARATOR = " — "


class TextBlocks:
    """Blocks (paragraphs, headings, table rows) one per line; inline text inside a
    block is joined as it reads, so markup never cuts a sentence."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._headings: list[tuple[int, str]] = []
        self._after_heading = False

    def add(self, text: str, heading: bool = False) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if self._parts:
            # A blank line around a heading: it reads as one in the stored text too.
            sep = "\n\n" if heading or self._after_heading else "\n"
            self._parts.append(sep)
            self._length += len(sep)
        self._after_heading = heading
        if heading:
            self._headings.append((self._length, text))
        self._parts.append(text)
        self._length += len(text)

    def add_table(self, rows: list[list[str]]) -> None:
        for line in table_lines(rows):
            self.add(line)

    @property
    def headings(self) -> list[tuple[int, str]]:
        return list(self._headings)

    def result(self, title: str | None = None) -> Extracted:
        if not usable_title(title):
            title = self._headings[0][1] if self._headings else None
        return Extracted("".join(self._parts), title, (), tuple(self._headings))


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as one readable line per row: «السنة: 2024 — الصادرات بالطن: 585000».
    The first row names the columns when the table has more than one row."""
    rows = [[" ".join(c.split()) for c in row] for row in rows]
    rows = [r for r in rows if any(r)]
    if len(rows) < 2:
        return [ROW_SEPARATOR.join(c for c in r if c) for r in rows]
    header, body = rows[0], rows[1:]
    lines = []
    for row in body:
        cells = []
        for i, cell in enumerate(row):
            if not cell:
                continue
            name = header[i] if i < len(header) else ""
            cells.append(f"{name}: {cell}" if name and name != cell else cell)
        if cells:
            lines.append(ROW_SEPARATOR.join(cells))
    return lines


_FILE_NAME = re.compile(r"\.(?:html?|pdf|docx?|odt|rtf|txt|md|markdown|xhtml|php|aspx?)$", re.I)
_PLACEHOLDERS = re.compile(
    r"^(?:untitled(?: document)?(?:\s*\d+)?|document\s*\d*|new document|no title|"
    r"بدون عنوان|مستند بلا عنوان|about:blank|title|\(anonymous\))$", re.I)


def usable_title(title: str | None) -> bool:
    """False for what a producer writes when nobody gave a title: nothing, a file
    name («b.html», "C:\\Users\\x\\report.docx"), "untitled", "Microsoft Word - …"."""
    if not title or not title.strip():
        return False
    t = " ".join(title.split())
    if _FILE_NAME.search(t) or t.lower().startswith(("microsoft word - ", "file://")):
        return False
    if "/" in t and " " not in t or "\\" in t:
        return False
    if PurePosixPath(t).suffix and " " not in t and t.isascii():
        return False  # another file name: report_v2.final
    return not _PLACEHOLDERS.match(t)
