"""`isnad bench`'s report as a table: one function per section, each returning
(label, value) rows; figures read median [min–max] over the repeated runs."""
from __future__ import annotations

from collections.abc import Callable

from evals.bench_proc import MB


def fmt_stat(s, unit: str = "", digits: int = 1) -> str:
    if not isinstance(s, dict) or s.get("median") is None:
        return "n/a"
    f = f"{{:.{digits}f}}"
    core = f.format(s["median"])
    if s.get("runs", 1) > 1:
        core += f" [{f.format(s['min'])}–{f.format(s['max'])}]"
    return core + (f" {unit}" if unit else "")


def format_report(report: dict) -> str:
    m = report["machine"]
    out = [
        "Isnad bench — figures are median [min–max] over repeated runs",
        f"machine: {m.get('nproc')} CPU ({m.get('cpu_model')}), load average start {m.get('load_average_start')} "
        f"end {m.get('load_average_end')}; repeats {report['config']['repeats']}; {report.get('seconds')} s total",
        *[f"quick run: {line}" for line in report["config"].get("quick_skipped", [])],
        "",
    ]
    for title, key, rows in SECTIONS:
        out += _section(report, title, key, rows)
    if report.get("scale") is not None:
        out += _scale_lines(report["scale"])
    out.append("Targets")
    out += [_target_line(t) for t in report.get("targets", [])]
    return "\n".join(out)


def _section(report: dict, title: str, key: str, rows: Callable[[dict], list[tuple[str, str]]]) -> list[str]:
    if key not in report:
        return []
    val = report[key]
    body = [f"  {val}"] if isinstance(val, str) else [f"  {name:<44} {text}" for name, text in rows(val)]
    return [title, *body, ""]


def _target_line(t: dict) -> str:
    mark = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "MISS")
    val = t["value"]
    if isinstance(val, float):
        val = f"{val:.3f}" if val < 10 else f"{val:.1f}"
    return f"  {mark}  {t['target']:<62} {val} ({t['limit']})" + (f" — {t['note']}" if t["note"] else "")


def _build_rows(b: dict) -> list[tuple[str, str]]:
    return [("documents / chunks", f"{b['documents']} / {b['chunks']} ({b['faiss']})"),
            ("wall time", fmt_stat(b["seconds"], "s", 2)),
            ("builder time (inside the process)", fmt_stat(b["builder_seconds"], "s", 2)),
            ("chunks/s", fmt_stat(b["chunks_per_s"], "", 2)),
            ("peak RSS", fmt_stat(b["peak_rss_mb"], "MB", 0))]


def _incremental_rows(b: dict) -> list[tuple[str, str]]:
    return [("changed document", b["changed_document"]),
            ("re-index wall time", fmt_stat(b["seconds"], "s", 2)),
            ("chunks embedded", fmt_stat(b["chunks_embedded"], "", 0)),
            ("no-change re-index", fmt_stat(b["no_change_seconds"], "s", 2))]


def _cold_rows(b: dict) -> list[tuple[str, str]]:
    return [("process start to answer", fmt_stat(b["seconds"], "s", 2)),
            ("first run (before the measured ones)", f"{b['first_run_seconds']:.2f} s"),
            ("peak RSS", fmt_stat(b["peak_rss_mb"], "MB", 0)),
            ("imports (ui.cli + qa.engine)", f"{b['imports']['import_seconds']:.2f} s, heavy modules: "
                                             f"{', '.join(b['imports']['heavy_modules_loaded']) or 'none'}")]


def _warm_rows(w: dict) -> list[tuple[str, str]]:
    i, lc = w["isnad"], w["langchain"]
    rows = [("questions", f"{w['questions']} (k={w['k']})"),
            ("Isnad per question p50", fmt_stat(i["wall_ms"]["p50"], "ms")),
            ("Isnad per question p95", fmt_stat(i["wall_ms"]["p95"], "ms"))]
    for part in ("embed", "search", "answer"):
        rows.append((f"  {part} p50 / p95", f"{fmt_stat(i[f'{part}_ms']['p50'], 'ms')} / "
                                            f"{fmt_stat(i[f'{part}_ms']['p95'], 'ms')}"))
    for lang, v in sorted(i.get("by_language", {}).items()):
        rows.append((f"  {lang} questions ({v['questions']}) p50 / p95",
                     f"{fmt_stat(v['p50_ms'], 'ms')} / {fmt_stat(v['p95_ms'], 'ms')}"))
    r = w["ratio_isnad_over_langchain"]
    rows += [("LangChain recipe per question p50", fmt_stat(lc["wall_ms"]["p50"], "ms")),
             ("LangChain recipe per question p95", fmt_stat(lc["wall_ms"]["p95"], "ms")),
             ("ratio Isnad / LangChain p50", fmt_stat(r["p50"], "", 2)),
             ("ratio Isnad / LangChain p95", fmt_stat(r["p95"], "", 2)),
             ("ratio Isnad retrieval only / LangChain p50", fmt_stat(r["retrieve_p50"], "", 2))]
    if "paired_median" in r:
        rows.append(("median over questions of Isnad / LangChain", fmt_stat(r["paired_median"], "", 2)))
    for lang, v in sorted(r.get("p50_by_language", {}).items()):
        lcl = lc.get("by_language", {}).get(lang, {})
        rows.append((f"  {lang}: LangChain p50 / ratio Isnad / LangChain p50",
                     f"{fmt_stat(lcl.get('p50_ms'), 'ms')} / {fmt_stat(v, '', 2)}"))
    for who in ("isnad", "langchain"):
        q = w["quality"][who]
        rows.append((f"quality {who} ({q['questions']} answerable)",
                     f"doc hit@1 {q['doc_hit@1']:.3f}, hit@5 {q['doc_hit@5']:.3f}, "
                     f"MRR@5 {q['doc_mrr@5']:.3f}, evidence hit@5 {q['evidence_hit@5']:.3f}"))
    return rows


