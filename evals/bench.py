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
import statistics
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

SECTIONS = ("build", "cold", "warm", "batch", "serve", "scale")
HEAVY_MODULES = ("torch", "gradio", "gradio_client", "langchain", "langchain_core", "langchain_community",
                 "langchain_classic", "transformers", "sentence_transformers", "pandas", "scipy",
                 "sklearn", "matplotlib")
COLD_QUESTION = "في أي مدينة اجتمع وزراء دفاع دول آسيا الوسطى؟"
SERVE_QUESTIONS = ["من ترأس اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟",
                   "متى وقعت أذربيجان وأوزبكستان معاهدة التحالف؟",
                   "ما هي منظمة الدول التركية؟"]
INCREMENTAL_SENTENCE = " وأضيفت هذه الجملة لقياس التحديث التدريجي للفهرس رقم {n}."

TARGETS = {
    "warm_p50_ms": 40.0, "warm_p95_ms": 80.0, "cold_start_s": 3.0, "build_s": 60.0,
    "ask_peak_mb": 500.0, "approx_1m_p50_ms": 5.0, "approx_1m_recall": 0.95,
}


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


# -- statistics -------------------------------------------------------------------------------
def percentile(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def stat(values, digits: int = 3) -> dict:
    """median / min / max (and the runs) of repeated measurements."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "runs": 0}
    return {"median": round(statistics.median(vals), digits), "min": round(min(vals), digits),
            "max": round(max(vals), digits), "runs": len(vals),
            "values": [round(v, digits) for v in vals]}


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
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the embedder sets it for Isnad
    from corpus.loaders import SHIPPED_DOCUMENTS
    from index import IndexParams

    repeats = opts.repeats or (1 if opts.quick else 3)
    params = settings.index if isinstance(settings.index, IndexParams) else IndexParams()
    docs = Path(opts.docs).expanduser().resolve() if opts.docs else SHIPPED_DOCUMENTS
    scale_sizes = opts.scale_sizes or ([10_000] if opts.quick else [100_000, 1_000_000])
    skipped = quick_skipped(opts, sections)
    for line in skipped:
        log(f"--quick: {line}")
    report: dict = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {**P.machine_info(), "load_average_start": P.load_average()},
        "config": {
            "repeats": repeats, "quick": bool(opts.quick), "sections": sections,
            "embedder": settings.embedder, "docs": str(docs), "docs_is_shipped": docs == SHIPPED_DOCUMENTS,
            "home": str(settings.home),
            "isnad_command": P.isnad_command(),
            "index_params": _index_params(params),
            "retrieval": asdict(settings.retrieval), "k": settings.k,
            "scale_sizes": scale_sizes, "targets": TARGETS, "quick_skipped": skipped,
        },
    }
    tmp_root = Path(tempfile.mkdtemp(prefix="isnad-bench-", dir=opts.tmp))
    report["config"]["tmp"] = str(tmp_root)
    t_all = time.perf_counter()
    built_home: Path | None = None
    if opts.quick and "build" not in sections:
        built_home = _reusable_index(settings.home, docs)
        if built_home is not None:
            log(f"reusing the index in {built_home}")
    try:
        if built_home is None and any(s in sections for s in ("build", "cold", "warm", "serve")):
            try:
                n = repeats if "build" in sections else 1
                log(f"index build of {docs} ({n} fresh build{'s' if n > 1 else ''})")
                report["build"], built_home = bench_build(docs, settings, repeats, tmp_root, log,
                                                          measure="build" in sections)
            except Exception as exc:
                report["build"] = _unavailable(exc, opts)
            if "build" in sections and built_home is not None:
                try:
                    log("incremental update")
                    report["incremental"] = bench_incremental(docs, settings, repeats, tmp_root, built_home, log)
                except Exception as exc:
                    report["incremental"] = _unavailable(exc, opts)
        if built_home is None and any(s in sections for s in ("cold", "warm", "serve")):
            for s in ("cold", "warm", "serve"):
                if s in sections:
                    report[s] = "unavailable: the index build failed"
        else:
            if "cold" in sections:
                log("cold start")
                report["cold"] = _guard(lambda: bench_cold(settings, repeats, built_home, log), opts)
            if "warm" in sections:
                log("warm latency (Isnad and the LangChain recipe)")
                report["warm"] = _guard(lambda: bench_warm(opts, settings, repeats, built_home, log), opts)
            if "serve" in sections:
                log("isnad serve")
                report["serve"] = _guard(lambda: bench_serve(opts, settings, repeats, built_home, log), opts)
        if "batch" in sections:
            log("batch throughput (XQuAD-ar)")
            report["batch"] = _guard(lambda: bench_batch(opts, settings, repeats, tmp_root, log), opts)
        if "scale" in sections:
            log(f"scale run {scale_sizes}")
            report["scale"] = _guard(lambda: bench_scale(opts, params, repeats, scale_sizes, log), opts)
        if "serve" in sections and isinstance(report.get("serve"), str) and built_home is not None:
            log("retrying isnad serve")  # it may have been broken by a concurrent edit
            retry = _guard(lambda: bench_serve(opts, settings, repeats, built_home, log), opts)
            report["serve"] = retry if isinstance(retry, dict) else f"{report['serve']} (retried: {retry})"
    finally:
        if not opts.keep:
            shutil.rmtree(tmp_root, ignore_errors=True)
    report["seconds"] = round(time.perf_counter() - t_all, 1)
    report["machine"]["load_average_end"] = P.load_average()
    report["targets"] = evaluate_targets(report)
    return report


def quick_skipped(opts, sections: list[str]) -> list[str]:
    """What a --quick run leaves out, one line each (empty for a full run)."""
    if not opts.quick:
        return []
    lines = [f"skipped {name}: {why}" for name, why in QUICK_SKIPS.items() if name not in sections]
    return lines + [f"reduced: {r}" for r in QUICK_REDUCED]


def _reusable_index(home: Path, docs: Path) -> Path | None:
    """`home` when it holds a readable index built from exactly `docs`."""
    try:
        m = _manifest(Path(home))
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


# -- sections -------------------------------------------------------------------------------------
def _manifest(home: Path):
    from index import live_manifest

    return live_manifest(home)


def _index_cmd(home: Path, settings, docs: Path | None) -> list[str]:
    cmd = [*P.isnad_command(), "index", "--home", str(home), "--embedder", settings.embedder]
    if docs is not None:
        cmd += ["--docs", str(docs)]
    return cmd


def bench_build(docs: Path, settings, repeats: int, tmp: Path, log, measure: bool = True):
    """Fresh builds (new data dir, so no embedding cache) of `docs`; the last one is
    kept for the sections that need a built index."""
    from corpus.loaders import SHIPPED_DOCUMENTS

    docs_arg = None if docs == SHIPPED_DOCUMENTS else docs
    runs = []
    home = None
    n_runs = repeats if measure else 1
    for r in range(n_runs):
        home = tmp / f"build-{r}"
        res = P.run_measured(_index_cmd(home, settings, docs_arg), timeout=3600).check("isnad index")
        m = _manifest(home)
        runs.append({"seconds": res.seconds, "peak_rss_bytes": res.peak_rss_bytes,
                     "chunks": m.n_chunks, "documents": len(m.documents),
                     "builder_seconds": _builder_seconds(res.stdout)})
        log(f"  build {r + 1}/{n_runs}: {res.seconds:.1f} s, {m.n_chunks} chunks, "
            f"peak {res.peak_rss_bytes / P.MB:.0f} MB")
        if r < n_runs - 1:
            shutil.rmtree(home, ignore_errors=True)
    chunks = runs[-1]["chunks"]
    out = {
        "documents": runs[-1]["documents"], "chunks": chunks, "faiss": _manifest(home).faiss_kind,
        "seconds": stat([r["seconds"] for r in runs]),
        "builder_seconds": stat([r["builder_seconds"] for r in runs]),
        "chunks_per_s": stat([chunks / r["seconds"] for r in runs], 2),
        "peak_rss_mb": stat([r["peak_rss_bytes"] / P.MB for r in runs], 1),
        "note": "wall time of `isnad index` in a fresh data dir (process start, model load, "
                "chunking, embedding every chunk, writing SQLite + FAISS)",
    }
    return out, home


def _builder_seconds(stdout: str) -> float | None:
    import re

    m = re.search(r"indexed in ([0-9.]+) s", stdout)
    return float(m.group(1)) if m else None


def _embedded(stdout: str) -> int | None:
    import re

    m = re.search(r"\((\d+) embedded", stdout)
    return int(m.group(1)) if m else None


def bench_incremental(docs: Path, settings, repeats: int, tmp: Path, built_home: Path, log) -> dict:
    """Copy the corpus, index the copy (the embedding cache seeded from the fresh build,
    so this setup embeds nothing), append a sentence to one document, re-index: timed."""
    corpus = P.copy_tree(docs, tmp / "incremental-docs")
    home = tmp / "incremental-home"
    (home / "cache").mkdir(parents=True)
    for f in (built_home / "cache").glob("embeddings.sqlite*"):
        shutil.copy2(f, home / "cache" / f.name)
    P.run_measured(_index_cmd(home, settings, corpus), timeout=3600).check("isnad index (setup)")
    target = max((p for p in corpus.iterdir() if p.suffix == ".txt"), key=lambda p: p.stat().st_size)
    runs, noop = [], []
    for r in range(repeats):
        with open(target, "a", encoding="utf-8") as f:
            f.write(INCREMENTAL_SENTENCE.format(n=r + 1))
        res = P.run_measured(_index_cmd(home, settings, corpus), timeout=3600).check("isnad index (update)")
        runs.append((res.seconds, _builder_seconds(res.stdout), _embedded(res.stdout), res.peak_rss_bytes))
        res2 = P.run_measured(_index_cmd(home, settings, corpus), timeout=3600).check("isnad index (no change)")
        noop.append(res2.seconds)
        log(f"  update {r + 1}/{repeats}: {res.seconds:.2f} s ({runs[-1][2]} chunk(s) embedded); "
            f"no-change re-index {res2.seconds:.2f} s")
    return {
        "changed_document": target.name, "chunks": _manifest(home).n_chunks,
        "seconds": stat([r[0] for r in runs]), "builder_seconds": stat([r[1] for r in runs]),
        "chunks_embedded": stat([r[2] for r in runs], 0),
        "peak_rss_mb": stat([r[3] / P.MB for r in runs], 1),
        "no_change_seconds": stat(noop),
        "note": "`isnad index --docs COPY` after appending one sentence to the largest document "
                "(unchanged chunks come from the embedding cache); no_change = re-index with nothing changed",
    }


def bench_cold(settings, repeats: int, home: Path, log) -> dict:
    base = [*P.isnad_command(), "ask", "--home", str(home), "--embedder", settings.embedder]
    cmd = [*base, COLD_QUESTION]
    first = P.run_measured(cmd, timeout=600).check("isnad ask")
    runs = []
    for r in range(repeats):
        res = P.run_measured(cmd, timeout=600).check("isnad ask")
        runs.append(res)
        log(f"  ask {r + 1}/{repeats}: {res.seconds:.2f} s, peak {res.peak_rss_bytes / P.MB:.0f} MB")
    jres = P.run_measured([*base, "--json", COLD_QUESTION], timeout=600).check("isnad ask --json")
    try:
        timing = json.loads(jres.stdout)["timing_ms"]
    except (ValueError, KeyError):
        timing = None
    return {
        "question": COLD_QUESTION,
        "seconds": stat([r.seconds for r in runs]),
        "first_run_seconds": round(first.seconds, 3),
        "peak_rss_mb": stat([r.peak_rss_bytes / P.MB for r in [first, *runs]], 1),
        "answer_timing_ms": timing,
        "imports": ask_path_imports(settings, home),
        "note": "wall time of a new `isnad ask` process (OS file cache warm: one unmeasured run first)",
    }


def ask_path_imports(settings, home: Path) -> dict:
    """Which heavy libraries `isnad ask` loads, and how long its imports take."""
    code = (
        "import sys, time, json\n"
        "t0 = time.perf_counter()\n"
        "import ui.cli\n"
        "from qa.engine import Isnad\n"
        "t1 = time.perf_counter()\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = ui.cli.main(['ask', '--home', {str(home)!r}, '--embedder', {settings.embedder!r}, {COLD_QUESTION!r}])\n"
        f"heavy = sorted(m for m in {list(HEAVY_MODULES)!r} if m in sys.modules)\n"
        "print(json.dumps({'rc': rc, 'import_s': t1 - t0, 'heavy': heavy, 'modules': len(sys.modules)}))\n"
    )
    res = P.run_measured([sys.executable, "-c", code], timeout=600).check("ask import check")
    data = json.loads(res.stdout.strip().splitlines()[-1])
    return {"heavy_modules_loaded": data["heavy"], "modules_loaded": data["modules"],
            "import_seconds": round(data["import_s"], 3)}


def bench_warm(opts, settings, repeats: int, home: Path, log) -> dict:
    """Per-question latency of one loaded engine, interleaved with the LangChain recipe."""
    from corpus.normalize import contains_normalized
    from qa.engine import Isnad

    from evals.baselines import LangChainRecipe
    from evals.questions import load_corpus_questions

    questions = load_corpus_questions(Path(opts.questions) if opts.questions else None)
    engine = Isnad.open(settings.with_(home=home), build_if_missing=False)
    t0 = time.perf_counter()
    recipe = LangChainRecipe(engine.store.all_chunks(), engine.embedder, k=10)
    recipe_setup = time.perf_counter() - t0
    k = settings.k
    for q in questions[:3]:  # warm-up: first calls allocate buffers
        engine.ask(q.question, k=k)
        recipe.retrieve(q.question)

    keys = ("total", "embed", "search", "retrieve", "answer")
    per_rep = {f"isnad_{key}": [] for key in keys}
    per_rep.update({"isnad_wall": [], "langchain_wall": []})
    per_rep_lang: dict[str, dict[str, list]] = {}
    per_rep_lang_lc: dict[str, dict[str, list]] = {}
    paired: list[float] = []  # per pass: median over questions of Isnad / LangChain
    isnad_passages, lc_passages = {}, {}
    for r in range(repeats):
        wall_i, wall_l = [], []
        split = {key: [] for key in keys}
        lang_i: dict[str, list[float]] = {}
        lang_l: dict[str, list[float]] = {}
        for i, q in enumerate(questions):
            order = (0, 1) if (i + r) % 2 == 0 else (1, 0)  # alternate who goes first
            for who in order:
                if who == 0:
                    t = time.perf_counter()
                    ans = engine.ask(q.question, k=k)
                    ms = (time.perf_counter() - t) * 1000
                    wall_i.append(ms)
                    lang_i.setdefault(q.lang, []).append(ms)
                    for key in keys:
                        split[key].append(float(ans.timing_ms.get(key, 0.0)))
                    if r == 0:
                        isnad_passages[q.id] = ans.passages
                else:
                    t = time.perf_counter()
                    got, _ = recipe.retrieve(q.question)
                    wall_l.append((time.perf_counter() - t) * 1000)
                    lang_l.setdefault(q.lang, []).append(wall_l[-1])
                    if r == 0:
                        lc_passages[q.id] = got
        per_rep["isnad_wall"].append(wall_i)
        per_rep["langchain_wall"].append(wall_l)
        for key in keys:
            per_rep[f"isnad_{key}"].append(split[key])
        for store, by_lang in ((per_rep_lang, lang_i), (per_rep_lang_lc, lang_l)):
            for lang, vals in by_lang.items():
                store.setdefault(lang, {"p50": [], "p95": [], "n": len(vals)})
                store[lang]["p50"].append(percentile(vals, 50))
                store[lang]["p95"].append(percentile(vals, 95))
        paired.append(percentile([a / b for a, b in zip(wall_i, wall_l)], 50))
        log(f"  pass {r + 1}/{repeats}: Isnad p50 {percentile(wall_i, 50):.1f} ms, "
            f"p95 {percentile(wall_i, 95):.1f} ms; LangChain p50 {percentile(wall_l, 50):.1f} ms")

    def pct(name: str) -> dict:
        runs = per_rep[name]
        return {"p50": stat([percentile(v, 50) for v in runs], 2),
                "p95": stat([percentile(v, 95) for v in runs], 2),
                "min": stat([min(v) for v in runs], 2), "max": stat([max(v) for v in runs], 2),
                "mean": stat([sum(v) / len(v) for v in runs], 2)}

    isnad = {"wall_ms": pct("isnad_wall"), **{f"{key}_ms": pct(f"isnad_{key}") for key in keys}}
    isnad["by_language"] = {lang: {"questions": v["n"], "p50_ms": stat(v["p50"], 2), "p95_ms": stat(v["p95"], 2)}
                            for lang, v in per_rep_lang.items()}
    lc = {"wall_ms": pct("langchain_wall"), "setup_seconds": round(recipe_setup, 3),
          "recipe": LangChainRecipe.describe()}
    lc["by_language"] = {lang: {"questions": v["n"], "p50_ms": stat(v["p50"], 2), "p95_ms": stat(v["p95"], 2)}
                         for lang, v in per_rep_lang_lc.items()}
    ratio_lang = {lang: stat([a / b for a, b in zip(per_rep_lang[lang]["p50"], per_rep_lang_lc[lang]["p50"])])
                  for lang in per_rep_lang if lang in per_rep_lang_lc}
    ratio_p50 = [percentile(a, 50) / percentile(b, 50) for a, b in zip(per_rep["isnad_wall"], per_rep["langchain_wall"])]
    ratio_p95 = [percentile(a, 95) / percentile(b, 95) for a, b in zip(per_rep["isnad_wall"], per_rep["langchain_wall"])]
    ratio_retrieve = [percentile(a, 50) / percentile(b, 50)
                      for a, b in zip(per_rep["isnad_retrieve"], per_rep["langchain_wall"])]

    def quality(passages_of: dict) -> dict:
        hit1 = hit5 = ev5 = rr = 0.0
        n = 0
        for q in questions:
            if not (q.answerable and q.gold_docs):
                continue
            n += 1
            ps = list(passages_of.get(q.id, []))[:5]
            docs = [p.doc_id for p in ps]
            hit1 += bool(docs and docs[0] in q.gold_docs)
            ranks = [i for i, d in enumerate(docs) if d in q.gold_docs]
            hit5 += bool(ranks)
            rr += 1.0 / (ranks[0] + 1) if ranks else 0.0
            if q.evidence:
                ev5 += any(p.doc_id in q.gold_docs and contains_normalized(p.text, q.evidence) for p in ps)
        n = max(n, 1)
        return {"questions": n, "doc_hit@1": round(hit1 / n, 4), "doc_hit@5": round(hit5 / n, 4),
                "doc_mrr@5": round(rr / n, 4), "evidence_hit@5": round(ev5 / n, 4)}

    return {
        "questions": len(questions), "k": k,
        "question_set": str(opts.questions or "evals/questions/corpus.jsonl"),
        "isnad": isnad, "langchain": lc,
        "ratio_isnad_over_langchain": {"p50": stat(ratio_p50), "p95": stat(ratio_p95),
                                       "retrieve_p50": stat(ratio_retrieve),
                                       "paired_median": stat(paired),
                                       "p50_by_language": ratio_lang},
        "quality": {"isnad": quality(isnad_passages), "langchain": quality(lc_passages)},
        "note": "wall time around engine.ask (retrieval + extractive answer) and around the recipe's "
                "retriever.invoke (retrieval only), same process, interleaved per question; every "
                "question asked on its own (follow-ups without their first turn); quality over the "
                "answerable questions: gold document in the top 5 (evidence = a top-5 passage of the "
                "gold document holds the evidence sentence)",
    }


def bench_batch(opts, settings, repeats: int, tmp: Path, log) -> dict:
    from index import build_index, make_embedder

    from evals import benchmarks
    from evals.suites import cache_root

    bench = benchmarks.load_xquad_ar()
    paragraphs = bench.paragraphs
    key = "xquad-ar"
    if opts.xquad_paragraphs:
        paragraphs = paragraphs[: opts.xquad_paragraphs]
        key = f"xquad-ar-{len(paragraphs)}"
    keep = {p.doc_id for p in paragraphs}
    questions = [q for q in bench.questions if set(q.gold_docs) & keep]
    home = Path(settings.home) / "bench" / key
    benchmarks.write_corpus(paragraphs, home / "docs", bench.source)
    cache = home / "cache" / "embeddings.sqlite"
    if not cache.exists():  # seed from an earlier `isnad eval` or full-size bench run
        for seed in (cache_root(settings.home) / "xquad-ar" / "cache" / "embeddings.sqlite",
                     Path(settings.home) / "bench" / "xquad-ar" / "cache" / "embeddings.sqlite"):
            if seed.exists() and seed != cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(seed, cache)
                log(f"  embedding cache seeded from {seed}")
                break
    t0 = time.perf_counter()
    rep = build_index(home, [home / "docs"], make_embedder(settings.embedder), settings.index, progress=False,
                      stage=lambda m: log(f"  index: {m}"))
    setup_s = time.perf_counter() - t0
    qfile = tmp / f"{key}-questions.jsonl"
    with open(qfile, "w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps({"id": q.id, "question": q.question}, ensure_ascii=False) + "\n")
    gold = {q.id: set(q.gold_docs) for q in questions}
    cmd = [*P.isnad_command(), "ask", "--batch", str(qfile), "--json", "--home", str(home),
           "--embedder", settings.embedder]
    runs = []
    for r in range(repeats):
        res = P.run_measured(cmd, timeout=7200)
        lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
        answers = [x for x in lines if "error" not in x]
        if res.timed_out or not answers:
            res.check("isnad ask --batch")
        engine_ms = sum(float(a.get("timing_ms", {}).get("total", 0.0)) for a in answers)
        hit5 = sum(1 for a in answers if {p["doc_id"] for p in a.get("passages", [])[:5]} & gold.get(a.get("id"), set()))
        runs.append({"seconds": res.seconds, "answers": len(answers), "errors": len(lines) - len(answers),
                     "engine_ms": engine_ms, "peak": res.peak_rss_bytes, "hit5": hit5 / max(1, len(answers)),
                     "rc": res.returncode})
        log(f"  batch {r + 1}/{repeats}: {len(answers)} answers in {res.seconds:.1f} s "
            f"({len(answers) / res.seconds:.1f} q/s)")
    return {
        "benchmark": bench.name, "paragraphs": len(paragraphs), "chunks": rep.chunks_total,
        "questions": len(questions), "index_home": str(home),
        "index_setup_seconds": round(setup_s, 2), "chunks_embedded_in_setup": rep.chunks_embedded,
        "seconds": stat([r["seconds"] for r in runs]),
        "questions_per_s": stat([r["answers"] / r["seconds"] for r in runs], 2),
        "engine_questions_per_s": stat([r["answers"] / (r["engine_ms"] / 1000) for r in runs if r["engine_ms"]], 2),
        "peak_rss_mb": stat([r["peak"] / P.MB for r in runs], 1),
        "answers": runs[-1]["answers"], "errors": runs[-1]["errors"], "exit_code": runs[-1]["rc"],
        "doc_hit@5": round(runs[-1]["hit5"], 4),
        "note": "questions/s = answers / wall time of the whole `isnad ask --batch` process (includes "
                "its start-up); engine_questions_per_s = from the answers' own timing_ms.total",
    }


def bench_serve(opts, settings, repeats: int, home: Path, log) -> dict:
    import subprocess
    import urllib.request

    runs = []
    for r in range(repeats):
        port = P.free_port()
        logf = tempfile.TemporaryFile()
        cmd = [*P.isnad_command(), "serve", "--port", str(port), "--home", str(home),
               "--embedder", settings.embedder]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=P.child_env())
        try:
            url = f"http://127.0.0.1:{port}/"
            ready = None
            while time.perf_counter() - t0 < opts.serve_timeout:
                if proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:
                        if resp.status < 500:
                            ready = time.perf_counter() - t0
                            break
                except OSError:
                    time.sleep(0.2)
            if ready is None:
                logf.seek(0)
                tail = [ln for ln in logf.read().decode("utf-8", "replace").splitlines() if ln.strip()]
                why = "exited" if proc.poll() is not None else f"no answer on port {port} in {opts.serve_timeout:.0f} s"
                raise RuntimeError(f"isnad serve {why}: {tail[-1] if tail else '(no output)'}")
            asked = _ask_server(url, SERVE_QUESTIONS)
            own, tree = P.tree_peak_rss(proc.pid)
            runs.append({"ready": ready, "peak": own, "tree": tree, **asked})
            log(f"  serve {r + 1}/{repeats}: ready in {ready:.1f} s, peak {(own or 0) / P.MB:.0f} MB"
                + (f", ask p50 {asked['ask_p50_ms']:.0f} ms" if asked.get("ask_p50_ms") else ""))
        finally:
            P.stop_process(proc)
            logf.close()
    return {
        "ready_seconds": stat([x["ready"] for x in runs]),
        "peak_rss_mb": stat([x["peak"] / P.MB for x in runs if x["peak"]], 1),
        "tree_peak_rss_mb": stat([x["tree"] / P.MB for x in runs if x["tree"]], 1),
        "http_ask_ms": stat([x.get("ask_p50_ms") for x in runs], 1),
        "questions_asked": runs[-1].get("asked", 0), "api": runs[-1].get("api"),
        "embedder": settings.embedder,
        "note": "`isnad serve` on a built index: start until the page answers; questions through "
                "the /ask API; peak RSS = VmHWM of the server process (tree = with its children)",
    }


def _ask_server(url: str, questions: list[str]) -> dict:
    try:
        from gradio_client import Client
    except ImportError:
        return {"asked": 0, "api": "unavailable: gradio_client not installed"}
    try:
        client = Client(url, verbose=False)
        times = []
        for q in questions:
            t = time.perf_counter()
            out = client.predict(q, api_name="/ask")
            times.append((time.perf_counter() - t) * 1000)
            if not isinstance(out, dict) or "answer" not in out:
                return {"asked": len(times), "api": f"unexpected /ask result: {type(out).__name__}"}
        return {"asked": len(times), "api": "gradio_client /ask", "ask_p50_ms": percentile(times, 50)}
    except Exception as exc:
        return {"asked": 0, "api": f"unavailable: {type(exc).__name__}: {str(exc)[:200]}"}


def bench_scale(opts, params, repeats: int, sizes: list[int], log) -> dict:
    from evals import bench_scale as S

    quick = bool(opts.quick)
    kinds_arg = opts.scale_kinds or ("clustered" if quick else "gaussian,clustered")
    kinds = [k.strip() for k in kinds_arg.split(",") if k.strip()]
    m = opts.hnsw_m or params.hnsw_m
    efc = opts.hnsw_ef_construction or params.hnsw_ef_construction
    sweep = {16, 32, 64, 128} if quick else {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024}
    ef = opts.ef_search or sorted(sweep | {params.hnsw_ef_search})
    curve = [1_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]
    n_queries = opts.scale_queries or (200 if quick else 500)
    lat_queries = opts.latency_queries or (100 if quick else 200)
    out = S.scale_run(
        sizes, kinds, hnsw_m=m, hnsw_ef_construction=efc, ef_search=ef, ivf=not (opts.no_ivf or quick),
        nprobe=[1, 2, 4, 8, 16, 32, 64, 128, 256], repeats=repeats, n_queries=n_queries,
        lat_queries=min(lat_queries, n_queries), curve_sizes=curve,
        budget_ms=TARGETS["approx_1m_p50_ms"], recall_target=TARGETS["approx_1m_recall"],
        latency_target_ms=TARGETS["approx_1m_p50_ms"], n_clusters=1000, centre_share=0.7, log=log)
    out["isnad_index_params"] = {"approximate_threshold": params.approximate_threshold,
                                 "hnsw_m": params.hnsw_m, "hnsw_ef_construction": params.hnsw_ef_construction,
                                 "hnsw_ef_search": params.hnsw_ef_search}
    # Summaries of the per-pass figures, so every number reads median/min/max.
    for run in out["runs"]:
        for name in ("exact", "hnsw", "ivf"):
            block = run.get(name)
            if not block:
                continue
            block["build_seconds"] = stat(block["build_seconds"])
            if "p50_ms" in block:
                block["p50_ms"], block["p95_ms"] = stat(block["p50_ms"]), stat(block["p95_ms"])
            for row in block.get("sweep", []):
                row["p50_ms"], row["p95_ms"] = stat(row["p50_ms"]), stat(row["p95_ms"])
                row["recall@10"] = round(row["recall@10"], 4)
            # the operating point Isnad is configured with
            if name == "hnsw":
                mine = [r for r in block["sweep"] if r["ef_search"] == params.hnsw_ef_search]
                block["configured"] = mine[0] if mine else None
    for row in out.get("exact_curve", []):
        row["p50_ms"], row["p95_ms"] = stat(row["p50_ms"]), stat(row["p95_ms"])
        alt = row["all_threads"]
        alt["p50_ms"], alt["p95_ms"] = stat(alt["p50_ms"]), stat(alt["p95_ms"])
    return out


# -- targets and the table -----------------------------------------------------------------------
def _get(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def evaluate_targets(report: dict) -> list[dict]:
    rows = []

    def add(name, value, target, op, note=""):
        ok = None if value is None else (value <= target if op == "<=" else value >= target)
        rows.append({"target": name, "value": value, "limit": f"{op} {target}", "pass": ok, "note": note})

    add("warm ask p50 (ms)", _get(report, "warm", "isnad", "wall_ms", "p50", "median"), TARGETS["warm_p50_ms"], "<=")
    langs = _get(report, "warm", "isnad", "by_language") or {}
    split = "; ".join(f"{lang} ({v['questions']} q) p50 {v['p50_ms']['median']:.1f} / p95 {v['p95_ms']['median']:.1f} ms"
                      for lang, v in sorted(langs.items()) if v["p50_ms"]["median"] is not None)
    add("warm ask p95 (ms)", _get(report, "warm", "isnad", "wall_ms", "p95", "median"), TARGETS["warm_p95_ms"], "<=",
        split)
    add("cold start (s)", _get(report, "cold", "seconds", "median"), TARGETS["cold_start_s"], "<=")
    shipped = _get(report, "config", "docs_is_shipped")
    add("shipped corpus index build (s)", _get(report, "build", "seconds", "median") if shipped else None,
        TARGETS["build_s"], "<=", "" if shipped else "not measured: --docs is not the shipped corpus")
    add("isnad ask peak memory (MB)", _get(report, "cold", "peak_rss_mb", "max"), TARGETS["ask_peak_mb"], "<=")
    heavy = _get(report, "cold", "imports", "heavy_modules_loaded")
    if heavy is not None:
        rows.append({"target": "no heavy imports on the ask path", "value": ",".join(heavy) or "none",
                     "limit": "none", "pass": not heavy, "note": ""})
    scale = report.get("scale")
    if isinstance(scale, dict):
        for run in scale.get("runs", []):
            if run["n"] < 1_000_000:
                continue
            for name in ("hnsw", "ivf"):
                ch = _get(run, name, "chosen")
                if not ch:
                    continue
                knob = "efSearch" if name == "hnsw" else "nprobe"
                val = ch.get("ef_search", ch.get("nprobe"))
                rows.append({
                    "target": f"1M {run['kind']} {name.upper()} p50 <= 5 ms at recall@10 >= 0.95",
                    "value": f"p50 {ch['p50_ms']:.2f} ms, recall {ch['recall@10']:.3f} ({knob}={val})",
                    "limit": "p50 <= 5 ms & recall >= 0.95",
                    "pass": bool(ch["meets_recall"] and ch["meets_latency"]), "note": ""})
    warm = report.get("warm")
    if isinstance(warm, dict):
        r50 = _get(warm, "ratio_isnad_over_langchain", "p50", "median")
        qi, ql = _get(warm, "quality", "isnad", "doc_hit@5"), _get(warm, "quality", "langchain", "doc_hit@5")
        ei, el = (_get(warm, "quality", "isnad", "evidence_hit@5"),
                  _get(warm, "quality", "langchain", "evidence_hit@5"))
        rows.append({"target": "Isnad at least as fast as LangChain per question (p50 ratio)",
                     "value": r50, "limit": "<= 1.0", "pass": None if r50 is None else r50 <= 1.0,
                     "note": "Isnad = retrieval + answer; LangChain = retrieval only"})
        rows.append({"target": "... at equal or better quality (gold doc hit@5, evidence hit@5)",
                     "value": f"Isnad {qi}/{ei} vs LangChain {ql}/{el}", "limit": ">=",
                     "pass": None if qi is None else (qi >= ql and ei >= el), "note": ""})
    return rows


def _fmt_stat(s, unit: str = "", digits: int = 1) -> str:
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

    def section(title: str, key: str, rows: Callable[[dict], list[tuple[str, str]]]):
        if key not in report:
            return
        out.append(title)
        val = report[key]
        if isinstance(val, str):
            out.append(f"  {val}")
        else:
            for name, text in rows(val):
                out.append(f"  {name:<44} {text}")
        out.append("")

    section("Index build (fresh data dir)", "build", lambda b: [
        ("documents / chunks", f"{b['documents']} / {b['chunks']} ({b['faiss']})"),
        ("wall time", _fmt_stat(b["seconds"], "s", 2)),
        ("builder time (inside the process)", _fmt_stat(b["builder_seconds"], "s", 2)),
        ("chunks/s", _fmt_stat(b["chunks_per_s"], "", 2)),
        ("peak RSS", _fmt_stat(b["peak_rss_mb"], "MB", 0)),
    ])
    section("Incremental update (one sentence appended to one document)", "incremental", lambda b: [
        ("changed document", b["changed_document"]),
        ("re-index wall time", _fmt_stat(b["seconds"], "s", 2)),
        ("chunks embedded", _fmt_stat(b["chunks_embedded"], "", 0)),
        ("no-change re-index", _fmt_stat(b["no_change_seconds"], "s", 2)),
    ])
    section("Cold start (`isnad ask`, new process)", "cold", lambda b: [
        ("process start to answer", _fmt_stat(b["seconds"], "s", 2)),
        ("first run (before the measured ones)", f"{b['first_run_seconds']:.2f} s"),
        ("peak RSS", _fmt_stat(b["peak_rss_mb"], "MB", 0)),
        ("imports (ui.cli + qa.engine)", f"{b['imports']['import_seconds']:.2f} s, heavy modules: "
                                         f"{', '.join(b['imports']['heavy_modules_loaded']) or 'none'}"),
    ])

    def warm_rows(w):
        i, lc = w["isnad"], w["langchain"]
        rows = [("questions", f"{w['questions']} (k={w['k']})"),
                ("Isnad per question p50", _fmt_stat(i["wall_ms"]["p50"], "ms")),
                ("Isnad per question p95", _fmt_stat(i["wall_ms"]["p95"], "ms")),
                ("  embed p50 / p95", f"{_fmt_stat(i['embed_ms']['p50'], 'ms')} / {_fmt_stat(i['embed_ms']['p95'], 'ms')}"),
                ("  search p50 / p95", f"{_fmt_stat(i['search_ms']['p50'], 'ms')} / {_fmt_stat(i['search_ms']['p95'], 'ms')}"),
                ("  answer p50 / p95", f"{_fmt_stat(i['answer_ms']['p50'], 'ms')} / {_fmt_stat(i['answer_ms']['p95'], 'ms')}")]
        for lang, v in sorted(i.get("by_language", {}).items()):
            rows.append((f"  {lang} questions ({v['questions']}) p50 / p95",
                         f"{_fmt_stat(v['p50_ms'], 'ms')} / {_fmt_stat(v['p95_ms'], 'ms')}"))
        rows += [("LangChain recipe per question p50", _fmt_stat(lc["wall_ms"]["p50"], "ms")),
                 ("LangChain recipe per question p95", _fmt_stat(lc["wall_ms"]["p95"], "ms")),
                 ("ratio Isnad / LangChain p50", _fmt_stat(w["ratio_isnad_over_langchain"]["p50"], "", 2)),
                 ("ratio Isnad / LangChain p95", _fmt_stat(w["ratio_isnad_over_langchain"]["p95"], "", 2)),
                 ("ratio Isnad retrieval only / LangChain p50",
                  _fmt_stat(w["ratio_isnad_over_langchain"]["retrieve_p50"], "", 2))]
        r = w["ratio_isnad_over_langchain"]
        if "paired_median" in r:
            rows.append(("median over questions of Isnad / LangChain", _fmt_stat(r["paired_median"], "", 2)))
        for lang, v in sorted(r.get("p50_by_language", {}).items()):
            lcl = lc.get("by_language", {}).get(lang, {})
            rows.append((f"  {lang}: LangChain p50 / ratio Isnad / LangChain p50",
                         f"{_fmt_stat(lcl.get('p50_ms'), 'ms')} / {_fmt_stat(v, '', 2)}"))
        for who in ("isnad", "langchain"):
            q = w["quality"][who]
            rows.append((f"quality {who} ({q['questions']} answerable)",
                         f"doc hit@1 {q['doc_hit@1']:.3f}, hit@5 {q['doc_hit@5']:.3f}, "
                         f"MRR@5 {q['doc_mrr@5']:.3f}, evidence hit@5 {q['evidence_hit@5']:.3f}"))
        return rows

    section("Warm latency (one loaded engine, fixed question set)", "warm", warm_rows)
    section("Batch throughput (`isnad ask --batch --json`)", "batch", lambda b: [
        ("benchmark", f"{b['benchmark']}: {b['questions']} questions, {b['paragraphs']} paragraphs, "
                      f"{b['chunks']} chunks"),
        ("wall time", _fmt_stat(b["seconds"], "s", 1)),
        ("questions/s (whole process)", _fmt_stat(b["questions_per_s"], "q/s", 1)),
        ("questions/s (engine time only)", _fmt_stat(b["engine_questions_per_s"], "q/s", 1)),
        ("peak RSS", _fmt_stat(b["peak_rss_mb"], "MB", 0)),
        ("answers / errors / gold paragraph hit@5", f"{b['answers']} / {b['errors']} / {b['doc_hit@5']:.3f}"),
    ])
    section("Serve (`isnad serve`)", "serve", lambda b: [
        ("start until the port answers", _fmt_stat(b["ready_seconds"], "s", 1)),
        ("peak RSS (server process)", _fmt_stat(b["peak_rss_mb"], "MB", 0)),
        ("peak RSS (process tree)", _fmt_stat(b["tree_peak_rss_mb"], "MB", 0)),
        ("questions through the API", f"{b['questions_asked']} ({b['api']}), p50 "
                                      f"{_fmt_stat(b['http_ask_ms'], 'ms', 0)}"),
    ])
    scale = report.get("scale")
    if scale is not None:
        out.append("Scale run (synthetic normalized vectors, d=384, single-query latency, k=10)")
        if isinstance(scale, str):
            out.append(f"  {scale}")
        else:
            out.append(f"  {'data':<10} {'n':>9} {'index':<28} {'build s':>9} {'MB':>7} {'p50 ms':>8} "
                       f"{'p95 ms':>8} {'recall@10':>9}")
            for run in scale["runs"]:
                e = run["exact"]
                out.append(f"  {run['kind']:<10} {run['n']:>9,} {'exact (FlatIP)':<28} "
                           f"{e['build_seconds']['median']:>9.1f} {e['index_bytes'] / P.MB:>7.0f} "
                           f"{e['p50_ms']['median']:>8.2f} {e['p95_ms']['median']:>8.2f} {1.0:>9.3f}")
                for name, knob, label in (("hnsw", "ef_search", "HNSW M={M} efC={efc} ef={v}"),
                                          ("ivf", "nprobe", "IVF nlist={nlist} nprobe={v}")):
                    b = run.get(name)
                    if not b:
                        continue
                    rows = [b["chosen"]] if b.get("chosen") else []
                    conf = b.get("configured")
                    for row in rows:
                        lab = label.format(M=b.get("M"), efc=b.get("ef_construction"), nlist=b.get("nlist"),
                                           v=row[knob])
                        out.append(f"  {'':<10} {'':>9} {lab:<28} {b['build_seconds']['median']:>9.1f} "
                                   f"{b['index_bytes'] / P.MB:>7.0f} {row['p50_ms']:>8.2f} "
                                   f"{row['p95_ms']:>8.2f} {row['recall@10']:>9.3f}")
                    if conf and name == "hnsw" and conf["ef_search"] != (rows[0][knob] if rows else None):
                        lab = label.format(M=b.get("M"), efc=b.get("ef_construction"), v=conf["ef_search"])
                        out.append(f"  {'':<10} {'':>9} {lab + ' (conf)':<28} {'':>9} {'':>7} "
                                   f"{conf['p50_ms']['median']:>8.2f} {conf['p95_ms']['median']:>8.2f} "
                                   f"{conf['recall@10']:>9.3f}")
                    sweep = ", ".join(f"{r[knob]}:{r['recall@10']:.3f}/{r['p50_ms']['median']:.2f}ms"
                                      for r in b["sweep"])
                    out.append(f"  {'':<10} {'':>9}   sweep {knob}:recall/p50 = {sweep}")
            curve = scale.get("exact_curve")
            if curve:
                out.append("  exact p50 by size, one thread (as Isnad searches): " + ", ".join(
                    f"{r['n']:,}: {r['p50_ms']['median']:.2f} ms" for r in curve))
                if all("all_threads" in r for r in curve):
                    out.append(f"  exact p50 by size, {scale.get('faiss_threads')} FAISS threads: " + ", ".join(
                        f"{r['n']:,}: {r['all_threads']['p50_ms']['median']:.2f} ms" for r in curve))
                th = scale.get("threshold", {})
                out.append(f"  exact p50 reaches {th.get('budget_ms')} ms at about n = "
                           f"{th.get('n') if th.get('n') is None else format(th.get('n'), ',')}"
                           f"{' (' + th['note'] + ')' if th.get('note') else ''}; Isnad switches to HNSW above "
                           f"{scale['isnad_index_params']['approximate_threshold']:,} chunks "
                           f"(efSearch {scale['isnad_index_params']['hnsw_ef_search']})")
        out.append("")
    out.append("Targets")
    for t in report.get("targets", []):
        mark = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "MISS")
        val = t["value"]
        if isinstance(val, float):
            val = f"{val:.3f}" if val < 10 else f"{val:.1f}"
        out.append(f"  {mark}  {t['target']:<62} {val} ({t['limit']})" + (f" — {t['note']}" if t["note"] else ""))
    return "\n".join(out)
