"""A line of glyphs as placed on a PDF page (left to right) back into logical order.

PDF producers store Arabic differently: Chromium and LibreOffice write shaped glyphs
mapped to base letters, reportlab users write text already reshaped into
presentation forms and reordered for display (arabic-reshaper + python-bidi). The
glyph positions never lie, so every line is read by position and reordered with the
Unicode bidi levels (UAX #9, rule L2 is its own inverse), whatever the stream order.
Presentation forms are then mapped to base letters, one character at a time, after
reordering (a lam-alef ligature is one glyph that reads «لا»).
"""
from __future__ import annotations

import unicodedata

_MIRROR = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def is_presentation_form(ch: str) -> bool:
    return "\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff"


def base_letters(text: str) -> str:
    """Arabic presentation forms -> base letters (NFKC on those characters only: NFKC
    on everything would also rewrite digits, ligatures and compatibility characters
    the author wrote). The spacing forms of harakat lose their compatibility space."""
    out = []
    for ch in text:
        if is_presentation_form(ch) and ch != "\ufeff":
            mapped = unicodedata.normalize("NFKC", ch)
            if len(mapped) > 1 and mapped[0] == " ":
                mapped = mapped[1:]
            out.append(mapped)
        elif ch != "\ufeff":
            out.append(ch)
    return "".join(out)


def strong_type(text: str) -> str:
    """R (Arabic, Hebrew), L (Latin ...), D (digits) or N (neutral) for a glyph's text."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L":
            return "L"
        if kind in ("EN", "AN"):
            return "D"
    return "N"


def mostly_rtl(units: list[str]) -> bool:
    types = [strong_type(u) for u in units]
    return types.count("R") > 0 and types.count("R") >= types.count("L")


def visual_to_logical(units: list[str], rtl_document: bool = False) -> str:
    """Glyph texts in left-to-right position order -> the line in logical order.
    Spaces are units of their own (" "). A line with any Arabic in a right-to-left
    document reads right to left (a short Arabic line with a long English name
    still starts on the right); elsewhere the line's majority decides."""
    if not units:
        return ""
    has_r = any(strong_type(u) == "R" for u in units)
    rtl = has_r and (rtl_document or mostly_rtl(units))
    base = 1 if rtl else 0
    types = [strong_type(u) for u in units]
    levels = _levels(types, base)
    order = list(range(len(units)))
    for level in range(max(levels), 0, -1):  # rule L2: reverse every run at >= level
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    texts = [units[k].translate(_MIRROR) if levels[k] % 2 else units[k] for k in order]
    return base_letters("".join(texts))


def _levels(types: list[str], base: int) -> list[int]:
    """Embedding levels from strong types, for a line seen in position order. Digits
    read left to right (level base+1 in RTL text, 2 inside Arabic in LTR text);
    neutrals between two runs of one direction join them, else take the base."""
    n = len(types)
    direction = []  # per unit: "R", "L" or None (neutral)
    for i, t in enumerate(types):
        if t == "D":
            direction.append("L" if base == 1 else ("R" if _surrounded_by_r(types, i) else "L"))
        else:
            direction.append(t if t in ("R", "L") else None)
    base_dir = "R" if base else "L"
    resolved = []
    for i, d in enumerate(direction):
        if d is None:
            left = next((direction[j] for j in range(i - 1, -1, -1) if direction[j]), base_dir)
            right = next((direction[j] for j in range(i + 1, n) if direction[j]), base_dir)
            d = left if left == right else base_dir
        resolved.append(d)
    levels = []
    for i, d in enumerate(resolved):
        if base == 1:
            levels.append(1 if d == "R" else 2)
        elif d == "R":
            levels.append(2 if types[i] == "D" else 1)
        else:
            levels.append(0)
    return levels


def _surrounded_by_r(types: list[str], i: int) -> bool:
    left = next((types[j] for j in range(i - 1, -1, -1) if types[j] in ("R", "L")), "L")
    right = next((types[j] for j in range(i + 1, len(types)) if types[j] in ("R", "L")), "L")
    return left == "R" and right == "R"
