"""qa.retriever.fuse cross-checked against ranx.fuse on the same score lists."""
from __future__ import annotations

import random

import pytest
from ranx import Run, fuse as ranx_fuse

from qa.retriever import adaptive_dense_weight, fuse
from qa.settings import RetrievalParams

pytestmark = pytest.mark.unit


def lists(seed: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """A dense (cosines) and a lexical (BM25) list, overlapping in part, no ties."""
    rng = random.Random(seed)
    ids = rng.sample(range(1000), 40)
    dense = sorted(((i, rng.uniform(0.6, 0.95)) for i in ids[:25]), key=lambda kv: -kv[1])
    lexical = sorted(((i, rng.uniform(1.0, 30.0)) for i in ids[15:]), key=lambda kv: -kv[1])
    return dense, lexical


def run_of(ranking: list[tuple[int, float]]) -> Run:
    return Run({"q": {str(i): float(s) for i, s in ranking}})


def ranx_scores(run: Run) -> dict[int, float]:
    return {int(d): s for d, s in run.to_dict()["q"].items()}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weight", [0.5, 0.8])
def test_convex_fusion_is_ranx_wsum_of_min_max_scores(seed, weight):
    dense, lexical = lists(seed)
    ours = dict(fuse(dense, lexical, RetrievalParams(fusion="convex"), dense_weight=weight))
    theirs = ranx_scores(ranx_fuse([run_of(dense), run_of(lexical)], norm="min-max", method="wsum",
                                   params={"weights": [weight, 1 - weight]}))
    assert ours.keys() == theirs.keys()
    for cid, score in ours.items():
        assert score == pytest.approx(theirs[cid], abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_rrf_fusion_is_ranx_rrf(seed):
    dense, lexical = lists(seed)
    ours = dict(fuse(dense, lexical, RetrievalParams(fusion="rrf", rrf_k=60)))
    theirs = ranx_scores(ranx_fuse([run_of(dense), run_of(lexical)], method="rrf", params={"k": 60}))
    assert ours.keys() == theirs.keys()
    for cid, score in ours.items():
        assert score == pytest.approx(theirs[cid], abs=1e-12)


def test_fused_ranking_is_sorted_best_first():
    dense, lexical = lists(7)
    scores = [s for _, s in fuse(dense, lexical, RetrievalParams())]
    assert scores == sorted(scores, reverse=True)


def test_passages_in_another_language_lean_on_the_dense_side():
    """A passage in another language is weighed `other_language_weight` dense: with
    the lexical list reversed against the dense one, it keeps its dense rank."""
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 30.0), (2, 20.0), (1, 10.0)]
    plain = dict(fuse(dense, lexical, RetrievalParams(), dense_weight=0.5))
    assert plain[1] == pytest.approx(plain[3])  # 0.5 * 1 + 0.5 * 0 both ways
    other = dict(fuse(dense, lexical, RetrievalParams(), dense_weight=0.5, other_language={1},
                      other_language_weight=0.9))
    assert other[1] == pytest.approx(0.9) and other[1] > other[3]


def test_dense_weight_rises_as_the_keyword_side_finds_less():
    p = RetrievalParams(dense_weight=0.5, adaptive_dense_boost=0.3, adaptive_knee=1.0)
    assert adaptive_dense_weight(p, 1.0) == pytest.approx(0.5)
    assert adaptive_dense_weight(p, 0.0) == pytest.approx(0.8)
    assert adaptive_dense_weight(p, 0.5) == pytest.approx(0.65)
    assert adaptive_dense_weight(RetrievalParams(dense_weight=0.9, adaptive_dense_boost=0.3), 0.0) == 1.0


def test_dense_weight_stays_balanced_while_the_keywords_find_most_of_the_question():
    # Above the knee (a question worded like its passage) fusion is left as it is; below,
    # the dense side gains weight linearly, the whole boost when keywords find nothing.
    p = RetrievalParams(dense_weight=0.5, adaptive_dense_boost=0.5, adaptive_knee=0.6)
    assert adaptive_dense_weight(p, 0.9) == adaptive_dense_weight(p, 0.6) == pytest.approx(0.5)
    assert adaptive_dense_weight(p, 0.3) == pytest.approx(0.75)
    assert adaptive_dense_weight(p, 0.0) == pytest.approx(1.0)
    assert adaptive_dense_weight(RetrievalParams(adaptive_knee=0.0), 0.0) == pytest.approx(0.5)
