"""`isnad bench`: the report has every figure, with sane values. No latency target is
asserted here (targets are measured by the bench run itself, on the machine)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from corpus.loaders import SHIPPED_DOCUMENTS
from evals import bench, bench_scale, bench_vectors
from evals.bench_format import format_report
from evals.bench_targets import evaluate_targets
from evals.metrics import percentile, stat
from evals.questions import CORPUS_QUESTIONS
from evals.bench_proc import run_measured


def _ordered(block: dict) -> None:
    """A {p50, p95, min, max} block of stat()s: min <= p50 <= p95 <= max, all positive."""
    vals = [block[k]["median"] for k in ("min", "p50", "p95", "max")]
    assert all(v is not None and v >= 0 for v in vals), block
    assert vals[0] <= vals[1] <= vals[2] <= vals[3], vals


def _stat_ok(s: dict, positive: bool = True) -> None:
    assert s["runs"] >= 1
    assert s["min"] <= s["median"] <= s["max"], s
    if positive:
        assert s["min"] > 0, s


# -- fast unit tests ----------------------------------------------------------------------
def test_stat_and_percentiles():
    s = stat([3.0, 1.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["runs"]) == (2.0, 1.0, 3.0, 3)
    assert stat([])["median"] is None
    assert percentile([1, 2, 3, 4], 50) == 2.5


def test_warm_quality_equals_ranx_on_the_same_units():
    """evals.bench_latency.quality (evals.metrics' units and ranks) against the figures
    counted by hand and against ranx on the same relevance units."""
    from types import SimpleNamespace as P

    from evals.bench_latency import quality
    from evals.questions import EvalQuestion

    qs = [EvalQuestion("a", "?", gold_docs=("g",), evidence="الجملة الذهبية"),
          EvalQuestion("b", "?", gold_docs=("g",)),
          EvalQuestion("c", "?", gold_docs=("h",), evidence="غائبة"),
          EvalQuestion("d", "?", gold_docs=("g",)),
          EvalQuestion("e", "?", answerable=False)]
    got = {"a": [P(doc_id="x", text="..."), P(doc_id="x", text="..."), P(doc_id="g", text="فيها الجملة الذهبية")],
           "b": [P(doc_id="g", text="...")],
           "c": [P(doc_id="y", text="...")] * 5 + [P(doc_id="h", text="غائبة")],
           "d": []}
    q = quality(qs, got)
    # a: gold at passage rank 3 (evidence there too); b: rank 1; c: only at rank 6 (out); d: nothing
    assert q["questions"] == 4
    assert q["doc_hit@1"] == 0.25 and q["doc_hit@5"] == 0.5
    assert q["doc_mrr@5"] == round((1 / 3 + 1) / 4, 4)
    assert q["evidence_hit@5"] == 0.25
    from evals.metrics import QuestionRecord, retrieval_metrics

    units = {"a": ["0", "1", "<gold>"], "b": ["<gold>"], "c": ["0", "1", "2", "3", "4"], "d": []}
    records = [QuestionRecord(i, "?", units=u, relevant=["<gold>"]) for i, u in units.items()]
    ranx = retrieval_metrics(records, ["recall@1", "recall@5", "mrr@5"])
    assert (ranx["recall@1"], ranx["recall@5"], ranx["mrr@5"]) == (q["doc_hit@1"], q["doc_hit@5"], q["doc_mrr@5"])


def test_int_list_parses_sizes():
    assert bench._int_list("100k,1M") == [100_000, 1_000_000]
    assert bench._int_list("2000") == [2000]
    with pytest.raises(Exception):
        bench._int_list("0")


def test_bad_usage_exits_2(tmp_path, capsys):
    from qa.settings import Settings

    settings = Settings.from_env(home=tmp_path)
    assert bench.main(["--only", "nonsense"], settings) == 2
    assert bench.main(["--repeats", "0"], settings) == 2
    assert bench.main(["--docs", str(tmp_path / "missing")], settings) == 2


def test_threshold_from_curve_interpolates():
    curve = [{"n": 10_000, "p50_ms": [1.0]}, {"n": 100_000, "p50_ms": [10.0]}]
    th = bench_scale.threshold_from_curve(curve, 5.0)
    assert th["n"] == 10_000 + int(4 / 9 * 90_000)
    assert bench_scale.threshold_from_curve(curve, 50.0)["n"] is None


def test_recall_and_synthetic_data():
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert bench_scale.recall_at_k(truth, truth, k=3) == 1.0
    assert bench_scale.recall_at_k(np.array([[1, 9, 9], [9, 9, 9]]), truth, k=3) == pytest.approx(1 / 6)
    for kind in ("gaussian", "clustered"):
        base, queries = bench_vectors.make_data(kind, 500, 20)
        assert base.shape == (500, 384) and queries.shape == (20, 384)
        assert np.allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-4)
    # the clustered set is shaped like real e5 vectors: a large common mean
    base, _ = bench_vectors.make_data("clustered", 2000, 1)
    assert 0.8 < np.linalg.norm(base.mean(0)) < 0.95


def test_scale_run_small():
    out = bench_scale.scale_run(
        [3000], ["gaussian", "clustered"], hnsw_m=16, hnsw_ef_construction=40, ef_search=[16, 64],
        ivf=True, nprobe=[1, 8], repeats=2, n_queries=50, lat_queries=20, curve_sizes=[1000, 2000],
        budget_ms=5.0, recall_target=0.95, latency_target_ms=5.0, n_clusters=50, centre_share=0.7,
        log=lambda _m: None)
    assert [r["kind"] for r in out["runs"]] == ["gaussian", "clustered"]
    for run in out["runs"]:
        for name in ("hnsw", "ivf"):
            for row in run[name]["sweep"]:
                assert 0.0 <= row["recall@10"] <= 1.0
                assert len(row["p50_ms"]) == 2 and all(v > 0 for v in row["p50_ms"])
            assert run[name]["index_bytes"] > 0
        assert run["exact"]["index_bytes"] == 3000 * 384 * 4
    assert [r["n"] for r in out["exact_curve"]] == [1000, 2000, 3000]


def test_run_measured_reports_peak_memory():
    import sys

    res = run_measured([sys.executable, "-c", "b = bytearray(64 * 1024 * 1024); print('ok')"])
    assert res.returncode == 0 and res.stdout.strip() == "ok"
    assert res.peak_rss_bytes >= 64 * 1024 * 1024
    assert res.seconds > 0


def test_format_report_handles_unavailable_sections():
    report = {"machine": {"nproc": 2, "cpu_model": "x", "load_average_start": [1, 1, 1],
                          "load_average_end": [1, 1, 1]},
              "config": {"repeats": 1}, "seconds": 1.0, "serve": "unavailable: no app",
              "scale": "unavailable: out of memory"}
    report["targets"] = evaluate_targets(report)
    text = format_report(report)
    assert "unavailable: no app" in text and "Targets" in text


# -- the whole bench, small ----------------------------------------------------------------
@pytest.fixture(scope="module")
def small_docs(tmp_path_factory) -> Path:
    """One shortened document of the shipped corpus (a few chunks: quick to embed)."""
    d = tmp_path_factory.mktemp("bench-docs")
    name = "central-asia-defence-ministers-samarkand.txt"
    text = (SHIPPED_DOCUMENTS / name).read_text(encoding="utf-8")
    (d / name).write_text(text[:1500], encoding="utf-8")
    return d


@pytest.mark.slow
def test_bench_small_json(tmp_path, small_docs, capsys):
    from evals.benchmarks import XQUAD_AR_FILE, benchmarks_root
    from qa.settings import Settings

    settings = Settings.from_env(home=tmp_path / "home")
    out = tmp_path / "bench.json"
    # The warm section over a sample of the fixed set (Arabic and English, no follow-ups):
    # the whole set against a one-document index measures nothing more, at CI's cost.
    rows = [json.loads(line) for line in CORPUS_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    sample = [r for r in rows if r.get("category") == "english"][:4] + [
        r for r in rows if r.get("category") in ("factoid", "numbers")][:12]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    rc = bench.main(["--repeats", "2", "--json", "--quiet", "--docs", str(small_docs), "--xquad-paragraphs", "2",
                     "--questions", str(questions),
                     "--scale-sizes", "2000", "--scale-queries", "60", "--latency-queries", "20",
                     "--serve-timeout", "120", "--out", str(out)], settings)
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert printed["started_at"] == report["started_at"]
    written = list((tmp_path / "home" / "reports").glob("bench-*.json"))
    assert len(written) == 1

    for key in ("machine", "config", "build", "incremental", "cold", "warm", "batch", "serve",
                "scale", "targets", "seconds"):
        assert key in report, key
    m = report["machine"]
    assert m["nproc"] >= 1 and m["cpu_model"]
    assert len(m["load_average_start"]) == 3 and len(m["load_average_end"]) == 3
    assert report["config"]["repeats"] == 2 and report["config"]["quick"] is False

    b = report["build"]
    assert b["chunks"] >= 1 and b["documents"] == 1
    for name in ("seconds", "chunks_per_s", "peak_rss_mb"):
        _stat_ok(b[name])
    assert b["seconds"]["runs"] == 2
    inc = report["incremental"]
    _stat_ok(inc["seconds"])
    _stat_ok(inc["no_change_seconds"])
    assert inc["chunks_embedded"]["min"] >= 1  # the changed chunk(s), not the whole corpus

    c = report["cold"]
    _stat_ok(c["seconds"])
    _stat_ok(c["peak_rss_mb"])
    assert c["imports"]["heavy_modules_loaded"] == []  # no torch/gradio/langchain on `isnad ask`
    assert set(c["answer_timing_ms"]) >= {"embed", "search", "answer", "total"}

    w = report["warm"]
    assert w["questions"] == len(sample) == 16
    for name in ("wall_ms", "total_ms", "embed_ms", "search_ms", "answer_ms"):
        _ordered(w["isnad"][name])
    _ordered(w["langchain"]["wall_ms"])
    _stat_ok(w["ratio_isnad_over_langchain"]["p50"])
    for who in ("isnad", "langchain"):
        for metric in ("doc_hit@1", "doc_hit@5", "doc_mrr@5", "evidence_hit@5"):
            assert 0.0 <= w["quality"][who][metric] <= 1.0

    bt = report["batch"]
    if (benchmarks_root() / XQUAD_AR_FILE).exists():
        assert isinstance(bt, dict), bt
        assert bt["paragraphs"] == 2 and bt["answers"] == bt["questions"] > 0 and bt["errors"] == 0
        _stat_ok(bt["questions_per_s"])
        assert 0.0 <= bt["doc_hit@5"] <= 1.0
    else:
        assert isinstance(bt, str) and bt.startswith("unavailable")

    sv = report["serve"]
    if isinstance(sv, dict):
        _stat_ok(sv["ready_seconds"])
        _stat_ok(sv["peak_rss_mb"])
    else:
        assert sv.startswith("unavailable")

    sc = report["scale"]
    assert [r["n"] for r in sc["runs"]] == [2000, 2000]
    assert {r["kind"] for r in sc["runs"]} == {"gaussian", "clustered"}
    for run in sc["runs"]:
        assert run["exact"]["recall@10"] == 1.0
        _stat_ok(run["exact"]["p50_ms"])
        for name in ("hnsw", "ivf"):
            for row in run[name]["sweep"]:
                assert 0.0 <= row["recall@10"] <= 1.0
                assert 0 < row["p50_ms"]["median"] <= row["p95_ms"]["median"]
            assert run[name]["chosen"]
    assert sc["exact_curve"] and sc["threshold"]["budget_ms"] == 5.0

    names = {t["target"] for t in report["targets"]}
    assert "warm ask p50 (ms)" in names and "cold start (s)" in names
    for t in report["targets"]:
        assert t["pass"] in (True, False, None)


@pytest.mark.slow
def test_isnad_bench_console_command(tmp_path, small_docs):
    """`isnad bench ...` reaches evals.bench.main through the CLI."""
    import sys

    cmd = [sys.executable, "-m", "ui.cli", "bench", "--home", str(tmp_path), "--json", "--quiet",
           "--only", "scale", "--scale-sizes", "1000", "--scale-kinds", "gaussian", "--no-ivf",
           "--repeats", "1", "--ef-search", "16", "--scale-queries", "20", "--latency-queries", "10"]
    res = run_measured(cmd, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["scale"]["runs"][0]["n"] == 1000
    assert list(tmp_path.glob("reports/bench-*.json"))
