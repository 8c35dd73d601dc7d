"""DOCX: paragraphs and tables in document order; heading styles mark sections and
tables are read row by row («السنة: 2024 — الصادرات بالطن: 585000»)."""
from __future__ import annotations

import io
import zipfile

from corpus.document import DocumentError, Extracted
from corpus.textblocks import TextBlocks


def read_docx(raw: bytes, doc_id: str) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{doc_id}: unreadable .docx ({exc})") from exc
    blocks = TextBlocks()
    for element in d.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, d)
            blocks.add(paragraph.text, heading=_is_heading(paragraph))
        elif tag == "tbl":
            blocks.add_table(_rows(Table(element, d)))
    return blocks.result(d.core_properties.title or None)


def _is_heading(paragraph) -> bool:
    try:
        name = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
    except (KeyError, ValueError):
        name = ""
    return name == "title" or name.startswith("heading")


def _rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # a merged cell is repeated once per grid column
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text)
        rows.append(cells)
    return rows
