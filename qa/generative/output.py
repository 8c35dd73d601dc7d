"""Parsing what a model writes: claims with their [n] markers, reasoning blocks, NO_ANSWER."""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.generative.errors import GenerativeError

NO_ANSWER = "NO_ANSWER"
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

_NUM = r"[0-9٠-٩۰-۹]{1,3}"
# [1]  [1, 2]  [1،2]  [1-3]  [١]  【1】  [المقطع 1]  [passage 1]
_MARKER = re.compile(
    r"[\[【]\s*(?:(?:passages?|sources?|refs?|المقطع|مقطع|المصدر|مصدر)\s*)?"
    rf"({_NUM}(?:\s*(?:[,،;؛\-–]|and|و)\s*{_NUM})*)\s*[\]】]",
    re.IGNORECASE,
)
_MARKERS_RUN = rf"(?:{_MARKER.pattern}[ \t]*)+"
_TERMINAL = ".!?؟؛…"
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.!?؟؛…،,:;)»”])")
_REFERENCES = re.compile(
    r"\n\s*[#*_]*\s*(?:sources|references|citations|المصادر|المراجع)\s*[*_]*\s*[:：]?\s*[*_]*\s*(?:\n|$)",
    re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)


def strip_reasoning(text: str) -> str:
    """Drop <think>…</think> blocks (reasoning models), closed or still open."""
    return _THINK.sub("", text or "")


def message_text(message) -> str:
    """The text of a chat message or chunk (content may be a list of parts)."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in (None, "text"):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise GenerativeError("malformed response from the model service")


def marker_numbers(group: str) -> list[int]:
    """"1, 2" -> [1, 2]; "1-3" -> [1, 2, 3]; Arabic-Indic digits too."""
    out: list[int] = []
    for part in re.split(r"\s*(?:[,،;؛]|and|و)\s*", group.translate(_DIGITS)):
        lo, dash, hi = part.replace("–", "-").partition("-")
        lo, hi = lo.strip(), hi.strip()
        if dash and lo.isdigit() and hi.isdigit() and 0 <= int(hi) - int(lo) <= 5:
            out.extend(range(int(lo), int(hi) + 1))
        elif not dash and lo.isdigit():
            out.append(int(lo))
    return out


@dataclass
class Claim:
    """One sentence of the model's answer."""

    body: str  # the sentence without its markers
    markers: list[int]  # passage numbers, as the model wrote them
    sep: str  # what followed the sentence ("\n", " ", "")
    inherited: bool = False  # markers taken from the next marked sentence of its paragraph


def parse_claims(text: str) -> list[Claim]:
    """The model's answer as sentences with their [n] markers."""
    text = strip_reasoning(text).strip()
    refs = _REFERENCES.search(text)  # a "Sources:" list after the answer is not part of it
    if refs and refs.start() > 0:
        text = text[: refs.start()].rstrip()
    if not text:
        return []
    leading = _MARKER.match(text) is not None  # "[1] Sentence. [2] Sentence." style
    if not leading:
        # "Sentence. [1]" -> "Sentence [1]." so that a marker stays with its sentence.
        text = re.sub(rf"([{re.escape(_TERMINAL)}]+)([ \t]*)({_MARKERS_RUN})",
                      lambda m: f" {m.group(3).strip()}{m.group(1)}{m.group(2) or ' '}", text)
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in re.finditer(rf"[{re.escape(_TERMINAL)}]+(?=\s|$)|\n", text):
        if m.start() < pos:  # inside the separator of the previous sentence
            continue
        end = m.start() if m.group() == "\n" else m.end()
        sep_end = end
        while sep_end < len(text) and text[sep_end].isspace():
            sep_end += 1
        pieces.append((text[pos:end], text[end:sep_end]))
        pos = sep_end
    if pos < len(text):
        pieces.append((text[pos:], ""))
    # "X [1]، Y [2]." holds two claims, each with its own citation.
    pieces = [sub for body, sep in pieces for sub in _split_at_markers(body, sep, leading)]
    claims: list[Claim] = []
    for body, sep in pieces:
        markers = [n for g in _MARKER.findall(body) for n in marker_numbers(g)]
        clean = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(_MARKER.sub(" ", body).split()))
        sep = "\n" * min(2, sep.count("\n")) if "\n" in sep else (" " if sep else "")
        if not _has_words(clean):
            if claims and markers:  # a line of markers alone: they belong to the sentence before
                claims[-1].markers.extend(markers)
                claims[-1].sep = sep or claims[-1].sep
            elif claims and sep:
                claims[-1].sep = claims[-1].sep if "\n" in claims[-1].sep else sep
            continue
        claims.append(Claim(clean, list(dict.fromkeys(markers)), sep))
    # A sentence with no marker takes the markers of the next marked one in its paragraph.
    for i in range(len(claims) - 2, -1, -1):
        c, nxt = claims[i], claims[i + 1]
        if not c.markers and nxt.markers and "\n" not in c.sep:
            c.markers, c.inherited = list(nxt.markers), True
    for c in claims:
        c.markers = list(dict.fromkeys(c.markers))
    return claims


def _split_at_markers(body: str, sep: str, leading: bool) -> list[tuple[str, str]]:
    """A sentence cut between its cited parts: after each run of markers but the last
    (or, when markers lead, before each run but the first) that has words on both sides."""
    runs = list(re.finditer(_MARKERS_RUN, body))
    if len(runs) < 2:
        return [(body, sep)]
    cuts = []
    for a, b in zip(runs, runs[1:]):
        if _has_words(body[a.end():b.start()]):
            cuts.append(b.start() if leading else a.end())
    out, pos = [], 0
    for cut in cuts:
        piece = body[pos:cut]
        stripped = piece.rstrip()
        out.append((stripped, piece[len(stripped):]))
        pos = cut
    out.append((body[pos:], sep))
    return out


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def is_no_answer(text: str) -> bool:
    t = strip_reasoning(text).strip().strip("*_`\"'. ")
    return t.upper().startswith(NO_ANSWER) or t.upper() == "NO ANSWER"
