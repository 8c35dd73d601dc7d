"""Arabic-aware sentence spans with exact character offsets.

A sentence ends at . ! ? ؟ ؛ ; … or a line break. The Arabic comma ، does not end
a sentence, and a full stop between digits (3.5) or not followed by white space
(ا.م.د) does not either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Terminal punctuation (with any closing quotes/brackets after it); a full stop
# counts only when white space or the end of text follows.
_BOUNDARY = re.compile(
    r"(?:[!?؟؛;…]+|\.+(?=[\"'»”’)\]]*(?:\s|$)))[\"'»”’)\]]*"
    r"|\n"
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans inside text[start:end], trimmed of surrounding white space."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        _append_trimmed(text, pos, m.end(), spans)
        pos = m.end()
    _append_trimmed(text, pos, end, spans)
    return spans


def _append_trimmed(text: str, s: int, e: int, spans: list[Span]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    # A span of punctuation alone (e.g. a stray "." line) is not a sentence.
    if e > s and any(ch.isalnum() for ch in text[s:e]):
        spans.append(Span(s, e))
