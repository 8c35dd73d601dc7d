"""The typed records that leave the corpus layer."""
from __future__ import annotations

from dataclasses import dataclass


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


class DocumentError(Exception):
    """A document that cannot be loaded; the message names the file and the reason."""
