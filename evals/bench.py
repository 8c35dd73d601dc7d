"""`isnad bench`: measure Isnad's performance on the machine it runs on.

    isnad bench [--json] [--quick] [--out FILE] [--repeats N] [--skip SECTIONS] ...

Sections (each figure is the median of `--repeats` runs, with min and max):
- build:        `isnad index` of the shipped corpus into a fresh data dir (fresh embedding
                cache): wall time, chunks/s, peak RSS; then an incremental update after
                appending a sentence to one document, and a no-change re-index.
- cold:         `isnad ask "..."` on the built index: process start to answer, peak RSS;
                plus which heavy libraries the ask path imports (should be none).
- warm:         one loaded engine over the fixed question set (questions only):
                per-question p50/p95, split into embed / search / answer; in the same
                run and interleaved, the plain LangChain recipe (evals.baselines) over the
                same chunks and vectors with the same embedder, and the retrieval quality
                of both (gold document in the top 5).
- batch:        `isnad ask --batch FILE --json` over XQuAD-ar's questions (1190) against
                the index of its 240 paragraphs: questions/s.
- serve:        `isnad serve` as a subprocess: time until the port answers, a few questions
                through the HTTP API, peak RSS.
- scale:        synthetic vectors (dimension 384): exact vs HNSW (and IVF) at 100k and
                1M: build time, bytes, single-query p50/p95, recall@10; exact latency as a
                function of size (the exact -> approximate switch threshold).

The report goes to stdout (a table, or JSON with --json) and to
<home>/reports/bench-<timestamp>.json (and --out FILE). Exit code 0 when the bench
ran (targets missed or not: they are reported, not enforced), 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from corpus.errors import UsageError
from evals import bench_proc as P
from evals.bench_build import bench_build, bench_incremental
from evals.bench_format import format_report
from evals.bench_latency import bench_cold, bench_warm
from evals.bench_targets import TARGETS, evaluate_targets
from evals.bench_throughput import bench_batch, bench_serve

SECTIONS = ("build", "cold", "warm", "batch", "serve", "scale")

# What --quick leaves out (said at the start, in the table and in the JSON report).
QUICK_SKIPS = {
    "build": "fresh index builds and the incremental update (the shipped-corpus index in the data "
             "directory is reused when there is one)",
    "batch": "batch throughput over XQuAD-ar",
    "serve": "`isnad serve` start-up and memory",
}
QUICK_REDUCED = ("1 pass per figure (full run: 3)",
                 "scale run on 10k clustered vectors only, no IVF (full run: 100k and 1M, Gaussian "
                 "and clustered, with IVF)")


# -- arguments --------------------------------------------------------------------------------
def _int_list(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        mult = 1
        if part.endswith("k"):
            mult, part = 1_000, part[:-1]
        elif part.endswith("m"):
            mult, part = 1_000_000, part[:-1]
        out.append(int(float(part) * mult))
    if not out or any(v <= 0 for v in out):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return out


DESCRIPTION = ("Measure index build, cold start, warm latency, batch throughput, memory and the "
               "exact-vs-approximate scale run; compare with the plain LangChain recipe.")


def add_arguments(p: argparse.ArgumentParser, standalone: bool = False) -> None:
    """`isnad bench`'s options, on its sub-parser (ui/cli.py) or, standalone, on a
    parser of its own (with --debug, which `isnad` has for every subcommand)."""
    p.description = DESCRIPTION
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--quick", action="store_true",
                   help="under a minute: cold start, warm latency (1 pass) and a 10k-vector scale run on "
                        "the index already in the data directory; says what it skipped")
    p.add_argument("--out", metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument("--repeats", type=int, help="runs per figure (default 3; --quick 1)")
    p.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    p.add_argument("--only", default="", help="comma-separated sections to run (default all)")
    p.add_argument("--docs", metavar="DIR", help="document folder to build (default the shipped corpus)")
    p.add_argument("--questions", metavar="FILE.jsonl",
                   help="fixed question set (default evals/questions/corpus.jsonl)")
    p.add_argument("--xquad-paragraphs", type=int, metavar="N",
                   help="batch: only the first N XQuAD-ar paragraphs and their questions (default all 240)")
    p.add_argument("--scale-sizes", type=_int_list, metavar="N,N",
                   help="scale run sizes (default 100k,1M; --quick 10k), e.g. 100k,1M")
    p.add_argument("--scale-kinds",
                   help="synthetic data sets: gaussian,clustered (default both; --quick clustered)")
    p.add_argument("--ef-search", type=_int_list, metavar="N,N",
                   help="HNSW efSearch values swept (default 16,32,64,96,128,192,256,384,512)")
    p.add_argument("--hnsw-m", type=int, help="HNSW M (default: Isnad's IndexParams.hnsw_m)")
    p.add_argument("--hnsw-ef-construction", type=int,
                   help="HNSW efConstruction (default: Isnad's IndexParams.hnsw_ef_construction)")
    p.add_argument("--no-ivf", action="store_true", help="skip the IVF comparison in the scale run")
    p.add_argument("--scale-queries", type=int, help="queries for recall@10 (default 500; --quick 200)")
    p.add_argument("--latency-queries", type=int,
                   help="single queries timed per pass (default 200; --quick 100)")
    p.add_argument("--serve-timeout", type=float, default=240.0,
                   help="seconds to wait for `isnad serve` to answer (default 240)")
    p.add_argument("--tmp", metavar="DIR", help="where fresh data dirs are made (default system temp)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    if standalone:
        p.add_argument("--debug", action="store_true", help="tracebacks of failed sections")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="isnad bench")
    add_arguments(p, standalone=True)
    return p


def _sections(opts) -> list[str]:
    only = [s.strip() for s in opts.only.split(",") if s.strip()]
    skip = [s.strip() for s in opts.skip.split(",") if s.strip()]
    for s in only + skip:
        if s not in SECTIONS:
            raise UsageError(f"unknown section {s!r}: choose from {', '.join(SECTIONS)}")
    chosen = only or [s for s in SECTIONS if not (opts.quick and s in QUICK_SKIPS)]
    return [s for s in chosen if s not in skip]


# -- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None, settings=None) -> int:
    """Standalone entry (tests): parse `argv`, then `run`."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    return run(opts, settings)


