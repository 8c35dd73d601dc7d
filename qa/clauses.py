"""Which lines of a document may be quoted, and which clause of a long sentence to quote.

Reference lists, keywords lines, headings, captions and source lines name a topic or
a source; they never answer a question, so they are never quoted. A bibliography is
recognized as a section (a heading such as «المصادر باللغة العربية :» and the entries
under it, «- ٩- ...»), not line by line. A short byline («إعداد: ...») is quotable only
for a question about who wrote the document.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from corpus.normalize import normalize
from corpus.sentences import Span
from corpus.textblocks import ROW_SEPARATOR
from qa.settings import BIBLIOGRAPHY_LOOKBACK_CHARS, HEADING_MAX_WORDS, MIN_QUOTE_WORDS, TITLE_MAX_WORDS

_URL = re.compile(r"<?(?:https?://|www\.|file:///)\S+>?")
# Lines that label rather than state (matched on normalized text at the line start).
_LABEL_LINE = re.compile(
    r"^\W*(المصدر|المصادر|مصدر|المراجع|مراجع|الهوامش|الكلمات المفتاحيه|كلمات مفتاحيه|الكلمات الداله|"
    r"keywords?|key words|sources?|references?|bibliography|الشكل|شكل|جدول|الجدول|خريطه|صوره|"
    r"الصوره|figure|fig|table|map|photo)\b\s*(\(|\[|:|-|\d|$)"
)
# A reference entry: «- ٩- ...», «12- ...», «[3] ...» (digits are ASCII after normalize).
_ENTRY = re.compile(r"^\s*(-\s*)?(\[\d+\]|\d+\s*[-.)])\s")
_BIB_HEADING = re.compile(
    r"(المصادر|المراجع|قائمه المراجع|قائمه المصادر|الهوامش|المصادر الاجنبيه|references|bibliography|"
    r"works cited|sources|notes)"
)
_BYLINE = re.compile(r"^\W*(اعداد|اعدد|بقلم|كتبه|كتب|تاليف|الكاتب|الباحث|by|written by|author)\b")

def is_reference(sentence: str) -> bool:
    """A sentence with a link is a bibliography entry or a source note."""
    return bool(_URL.search(sentence))


# A reference entry in raw text: "- 3- ...", "١٢- ...", "[4] ..." (before normalize).
_RAW_ENTRY = re.compile(r"^\s*[-–]?\s*\[?[0-9\u0660-\u0669]{1,3}\s*[\]\-–.)]")


def reference_share(text: str) -> float:
    """Share of a passage's lines that are bibliography entries or links, in [0, 1]."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return 0.0
    return sum(1 for ln in lines if is_reference(ln) or _RAW_ENTRY.match(ln)) / len(lines)