def _batch_rows(b: dict) -> list[tuple[str, str]]:
    return [("benchmark", f"{b['benchmark']}: {b['questions']} questions, {b['paragraphs']} paragraphs, "
                          f"{b['chunks']} chunks"),
            ("wall time", fmt_stat(b["seconds"], "s", 1)),
            ("questions/s (whole process)", fmt_stat(b["questions_per_s"], "q/s", 1)),
            ("questions/s (engine time only)", fmt_stat(b["engine_questions_per_s"], "q/s", 1)),
            ("peak RSS", fmt_stat(b["peak_rss_mb"], "MB", 0)),
            ("answers / errors / gold paragraph hit@5", f"{b['answers']} / {b['errors']} / {b['doc_hit@5']:.3f}")]


def _serve_rows(b: dict) -> list[tuple[str, str]]:
    return [("start until the port answers", fmt_stat(b["ready_seconds"], "s", 1)),
            ("peak RSS (server process)", fmt_stat(b["peak_rss_mb"], "MB", 0)),
            ("peak RSS (process tree)", fmt_stat(b["tree_peak_rss_mb"], "MB", 0)),
            ("questions through the API", f"{b['questions_asked']} ({b['api']}), p50 "
                                          f"{fmt_stat(b['http_ask_ms'], 'ms', 0)}")]


SECTIONS = (
    ("Index build (fresh data dir)", "build", _build_rows),
    ("Incremental update (one sentence appended to one document)", "incremental", _incremental_rows),
    ("Cold start (`isnad ask`, new process)", "cold", _cold_rows),
    ("Warm latency (one loaded engine, fixed question set)", "warm", _warm_rows),
    ("Batch throughput (`isnad ask --batch --json`)", "batch", _batch_rows),
    ("Serve (`isnad serve`)", "serve", _serve_rows),
)


# -- the scale run ----------------------------------------------------------------------------
def _scale_lines(scale) -> list[str]:
    out = ["Scale run (synthetic normalized vectors, d=384, single-query latency, k=10)"]
    if isinstance(scale, str):
        return [*out, f"  {scale}", ""]
    out.append(f"  {'data':<10} {'n':>9} {'index':<28} {'build s':>9} {'MB':>7} {'p50 ms':>8} "
               f"{'p95 ms':>8} {'recall@10':>9}")
    for run in scale["runs"]:
        e = run["exact"]
        out.append(f"  {run['kind']:<10} {run['n']:>9,} {'exact (FlatIP)':<28} "
                   f"{e['build_seconds']['median']:>9.1f} {e['index_bytes'] / MB:>7.0f} "
                   f"{e['p50_ms']['median']:>8.2f} {e['p95_ms']['median']:>8.2f} {1.0:>9.3f}")
        for name, knob, label in (("hnsw", "ef_search", "HNSW M={M} efC={efc} ef={v}"),
                                  ("ivf", "nprobe", "IVF nlist={nlist} nprobe={v}")):
            if run.get(name):
                out += _approximate_lines(run[name], name, knob, label)
    out += _curve_lines(scale)
    return [*out, ""]


def _approximate_lines(b: dict, name: str, knob: str, label: str) -> list[str]:
    out = []
    rows = [b["chosen"]] if b.get("chosen") else []
    for row in rows:
        lab = label.format(M=b.get("M"), efc=b.get("ef_construction"), nlist=b.get("nlist"), v=row[knob])
        out.append(f"  {'':<10} {'':>9} {lab:<28} {b['build_seconds']['median']:>9.1f} "
                   f"{b['index_bytes'] / MB:>7.0f} {row['p50_ms']:>8.2f} "
                   f"{row['p95_ms']:>8.2f} {row['recall@10']:>9.3f}")
    conf = b.get("configured")
    if conf and name == "hnsw" and conf["ef_search"] != (rows[0][knob] if rows else None):
        lab = label.format(M=b.get("M"), efc=b.get("ef_construction"), v=conf["ef_search"])
        out.append(f"  {'':<10} {'':>9} {lab + ' (conf)':<28} {'':>9} {'':>7} "
                   f"{conf['p50_ms']['median']:>8.2f} {conf['p95_ms']['median']:>8.2f} "
                   f"{conf['recall@10']:>9.3f}")
    sweep = ", ".join(f"{r[knob]}:{r['recall@10']:.3f}/{r['p50_ms']['median']:.2f}ms" for r in b["sweep"])
    out.append(f"  {'':<10} {'':>9}   sweep {knob}:recall/p50 = {sweep}")
    return out


def _curve_lines(scale: dict) -> list[str]:
    curve = scale.get("exact_curve")
    if not curve:
        return []
    out = ["  exact p50 by size, one thread (as Isnad searches): " + ", ".join(
        f"{r['n']:,}: {r['p50_ms']['median']:.2f} ms" for r in curve)]
    if all("all_threads" in r for r in curve):
        out.append(f"  exact p50 by size, {scale.get('faiss_threads')} FAISS threads: " + ", ".join(
            f"{r['n']:,}: {r['all_threads']['p50_ms']['median']:.2f} ms" for r in curve))
    th = scale.get("threshold", {})
    out.append(f"  exact p50 reaches {th.get('budget_ms')} ms at about n = "
               f"{th.get('n') if th.get('n') is None else format(th.get('n'), ',')}"
               f"{' (' + th['note'] + ')' if th.get('note') else ''}; Isnad switches to HNSW above "
               f"{scale['isnad_index_params']['approximate_threshold']:,} chunks "
               f"(efSearch {scale['isnad_index_params']['hnsw_ef_search']})")
    return out
