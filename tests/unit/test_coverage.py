"""qa.coverage: the one IDF coverage measure."""
from __future__ import annotations

import pytest

from qa.coverage import idf_coverage

pytestmark = pytest.mark.unit


def test_coverage_is_the_idf_weighted_share():
    idf = {"a": 3.0, "b": 1.0}
    assert idf_coverage({"a", "b"}, {"a"}, idf) == pytest.approx(0.75)
    assert idf_coverage({"a", "b"}, {"b", "z"}, idf) == pytest.approx(0.25)
    assert idf_coverage({"a", "b"}, {"a", "b"}, idf) == 1.0


def test_unknown_stems_weigh_one_and_empty_questions_cover_nothing():
    assert idf_coverage({"a", "c"}, {"c"}, {"a": 3.0}) == pytest.approx(0.25)
    assert idf_coverage(set(), {"a"}, {"a": 3.0}) == 0.0
    assert idf_coverage(["a", "a", "b"], frozenset({"a"}), {"a": 1.0, "b": 1.0}) == 0.5  # a set of terms


def test_coverage_of_a_fixed_question_gives_the_very_same_floats():
    import random

    from qa.coverage import idf_coverage_of

    rng = random.Random(13)
    vocab = [f"w{i}" for i in range(40)]
    for _ in range(300):
        q = set(rng.sample(vocab, rng.randint(0, 8)))
        idf = {t: rng.uniform(0.01, 9.0) for t in rng.sample(vocab, 30)}
        covers = idf_coverage_of(q, idf)
        for _ in range(10):
            have = frozenset(rng.sample(vocab, rng.randint(0, 20)))
            assert covers(have) == idf_coverage(q, have, idf)  # equal, not approximately
