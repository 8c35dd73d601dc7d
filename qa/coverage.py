"""IDF coverage: how much of a question a text holds, the one measure that retrieval
re-ranking, sentence choice and answerability all weigh.

    coverage(Q, S) = sum(idf(t) for t in Q & S) / sum(idf(t) for t in Q)

A stem missing from `idf` weighs 1.0. 0.0 for an empty question.
"""
from __future__ import annotations

from collections.abc import Iterable


def idf_coverage(terms: Iterable[str], have: Iterable[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of `terms` (the question's stems) that `have` contains, in [0, 1]."""
    return idf_coverage_of(terms, idf)(have)


def idf_coverage_of(terms: Iterable[str], idf: dict[str, float]):
    """`idf_coverage` of these terms, as a function of `have` alone: the question's own
    weight summed once, not once per sentence (the same sums, so the same floats)."""
    terms = set(terms)
    total = sum(idf.get(t, 1.0) for t in terms)
    if not total:
        return lambda have: 0.0
    return lambda have: sum(idf.get(t, 1.0) for t in terms.intersection(have)) / total
