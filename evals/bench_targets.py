"""The targets `isnad bench` reports against (reported, never enforced), and the rows
that say whether a report meets them."""
from __future__ import annotations

TARGETS = {
    "warm_p50_ms": 40.0, "warm_p95_ms": 80.0, "cold_start_s": 3.0, "build_s": 60.0,
    "ask_peak_mb": 500.0, "approx_1m_p50_ms": 5.0, "approx_1m_recall": 0.95,
}


def get(d, *path):
    """d[path[0]][path[1]]...; None where a step is missing or not a dict."""
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def evaluate_targets(report: dict) -> list[dict]:
    """One row per target: {target, value, limit, pass (None: not measured), note}."""
    return _latency_rows(report) + _scale_rows(report.get("scale")) + _langchain_rows(report.get("warm"))


def _row(name: str, value, target: float, op: str, note: str = "") -> dict:
    ok = None if value is None else (value <= target if op == "<=" else value >= target)
    return {"target": name, "value": value, "limit": f"{op} {target}", "pass": ok, "note": note}


def _latency_rows(report: dict) -> list[dict]:
    langs = get(report, "warm", "isnad", "by_language") or {}
    split = "; ".join(f"{lang} ({v['questions']} q) p50 {v['p50_ms']['median']:.1f} / p95 {v['p95_ms']['median']:.1f} ms"
                      for lang, v in sorted(langs.items()) if v["p50_ms"]["median"] is not None)
    shipped = get(report, "config", "docs_is_shipped")
    rows = [
        _row("warm ask p50 (ms)", get(report, "warm", "isnad", "wall_ms", "p50", "median"), TARGETS["warm_p50_ms"], "<="),
        _row("warm ask p95 (ms)", get(report, "warm", "isnad", "wall_ms", "p95", "median"), TARGETS["warm_p95_ms"],
             "<=", split),
        _row("cold start (s)", get(report, "cold", "seconds", "median"), TARGETS["cold_start_s"], "<="),
        _row("shipped corpus index build (s)", get(report, "build", "seconds", "median") if shipped else None,
             TARGETS["build_s"], "<=", "" if shipped else "not measured: --docs is not the shipped corpus"),
        _row("isnad ask peak memory (MB)", get(report, "cold", "peak_rss_mb", "max"), TARGETS["ask_peak_mb"], "<="),
    ]
    heavy = get(report, "cold", "imports", "heavy_modules_loaded")
    if heavy is not None:
        rows.append({"target": "no heavy imports on the ask path", "value": ",".join(heavy) or "none",
                     "limit": "none", "pass": not heavy, "note": ""})
    return rows


def _scale_rows(scale) -> list[dict]:
    if not isinstance(scale, dict):
        return []
    rows = []
    for run in scale.get("runs", []):
        if run["n"] < 1_000_000:
            continue
        for name in ("hnsw", "ivf"):
            ch = get(run, name, "chosen")
            if not ch:
                continue
            knob = "efSearch" if name == "hnsw" else "nprobe"
            val = ch.get("ef_search", ch.get("nprobe"))
            rows.append({
                "target": f"1M {run['kind']} {name.upper()} p50 <= 5 ms at recall@10 >= 0.95",
                "value": f"p50 {ch['p50_ms']:.2f} ms, recall {ch['recall@10']:.3f} ({knob}={val})",
                "limit": "p50 <= 5 ms & recall >= 0.95",
                "pass": bool(ch["meets_recall"] and ch["meets_latency"]), "note": ""})
    return rows


def _langchain_rows(warm) -> list[dict]:
    if not isinstance(warm, dict):
        return []
    r50 = get(warm, "ratio_isnad_over_langchain", "p50", "median")
    qi, ql = get(warm, "quality", "isnad", "doc_hit@5"), get(warm, "quality", "langchain", "doc_hit@5")
    ei, el = get(warm, "quality", "isnad", "evidence_hit@5"), get(warm, "quality", "langchain", "evidence_hit@5")
    return [
        {"target": "Isnad at least as fast as LangChain per question (p50 ratio)",
         "value": r50, "limit": "<= 1.0", "pass": None if r50 is None else r50 <= 1.0,
         "note": "Isnad = retrieval + answer; LangChain = retrieval only"},
        {"target": "... at equal or better quality (gold doc hit@5, evidence hit@5)",
         "value": f"Isnad {qi}/{ei} vs LangChain {ql}/{el}", "limit": ">=",
         "pass": None if qi is None else (qi >= ql and ei >= el), "note": ""},
    ]
