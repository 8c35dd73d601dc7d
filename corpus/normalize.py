"""Arabic normalization for matching (never for display).

Every function that changes text for matching can also return, for each output
character, the offset of the source character it came from, so that a match
found in normalized text maps back to exact offsets in the original document.
"""
from __future__ import annotations

import re
import unicodedata

# Harakat, tanween, shadda, sukun, superscript alef, Quranic marks, and tatweel.
_DROP = set(range(0x0610, 0x061B)) | set(range(0x064B, 0x0660)) | {0x0670, 0x0640}
_DROP |= set(range(0x06D6, 0x06DD)) | set(range(0x06DF, 0x06E9)) | set(range(0x06EA, 0x06EE))
# Invisible format characters that break word matching (ZWJ/ZWNJ, bidi marks, BOM).
_DROP |= {0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF, 0x061C}
_DROP |= set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))

_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ے": "ي",
    "ة": "ه", "ۀ": "ه", "ہ": "ه",
    "ک": "ك",
    "٫": ".",  # Arabic decimal separator
    "٬": ",",  # Arabic thousands separator
    "٪": "%",
    "،": ",",
    "؛": ";",
    "؟": "?",
}
for _i in range(10):
    _MAP[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _MAP[chr(0x06F0 + _i)] = str(_i)  # Extended (Persian/Urdu) digits

_TABLE = {cp: None for cp in _DROP}
_TABLE.update({ord(k): v for k, v in _MAP.items()})

# Presentation forms (PDF extraction often yields them) and other compatibility
# characters need NFKC before the table applies.
_NEEDS_NFKC = re.compile(r"[\uFB50-\uFDFF\uFE70-\uFEFF\uFF00-\uFFEF]")


def _char(c: str) -> str:
    if _NEEDS_NFKC.match(c):
        c = unicodedata.normalize("NFKC", c)
    return c.translate(_TABLE).casefold()


def _composed(text: str) -> tuple[str, list[int] | None]:
    """`text` in composed form (NFC) before the Arabic rules, so decomposed input (a
    letter + a combining hamza or madda) matches its composed form: with, for each
    output character, its source offset (None when `text` is already composed).
    Composed segment by segment (a starter and the marks after it), so offsets stay
    exact; for the scripts Isnad reads this equals NFC of the whole text."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or unicodedata.combining(text[i]) == 0:
            piece = unicodedata.normalize("NFC", text[start:i])
            out.append(piece)
            offsets.extend([start] * len(piece))
            start = i
    return "".join(out), offsets


def normalize(text: str) -> str:
    """Normalize text for matching: the same rules as `normalize_with_offsets`."""
    text = _composed(text)[0]
    if _NEEDS_NFKC.search(text):
        return "".join(_char(c) for c in text)
    # casefold, not lower: lower() is context-sensitive (Greek final sigma), which
    # would make this differ from the per-character normalize_with_offsets.
    return text.translate(_TABLE).casefold()


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalize and return, for every output character, its source offset.

    `offsets` has one extra trailing entry equal to len(text), so a normalized
    span [i, j) maps back to the source span [offsets[i], offsets[j]) once j is
    moved back over dropped characters (see `source_span`).
    """
    composed, source = _composed(text)
    out: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(composed):
        n = _char(c)
        out.append(n)
        offsets.extend([i if source is None else source[i]] * len(n))
    offsets.append(len(text))
    return "".join(out), offsets


def source_span(offsets: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a span of normalized text back to the source text."""
    if end <= start:
        return offsets[start], offsets[start]
    return offsets[start], offsets[end - 1] + 1


def find_normalized(haystack: str, needle: str) -> tuple[int, int] | None:
    """Find `needle` in `haystack` ignoring the differences normalization removes,
    also folding runs of white space. Returns source offsets into `haystack`."""
    norm_h, offsets = normalize_with_offsets(haystack)
    folded_h, fold_map = _fold_spaces(norm_h)
    folded_n, _ = _fold_spaces(normalize(needle).strip())
    if not folded_n:
        return None
    i = folded_h.find(folded_n)
    if i < 0:
        return None
    j = i + len(folded_n)
    start, end = source_span(offsets, fold_map[i], fold_map[j - 1] + 1)
    if not unicodedata.is_normalized("NFC", haystack):  # end after the marks composed into the last letter
        while end < len(haystack) and unicodedata.combining(haystack[end]):
            end += 1
    return start, end


def contains_normalized(haystack: str, needle: str) -> bool:
    """True when `needle` occurs in `haystack` after normalization and space folding."""
    folded_n, _ = _fold_spaces(normalize(needle).strip())
    return bool(folded_n) and folded_n in _fold_spaces(normalize(haystack))[0]


def _fold_spaces(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    pos: list[int] = []
    prev_space = False
    for i, c in enumerate(text):
        space = c.isspace()
        if space and prev_space:
            continue
        out.append(" " if space else c)
        pos.append(i)
        prev_space = space
    pos.append(len(text))
    return "".join(out), pos