def run(opts: argparse.Namespace, settings=None) -> int:
    """Run the bench the parsed `opts` describe; 2 on bad usage, else 0."""
    try:
        sections = _sections(opts)
        if opts.repeats is not None and opts.repeats < 1:
            raise UsageError("--repeats must be at least 1")
        if opts.docs and not Path(opts.docs).is_dir():
            raise UsageError(f"{opts.docs}: not a directory")
    except UsageError as exc:
        print(f"isnad bench: {exc}", file=sys.stderr)
        return 2
    if settings is None:
        from qa.settings import Settings

        settings = Settings.from_env()
    log = (lambda _m: None) if opts.quiet else (lambda m: print(f"bench: {m}", file=sys.stderr, flush=True))
    report = run_bench(opts, settings, sections, log)
    text = json.dumps(report, ensure_ascii=False, indent=1, default=_json_default)
    reports = Path(settings.home) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(text, encoding="utf-8")
    report["report_file"] = str(path)
    if opts.out:
        Path(opts.out).expanduser().parent.mkdir(parents=True, exist_ok=True)
        Path(opts.out).expanduser().write_text(text, encoding="utf-8")
    if opts.json:
        print(text)
    else:
        print(format_report(report))
        print(f"\nJSON report: {path}")
    return 0


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def run_bench(opts, settings, sections: list[str], log: Callable[[str], None]) -> dict:
    """Every chosen section (one that fails says so and the others still run)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the embedder sets it for Isnad
    report, params, docs = _started(opts, settings, sections, log)
    tmp_root = Path(tempfile.mkdtemp(prefix="isnad-bench-", dir=opts.tmp))
    report["config"]["tmp"] = str(tmp_root)
    t_all = time.perf_counter()
    try:
        _run_sections(report, opts, settings, sections, params, docs, tmp_root, log)
    finally:
        if not opts.keep:
            shutil.rmtree(tmp_root, ignore_errors=True)
    report["seconds"] = round(time.perf_counter() - t_all, 1)
    report["machine"]["load_average_end"] = P.load_average()
    report["targets"] = evaluate_targets(report)
    return report


def _started(opts, settings, sections: list[str], log) -> tuple[dict, object, Path]:
    """(the report's head: the machine and the run's configuration, IndexParams, docs)."""
    from corpus.loaders import SHIPPED_DOCUMENTS
    from index import IndexParams

    params = settings.index if isinstance(settings.index, IndexParams) else IndexParams()
    docs = Path(opts.docs).expanduser().resolve() if opts.docs else SHIPPED_DOCUMENTS
    skipped = quick_skipped(opts, sections)
    for line in skipped:
        log(f"--quick: {line}")
    return ({
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {**P.machine_info(), "load_average_start": P.load_average()},
        "config": {
            "repeats": opts.repeats or (1 if opts.quick else 3), "quick": bool(opts.quick),
            "sections": sections, "embedder": settings.embedder, "docs": str(docs),
            "docs_is_shipped": docs == SHIPPED_DOCUMENTS, "home": str(settings.home),
            "isnad_command": P.isnad_command(), "index_params": _index_params(params),
            "retrieval": asdict(settings.retrieval), "k": settings.k,
            "scale_sizes": opts.scale_sizes or ([10_000] if opts.quick else [100_000, 1_000_000]),
            "targets": TARGETS, "quick_skipped": skipped,
        },
    }, params, docs)


def _run_sections(report: dict, opts, settings, sections: list[str], params, docs: Path, tmp_root: Path,
                  log) -> None:
    from evals import bench_scale

    repeats, scale_sizes = report["config"]["repeats"], report["config"]["scale_sizes"]
    built_home = _index_for_sections(report, opts, settings, sections, docs, repeats, tmp_root, log)
    needs_index = [s for s in ("cold", "warm", "serve") if s in sections]
    runs = {
        "cold": lambda: bench_cold(settings, repeats, built_home, log),
        "warm": lambda: bench_warm(opts, settings, repeats, built_home, log),
        "serve": lambda: bench_serve(opts, settings, repeats, built_home, log),
        "batch": lambda: bench_batch(opts, settings, repeats, tmp_root, log),
        "scale": lambda: bench_scale.run_section(opts, params, repeats, scale_sizes, TARGETS, log),
    }
    titles = {"cold": "cold start", "warm": "warm latency (Isnad and the LangChain recipe)",
              "serve": "isnad serve", "batch": "batch throughput (XQuAD-ar)", "scale": f"scale run {scale_sizes}"}
    for s in ("cold", "warm", "serve", "batch", "scale"):
        if s not in sections:
            continue
        if s in needs_index and built_home is None:
            report[s] = "unavailable: the index build failed"
            continue
        log(titles[s])
        report[s] = _guard(runs[s], opts)
    if "serve" in sections and isinstance(report.get("serve"), str) and built_home is not None:
        log("retrying isnad serve")  # it may have been broken by a concurrent edit
        retry = _guard(runs["serve"], opts)
        report["serve"] = retry if isinstance(retry, dict) else f"{report['serve']} (retried: {retry})"


def _index_for_sections(report, opts, settings, sections, docs: Path, repeats: int, tmp_root: Path,
                        log) -> Path | None:
    """The home of a built index for the sections that need one: the data directory's
    own (--quick without build, when it indexes `docs`), else fresh builds (measured
    when "build" is a section, with the incremental update)."""
    if opts.quick and "build" not in sections:
        home = _reusable_index(settings.home, docs)
        if home is not None:
            log(f"reusing the index in {home}")
            return home
    if not any(s in sections for s in ("build", "cold", "warm", "serve")):
        return None
    built_home = None
    try:
        n = repeats if "build" in sections else 1
        log(f"index build of {docs} ({n} fresh build{'s' if n > 1 else ''})")
        report["build"], built_home = bench_build(docs, settings, repeats, tmp_root, log,
                                                  measure="build" in sections)
    except Exception as exc:
        report["build"] = _unavailable(exc, opts)
    if "build" in sections and built_home is not None:
        log("incremental update")
        report["incremental"] = _guard(
            lambda: bench_incremental(docs, settings, repeats, tmp_root, built_home, log), opts)
    return built_home


def quick_skipped(opts, sections: list[str]) -> list[str]:
    """What a --quick run leaves out, one line each (empty for a full run)."""
    if not opts.quick:
        return []
    lines = [f"skipped {name}: {why}" for name, why in QUICK_SKIPS.items() if name not in sections]
    return lines + [f"reduced: {r}" for r in QUICK_REDUCED]


def _reusable_index(home: Path, docs: Path) -> Path | None:
    """`home` when it holds a readable index built from exactly `docs`."""
    from index import live_manifest

    try:
        m = live_manifest(Path(home))
    except Exception:  # no index there, or one that does not load: build one instead
        return None
    return Path(home) if [Path(s).resolve() for s in m.sources] == [docs.resolve()] else None


def _index_params(params) -> dict:
    d = asdict(params)
    d["chunking"] = asdict(params.chunking)
    return d


def _unavailable(exc: BaseException, opts) -> str:
    if getattr(opts, "debug", False):
        traceback.print_exc()
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"unavailable: {type(exc).__name__}: {first}"


def _guard(fn, opts):
    try:
        return fn()
    except Exception as exc:  # one failed section must not lose the others
        return _unavailable(exc, opts)
