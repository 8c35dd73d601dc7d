"""The typed records an index hands out (whatever store holds them)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StoredChunk:
    id: int  # the store's numeric id: what searches return
    chunk_id: str
    doc_id: str
    title: str
    section: str
    start: int  # offsets in the document's text
    end: int
    text: str


@dataclass(frozen=True)
class StoredSentence:
    chunk: int  # StoredChunk.id
    start: int  # offsets in the document
    end: int
    stems: frozenset[str]


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    title: str
    source: str
    date: str | None
    language: str
    format: str
    n_chunks: int


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk with its stored vector (what a second retrieval system is built from)."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    vector: np.ndarray