def _line_at(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _is_heading(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    words = stripped.split()
    return stripped.endswith(":") and len(words) <= HEADING_MAX_WORDS or (
        len(words) <= 5 and not stripped.endswith((".", "؟", "?", "!", "،", ",")))


def _is_title(line: str) -> bool:
    """A line of a few words with no closing punctuation: a heading or a caption."""
    stripped = line.strip()
    return len(stripped.split()) <= TITLE_MAX_WORDS and not stripped.endswith(
        (".", "؟", "?", "!", "]", ")", "»", '"', "”"))


def in_bibliography(text: str, pos: int) -> bool:
    """Does `pos` lie in a section headed like a reference list, or in a run of entries?"""
    line_start, line_end = _line_at(text, pos)
    if _ENTRY.match(normalize(text[line_start:line_end])):
        return True
    floor = max(0, line_start - BIBLIOGRAPHY_LOOKBACK_CHARS)
    end = line_start - 1
    while end > floor:
        start = text.rfind("\n", floor, end) + 1
        line = text[start:end]
        if line.strip() and not _ENTRY.match(normalize(line)) and not _URL.fullmatch(line.strip()):
            if _is_heading(line):
                return bool(_BIB_HEADING.search(normalize(line)))
            if len(line.split()) > HEADING_MAX_WORDS:
                return False  # body prose before any heading: not in a reference list
        end = start - 1
    return False


def quotable(text: str, span: Span, author_question: bool = False) -> bool:
    """May text[span] be quoted as an answer?"""
    sentence = text[span.start : span.end]
    norm = normalize(sentence)
    line_start, line_end = _line_at(text, span.start)
    line = text[line_start:line_end]
    if author_question and _BYLINE.match(norm) and len(sentence.split()) <= 12:
        return True
    if len(sentence.split()) < MIN_QUOTE_WORDS or is_reference(sentence):
        return False
    norm_line = normalize(line)
    if _LABEL_LINE.match(norm_line) or _ENTRY.match(norm_line):
        return False
    if line.strip().endswith(":") and len(line.split()) <= HEADING_MAX_WORDS:
        return False
    if sentence.strip() == line.strip() and _is_title(line) and not _is_table_row(line):
        return False
    # A source line whose link sits on the next (non-blank) line.
    nxt = _next_line(text, line_end)
    if nxt and _URL.fullmatch(nxt) and len(line.split()) <= 25:
        return False
    return not in_bibliography(text, span.start)


def _is_table_row(line: str) -> bool:
    """A table row as the readers write it («السنة: 2024 — الصادرات بالطن: 585000»): data
    that answers, though as short as a heading."""
    cells = line.split(ROW_SEPARATOR)
    return len(cells) >= 2 and all(":" in c for c in cells)


def _next_line(text: str, line_end: int, max_blank: int = 2) -> str:
    pos = line_end + 1
    for _ in range(max_blank + 1):
        if pos >= len(text):
            return ""
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        if text[pos:end].strip():
            return text[pos:end].strip()
        pos = end + 1
    return ""


def best_window(text: str, span: Span, q_stems: set[str], idf: dict[str, float],
                stem: Callable[[str], str | None], limit: int,
                bonus: Callable[[str], float] | None = None) -> Span:
    """Within a sentence longer than `limit`, the window of at most `limit` characters
    (on word boundaries, offsets exact) that covers the question's stems best; ties go
    to a window that starts a clause, then to the earliest."""
    if span.end - span.start <= limit:
        return span
    words = [(m.start() + span.start, m.end() + span.start)
             for m in re.finditer(r"\S+", text[span.start : span.end])]
    stems = [stem(text[a:b]) for a, b in words]
    norm, starts, ends = normalized_words(text, words) if bonus is not None else ("", [], [])
    weight = {t: idf.get(t, 1.0) for t in q_stems}
    best, best_score = None, -1.0
    j = 0
    for i, (a, _) in enumerate(words):
        j = max(j, i)
        while j + 1 < len(words) and words[j + 1][1] - a <= limit:
            j += 1
        if words[j][1] - a > limit:  # one word longer than the limit
            continue
        covered = {s for s in stems[i : j + 1] if s in weight}
        score = sum(weight[t] for t in covered)
        if bonus is not None:
            score += bonus(norm[starts[i] : ends[j]])  # == normalize(text[a : words[j][1]])
        before = text[max(span.start, a - 2) : a]
        if i == 0 or any(c in before for c in "،,;؛:"):
            score += 1e-3  # a clause start reads better
        if score > best_score + 1e-9:
            best, best_score = Span(a, words[j][1]), score
    if best is None:
        cut = text.rfind(" ", span.start, span.start + limit)
        return Span(span.start, cut if cut > span.start else span.start + limit)
    return best


def normalized_words(text: str, words: list[tuple[int, int]]) -> tuple[str, list[int], list[int]]:
    """The normalized text of the run of `words` (consecutive (start, end) spans of
    text, white space between them), with each word's start and end in it, so that
    norm[starts[i]:ends[j]] == normalize(text[words[i][0]:words[j][1]]) without
    normalizing every window again: normalization works character by character once
    marks are composed onto their letter, and never across white space."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos, prev = 0, None
    for a, b in words:
        if prev is not None:
            gap = normalize(text[prev:a])
            pieces.append(gap)
            pos += len(gap)
        word = normalize(text[a:b])
        starts.append(pos)
        pieces.append(word)
        pos += len(word)
        ends.append(pos)
        prev = b
    return "".join(pieces), starts, ends
