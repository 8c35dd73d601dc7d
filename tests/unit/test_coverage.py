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
