"""Checking a model's answer against the passages: every claim aligned to a quote with exact offsets."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from corpus.language import is_arabic
from corpus.sentences import split_sentences
from qa.generative.output import _DIGITS, _TERMINAL, is_no_answer, parse_claims
from qa.settings import CLAIM_DENSE_FLOOR, CLAIM_DENSE_SPAN, CLAIM_JOIN_GAIN, GenerativeParams
from qa.types import Citation, Passage

_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Evidence:
    """What the checker reads from the index (built by the engine per question)."""

    doc_text: Callable[[str], str]
    stems: Callable[[str], list[str]]  # text -> its Arabic/English stems (index.lexical)
    idf: Callable[[list[str]], dict[str, float]]
    sentences: dict  # chunk_id -> [StoredSentence] (Retrieved.sentences)
    embed: Callable[[list[str]], np.ndarray] | None = None  # for claims not in the corpus language
    corpus_arabic: bool = True
    max_quote_chars: int = 400


@dataclass(frozen=True)
class Aligned:
    passage: Passage
    start: int
    end: int
    score: float
    covered: frozenset = frozenset()  # the claim's stems the quote holds (lexical alignment)


def align(claim: str, passage: Passage, ev: Evidence, cross_lingual: bool = False) -> Aligned | None:
    """The quote (one sentence, or two adjacent ones) of `passage` that best supports
    `claim`, with its score in [0, 1]: the IDF-weighted share of the claim's stems the
    quote holds, or (cross_lingual) the embedding similarity rescaled to [0, 1]."""
    windows = _windows(passage, ev)
    if not windows:
        return None
    if cross_lingual and ev.embed is not None:
        scores = _dense_scores(claim, windows, passage, ev)
    else:
        q = set(ev.stems(claim))
        if not q:
            return None
        idf = ev.idf(sorted(q))
        top = max(idf.values(), default=1.0) or 1.0
        weight = {t: idf.get(t, top) for t in q}
        total = sum(weight.values())
        scores = [sum(weight[t] for t in q & stems) / total for _, _, stems in windows]
    best = None
    for (start, end, stems), score in zip(windows, scores):
        single = end - start
        # A pair must add something real to beat the single sentence it contains.
        bonus = 0.0 if _is_single(start, end, windows) else -0.1
        key = score + bonus
        if best is None or key > best[0] + 1e-9 or (abs(key - best[0]) < 1e-9 and single < best[2] - best[1]):
            best = (key, start, end, score, stems)
    _, start, end, score, stems = best
    covered = frozenset() if cross_lingual and ev.embed is not None else frozenset(q & stems)
    return Aligned(passage, start, end, round(float(score), 4), covered)


def supported_set(claim: str, aligned: list[Aligned], ev: Evidence, min_support: float) -> list[Aligned]:
    """The citations of one claim that support it: the best one if it reaches
    `min_support` alone; the others join when they add coverage of their own (0.1+),
    so that a claim drawing on two passages ("X and Y [1][2]") passes on their union."""
    ranked = sorted(aligned, key=lambda a: a.score, reverse=True)
    if not ranked:
        return []
    q = set(ev.stems(claim))
    idf = ev.idf(sorted(q)) if q else {}
    top = max(idf.values(), default=1.0) or 1.0
    weight = {t: idf.get(t, top) for t in q}
    total = sum(weight.values()) or 1.0

    def joint(items: list[Aligned]) -> float:
        return sum(weight[t] for t in frozenset().union(*(a.covered for a in items)) if t in weight) / total

    chosen = [ranked[0]]
    for a in ranked[1:]:
        if a.score >= min_support or (a.covered and joint(chosen + [a]) - joint(chosen) >= CLAIM_JOIN_GAIN
                                      and a.score >= min_support / 2):
            chosen.append(a)
    if chosen[0].score >= min_support:
        return chosen
    if len(chosen) >= 2 and all(a.covered for a in chosen) and joint(chosen) >= min_support:
        return chosen
    return []


def _windows(passage: Passage, ev: Evidence) -> list[tuple[int, int, frozenset]]:
    """Single sentences of the passage and adjacent pairs (within max_quote_chars)."""
    lo, hi = passage.start, passage.end
    stored = [s for s in ev.sentences.get(passage.chunk_id, []) if s.start >= lo and s.end <= hi]
    if stored:
        singles = [(s.start, s.end, frozenset(s.stems)) for s in stored]
    else:  # not in the evidence: analyze the passage here
        text = ev.doc_text(passage.doc_id)
        singles = [(sp.start, sp.end, frozenset(ev.stems(text[sp.start:sp.end])))
                   for sp in split_sentences(text, lo, hi)]
    singles = [w for w in singles if w[1] > w[0]]
    pairs = [(a[0], b[1], a[2] | b[2]) for a, b in zip(singles, singles[1:])
             if b[1] - a[0] <= ev.max_quote_chars]
    return singles + pairs


def _is_single(start: int, end: int, windows) -> bool:
    inner = [w for w in windows if start <= w[0] and w[1] <= end]
    return len(inner) <= 1


def _dense_scores(claim: str, windows, passage: Passage, ev: Evidence) -> list[float]:
    """Cross-lingual support: embedding similarity, rescaled, times the share of the
    claim's numbers (years, counts) the quote holds. Weaker than the lexical check."""
    text = ev.doc_text(passage.doc_id)
    quotes = [text[s:e] for s, e, _ in windows]
    vecs = np.asarray(ev.embed([claim] + quotes), dtype=np.float32)
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    sims = vecs[1:] @ vecs[0]
    numbers = set(_NUMBER_TOKEN.findall(claim.translate(_DIGITS)))
    out = []
    for sim, quote in zip(sims, quotes):
        # Multilingual E5 puts unrelated text near 0.8 and a translation near 0.9.
        score = min(1.0, max(0.0, (float(sim) - CLAIM_DENSE_FLOOR) / CLAIM_DENSE_SPAN))
        if numbers:
            score *= len(numbers & set(_NUMBER_TOKEN.findall(quote.translate(_DIGITS)))) / len(numbers)
        out.append(score)
    return out


