"""The typed records that leave the corpus layer."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from corpus.errors import DocumentError  # noqa: F401 (raised by the readers under this name)


@dataclass(frozen=True)
class Document:
    """A loaded document. `text` is the canonical text every offset refers to."""

    doc_id: str  # path relative to the directory it was indexed from
    title: str
    text: str
    sha256: str  # of the file's bytes: what incremental indexing compares
    source: str = ""
    date: str | None = None
    language: str = "ar"
    format: str = "txt"
    # Offsets in `text` where each page starts (page n starts at pages[n-1]); empty
    # for formats without pages.
    pages: tuple[int, ...] = ()
    # (offset, heading) of the section headings a structured format marks as such
    # (DOCX heading styles, HTML <h1>-<h6>, Markdown #); empty: guessed from the text.
    headings: tuple[tuple[int, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        return page_at(self.pages, offset)


@dataclass(frozen=True)
class Extracted:
    """What a format reader returns: the text every offset refers to, and its structure."""

    text: str
    title: str | None = None
    pages: tuple[int, ...] = ()
    headings: tuple[tuple[int, str], ...] = ()


def page_at(pages: tuple[int, ...] | list[int], offset: int) -> int | None:
    """The 1-based page holding `offset`, given page start offsets (None without pages)."""
    if not pages:
        return None
    return max(1, bisect_right(pages, offset))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: text == document.text[start:end]."""

    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    section: str = ""
