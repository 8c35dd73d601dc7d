"""Sentence-aware chunking with exact offsets and the section each chunk falls under.

LangChain's splitters return bare strings and recover offsets with str.find, which
is wrong for repeated text; citations here must be exact, so chunks are built
from sentence spans of the original text instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.document import Chunk, Document
from corpus.sentences import Span, split_sentences


@dataclass(frozen=True)
class ChunkingParams:
    target_chars: int = 700  # a chunk closes once adding a sentence would pass this
    overlap_chars: int = 120  # trailing sentences carried into the next chunk, at most this long
    max_sentence_chars: int = 900  # longer "sentences" (lists, tables) are cut at spaces

    def __post_init__(self) -> None:
        if self.target_chars < 50 or not 0 <= self.overlap_chars < self.target_chars:
            raise ValueError("need target_chars >= 50 and 0 <= overlap_chars < target_chars")


STRUCTURED_FORMATS = ("docx", "html", "md")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_NOT_HEADING_END = tuple(".،,:؛;")


def find_headings(text: str) -> list[tuple[int, str]]:
    """(offset, heading) for lines that read as headings: markdown `#` lines, or
    short stand-alone lines that do not end like running text."""
    headings: list[tuple[int, str]] = []
    offset = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped:
            if _MD_HEADING.match(line):
                headings.append((offset, stripped.lstrip("#").strip()))
            elif _looks_like_heading(stripped, lines[i + 1] if i + 1 < len(lines) else ""):
                headings.append((offset, stripped))
        offset += len(line) + 1
    return headings


def _looks_like_heading(line: str, next_line: str) -> bool:
    words = line.split()
    if not 1 <= len(words) <= 12 or len(line) > 90 or line.endswith(_NOT_HEADING_END):
        return False
    if line.startswith(("-", "•", "*", "(", "[", "<", "http")):
        return False
    if sum(c.isalpha() for c in line) < 3:  # dates, numbers, separators
        return False
    # A heading is followed by a blank line or by a longer paragraph.
    return not next_line.strip() or len(next_line.strip()) > len(line)


def chunk_document(doc: Document, params: ChunkingParams | None = None) -> list[Chunk]:
    params = params or ChunkingParams()
    text = doc.text
    # A format that marks its headings (DOCX styles, HTML, Markdown) is taken at its
    # word; otherwise headings are recognized by their look (and, in a PDF, by size).
    if doc.headings and doc.format in STRUCTURED_FORMATS:
        headings = list(doc.headings)
    else:
        headings = sorted(set(find_headings(text)) | set(doc.headings))
    heading_starts = {off for off, _ in headings}
    sentences = _bounded(split_sentences(text), text, params.max_sentence_chars)

    groups: list[list[Span]] = []
    current: list[Span] = []
    for sent in sentences:
        starts_section = _line_start(text, sent.start) in heading_starts
        size = sent.end - current[0].start if current else 0
        too_big = current and size > params.target_chars
        new_section = current and starts_section and (current[-1].end - current[0].start) > params.target_chars // 3
        if too_big or new_section:
            groups.append(current)
            current = [] if new_section else _overlap(current, params.overlap_chars)
            # Never let the carried overlap alone exceed the target.
            while current and sent.end - current[0].start > params.target_chars:
                current.pop(0)
        current.append(sent)
    if current:
        groups.append(current)

    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{ordinal}",
                doc_id=doc.doc_id,
                ordinal=ordinal,
                start=start,
                end=end,
                text=text[start:end],
                section=_section_at(headings, start, end),
            )
        )
    return chunks


def _overlap(group: list[Span], overlap_chars: int) -> list[Span]:
    carried: list[Span] = []
    for sent in reversed(group[1:]):  # never carry the whole group
        if group[-1].end - sent.start > overlap_chars:
            break
        carried.insert(0, sent)
    return carried


def _bounded(spans: list[Span], text: str, limit: int) -> list[Span]:
    """Cut over-long sentences at white space so no piece exceeds `limit`."""
    out: list[Span] = []
    for s in spans:
        start = s.start
        while s.end - start > limit:
            cut = text.rfind(" ", start + limit // 2, start + limit)
            cut = cut if cut > start else start + limit
            out.append(Span(start, cut))
            start = cut
            while start < s.end and text[start].isspace():
                start += 1
        if start < s.end:
            out.append(Span(start, s.end))
    return out


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _section_at(headings: list[tuple[int, str]], start: int, end: int) -> str:
    """The last heading at or before the chunk's first sentence (or inside it)."""
    current = ""
    for off, title in headings:
        if off > start:
            break
        current = title
    if not current:
        inside = [title for off, title in headings if start <= off < end]
        current = inside[0] if inside else ""
    return current