@dataclass
class Checked:
    """The outcome of checking one model answer."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    kept: int = 0  # sentences kept
    dropped: int = 0  # substantive sentences removed (unsupported or uncited)
    dropped_markers: int = 0  # [n] naming no given passage, or not supported
    support: float = 0.0  # the lowest alignment score among the kept citations
    problem: str = ""  # why the answer cannot be shown ("" when it can)


def check_answer(raw: str, passages: list[Passage], ev: Evidence, params: GenerativeParams) -> Checked:
    """Check and renumber the model's answer against the passages it was given."""
    if is_no_answer(raw):
        return Checked(problem="no-answer")
    claims = parse_claims(raw)
    if not claims:
        return Checked(problem="empty")
    if not any(1 <= n <= len(passages) for c in claims for n in c.markers):
        return Checked(problem="no-citation")
    out = Checked()
    numbering: dict[tuple[str, int, int], int] = {}
    aligned_by_key: dict[tuple[str, int, int], Aligned] = {}
    parts: list[str] = []
    kept_chars = dropped_chars = 0
    kept_last = False
    supports: list[float] = []
    for claim in claims:
        cross = is_arabic(claim.body) != ev.corpus_arabic
        numbers: list[int] = []
        found = [align(claim.body, passages[n - 1], ev, cross_lingual=cross)
                 for n in claim.markers if 1 <= n <= len(passages)]
        good = supported_set(claim.body, [a for a in found if a is not None], ev, params.min_support)
        out.dropped_markers += len(claim.markers) - len(good)
        for a in sorted(good, key=found.index):  # in the order the model cited them
            key = (a.passage.chunk_id, a.start, a.end)
            if key not in numbering:
                numbering[key] = len(numbering) + 1
                aligned_by_key[key] = a
            elif a.score > aligned_by_key[key].score:
                aligned_by_key[key] = a
            supports.append(a.score)
            if numbering[key] not in numbers:
                numbers.append(numbering[key])
        if numbers:
            body = claim.body
            if not kept_last:  # what this part continued was removed: no dangling "، ..."
                body = body.lstrip("،,;؛ ") or body
            parts.append(_with_markers(body, numbers) + claim.sep)
            kept_last = True
            kept_chars += len(claim.body)
            out.kept += 1
        elif claim.markers or (len(ev.stems(claim.body)) >= 2 and not claim.body.rstrip("*_ ").endswith(":")):
            out.dropped += 1
            dropped_chars += len(claim.body)
            kept_last = False
        elif parts and "\n" in claim.sep and not parts[-1].endswith("\n"):
            parts[-1] = parts[-1].rstrip() + claim.sep
    if not out.kept:
        out.problem = "unsupported"
        return out
    if kept_chars < params.min_supported_share * (kept_chars + dropped_chars):
        out.problem = "mostly-unsupported"
        return out
    out.text = "".join(parts).strip()
    out.support = round(min(supports), 4)
    out.citations = _citations(numbering, aligned_by_key, ev)
    return out


def _citations(numbering: dict[tuple[str, int, int], int], aligned: dict[tuple[str, int, int], "Aligned"],
               ev: Evidence) -> list[Citation]:
    """The kept alignments as citations, in their new numbering."""
    out = []
    for (chunk_id, start, end), n in sorted(numbering.items(), key=lambda kv: kv[1]):
        a = aligned[(chunk_id, start, end)]
        p = a.passage
        quote = ev.doc_text(p.doc_id)[start:end]
        out.append(Citation(n, p.doc_id, p.title, p.chunk_id, quote, p.text, start, end, a.score, p.section))
    return out


def _with_markers(body: str, numbers: list[int]) -> str:
    marks = "".join(f"[{n}]" for n in numbers)
    body = body.rstrip()
    end = len(body)
    while end > 0 and body[end - 1] in _TERMINAL:
        end -= 1
    if end == 0:
        return f"{body} {marks}"
    return f"{body[:end].rstrip()} {marks}{body[end:]}"

