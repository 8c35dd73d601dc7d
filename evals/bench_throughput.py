"""`isnad bench`'s throughput sections: `isnad ask --batch` over XQuAD-ar's questions,
and `isnad serve` as a subprocess (start-up, questions through its API, memory)."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from evals import bench_proc as P
from evals.metrics import percentile, stat

SERVE_QUESTIONS = ["من ترأس اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟",
                   "متى وقعت أذربيجان وأوزبكستان معاهدة التحالف؟",
                   "ما هي منظمة الدول التركية؟"]


def _xquad_index(opts, settings, log):
    """(benchmark, paragraphs, questions, home, build report, setup seconds): XQuAD-ar's
    paragraphs (or the first --xquad-paragraphs) indexed under HOME/bench/."""
    from index import build_index, make_embedder

    from evals import benchmarks
    from evals.suites import cache_root

    bench = benchmarks.load_xquad_ar()
    paragraphs, key = bench.paragraphs, "xquad-ar"
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
    return bench, paragraphs, questions, home, rep, time.perf_counter() - t0


def bench_batch(opts, settings, repeats: int, tmp: Path, log) -> dict:
    bench, paragraphs, questions, home, rep, setup_s = _xquad_index(opts, settings, log)
    qfile = tmp / f"{home.name}-questions.jsonl"
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
    runs = []
    for r in range(repeats):
        runs.append(_serve_once(opts, settings, home))
        x = runs[-1]
        log(f"  serve {r + 1}/{repeats}: ready in {x['ready']:.1f} s, peak {(x['peak'] or 0) / P.MB:.0f} MB"
            + (f", ask p50 {x['ask_p50_ms']:.0f} ms" if x.get("ask_p50_ms") else ""))
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


def _serve_once(opts, settings, home: Path) -> dict:
    """One `isnad serve`: seconds until its page answers, a few questions, its peak memory."""
    port = P.free_port()
    logf = tempfile.TemporaryFile()
    cmd = [*P.isnad_command(), "serve", "--port", str(port), "--home", str(home), "--embedder", settings.embedder]
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
        return {"ready": ready, "peak": own, "tree": tree, **asked}
    finally:
        P.stop_process(proc)
        logf.close()


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
