"""What `isnad ask` and `isnad chat` print: an answer as plain text, laid out for the
terminal it goes to.

Most terminals (xterm, tmux, the Linux console, many others) do no bidi: they show
every line left to right, so Arabic comes out with its words reversed. For those,
each logical line is wrapped at word boundaries to the terminal's width first, then
each visual line is reordered with python-bidi (the Unicode bidi algorithm) and a
right-to-left line is right-aligned. Terminals that do their own bidi (VTE-based
ones, mlterm, ...) want the logical text: `--bidi off` or ISNAD_BIDI=off. A pipe
always gets the logical text unchanged unless `--bidi on` asks otherwise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from corpus.errors import UsageError
from corpus.files import printable

BIDI_MODES = ("auto", "on", "off")
BIDI_ENV = "ISNAD_BIDI"


class BidiModeError(UsageError):
    """A bad --bidi / ISNAD_BIDI value (a usage error)."""


def bidi_mode(flag: str | None) -> str:
    """The --bidi flag, else $ISNAD_BIDI, else auto."""
    mode = (flag or os.environ.get(BIDI_ENV) or "auto").strip().lower()
    if mode not in BIDI_MODES:
        raise BidiModeError(f"{BIDI_ENV}={mode!r}: expected one of {', '.join(BIDI_MODES)}")
    return mode


@dataclass(frozen=True)
class Terminal:
    """How text is laid out for one output stream."""

    reorder: bool  # apply the bidi algorithm (the terminal does none)
    width: int | None  # wrap to this many columns; None: leave lines as they are

    @classmethod
    def for_stream(cls, stream: TextIO, mode: str) -> "Terminal":
        tty = _isatty(stream)
        reorder = mode == "on" or (mode == "auto" and tty)
        if not (tty or reorder):
            return cls(reorder=False, width=None)  # a pipe or a file: logical text, unchanged
        return cls(reorder=reorder, width=max(20, shutil.get_terminal_size((80, 24)).columns))

    def show(self, text: str) -> str:
        """`text` (logical order, lines separated by newlines) as it should be printed."""
        if self.width is None and not self.reorder:
            return text
        out: list[str] = []
        for paragraph in text.split("\n"):
            if not paragraph.strip():
                out.append(paragraph)
                continue
            lines = _wrap(paragraph, self.width) if self.width else [paragraph]
            if self.reorder:
                rtl = _is_rtl(paragraph)
                lines = [_visual(line, rtl, self.width) for line in lines]
            out.extend(lines)
        return "\n".join(out)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def _wrap(paragraph: str, width: int) -> list[str]:
    """Break at spaces only: a word longer than the line stays whole."""
    indent = paragraph[: len(paragraph) - len(paragraph.lstrip(" "))]
    return textwrap.wrap(paragraph, width=width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False, drop_whitespace=True) or [paragraph]


def _is_rtl(paragraph: str) -> bool:
    """The paragraph's direction from its first strong character (Unicode rule P2)."""
    from bidi import get_base_level

    return get_base_level(paragraph) == 1


def _visual(line: str, rtl: bool, width: int | None) -> str:
    shown = visual_order(line, rtl)
    if rtl and width:  # right-to-left text starts at the right edge
        shown = " " * max(0, width - display_width(shown)) + shown
    return shown


def visual_order(line: str, rtl: bool) -> str:
    """One line in display order for a left-to-right terminal: python-bidi's Unicode
    bidi algorithm (its Python implementation, which mirrors brackets, rule L4), with
    rule L3 added: a combining mark (tashkeel) moves with its base letter, so that it
    still follows it once right-to-left runs are reversed."""
    from bidi import algorithm as uba

    storage = uba.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    uba.get_embedding_levels(line, storage)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.apply_mirroring(storage, False)
    clusters: list[dict] = []
    for ch in storage["chars"]:
        if clusters and unicodedata.combining(ch["ch"]):
            clusters[-1]["ch"] += ch["ch"]
        else:
            clusters.append(ch)
    storage["chars"] = clusters
    uba.reorder_resolved_levels(storage, False)
    return "".join(ch["ch"] for ch in storage["chars"])


def display_width(text: str) -> int:
    """Columns `text` takes: combining marks (tashkeel) and format characters take
    none, wide East Asian characters two."""
    cols = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        cols += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cols


def print_json(obj) -> None:
    """One line of JSON, Arabic as UTF-8 (never \\u escapes). A lone surrogate (from
    a batch line's id, say) cannot be written as UTF-8: only it is escaped, so the
    line stays valid JSON."""
    line = json.dumps(obj, ensure_ascii=False)
    line = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    print(line, flush=True)


_SURROGATE = re.compile("[\ud800-\udfff]")


# -- an answer as text ------------------------------------------------------------------
LABELS = {
    "ar": {"note": "ملاحظة", "closest": "أقرب المقاطع:", "line": "السطر {n}", "page": "ص {n}", "sep": "، "},
    "en": {"note": "note", "closest": "Closest passages:", "line": "line {n}", "page": "p. {n}", "sep": ", "},
}

LineOf = Callable[[str, int], "int | None"]  # (doc_id, offset) -> 1-based line number


def answer_language(answer) -> str:
    """Labels follow the question's language (Arabic unless the question has no Arabic)."""
    from qa.engine import is_arabic

    return "ar" if is_arabic(answer.question) else "en"


def location(item, lang: str, line_of: LineOf | None) -> str:
    """Where a cited quote or a passage is, for a reader: section, then page (paged
    documents) or line number. Character offsets are for --json only."""
    labels = LABELS[lang]
    parts = []
    if getattr(item, "section", ""):
        parts.append(item.section)
    page = getattr(item, "page", None)
    if page:
        parts.append(labels["page"].format(n=page))
    elif line_of is not None:
        line = line_of(item.doc_id, item.start)
        if line:
            parts.append(labels["line"].format(n=line))
    return labels["sep"].join(parts)


def format_answer(answer, line_of: LineOf | None = None) -> str:
    """The answer, its numbered sources and, when it abstained, the closest passages;
    logical order (Terminal.show lays it out)."""
    lang = answer_language(answer)
    labels = LABELS[lang]
    lines = [answer.answer, ""]
    if getattr(answer, "notice", ""):
        lines.insert(0, f"{labels['note']}: {answer.notice}")
    for c in answer.citations:
        where = location(c, lang, line_of)
        # printable: a file name or title may hold a newline or U+202E
        lines.append(printable(f"[{c.n}] {c.title}" + (f" — {where}" if where else "") + f" ({c.doc_id})"))
    if answer.abstained and answer.passages:
        lines.append(labels["closest"])
        for p in answer.passages[:3]:
            where = location(p, lang, line_of)
            lines.append(printable(f"  - {p.title}" + (f" — {where}" if where else "") + f" ({p.doc_id})"))
    return "\n".join(lines).rstrip()


def line_counter(document_text: Callable[[str], str]) -> LineOf:
    """(doc_id, offset) -> the 1-based line of that offset in the stored document text."""
    texts: dict[str, str] = {}

    def line_of(doc_id: str, offset: int) -> int | None:
        if doc_id not in texts:
            try:
                texts[doc_id] = document_text(doc_id)
            except (KeyError, LookupError, OSError):
                return None
        return texts[doc_id].count("\n", 0, max(0, offset)) + 1

    return line_of
