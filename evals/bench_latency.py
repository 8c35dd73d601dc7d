"""`isnad bench`'s latency sections: a cold `isnad ask` (a new process) and warm questions
on one loaded engine, interleaved with the plain LangChain recipe (evals.baselines) over
the same chunks, vectors and embedder, with the retrieval quality of both."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from evals import bench_proc as P
from evals.metrics import GOLD_UNIT, QuestionRecord, evidence_units, percentile, retrieval_metrics, stat

HEAVY_MODULES = ("torch", "gradio", "gradio_client", "langchain", "langchain_core", "langchain_community",
                 "langchain_classic", "transformers", "sentence_transformers", "pandas", "scipy",
                 "sklearn", "matplotlib")
COLD_QUESTION = "في أي مدينة اجتمع وزراء دفاع دول آسيا الوسطى؟"
TIMING_KEYS = ("total", "embed", "search", "retrieve", "answer")  # an Answer's timing_ms


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


class _Pass:
    """The times of one pass over the questions, for Isnad and the recipe."""

    def __init__(self) -> None:
        self.isnad: list[float] = []
        self.langchain: list[float] = []
        self.split: dict[str, list[float]] = {key: [] for key in TIMING_KEYS}
        self.by_lang: dict[str, dict[str, list[float]]] = {"isnad": {}, "langchain": {}}


def _one_pass(engine, recipe, questions, k: int, r: int, passages: dict) -> _Pass:
    """Every question asked of both, alternating who goes first; the first pass keeps
    the passages for the quality figures."""
    got = _Pass()
    for i, q in enumerate(questions):
        for who in ((0, 1) if (i + r) % 2 == 0 else (1, 0)):
            t = time.perf_counter()
            if who == 0:
                ans = engine.ask(q.question, k=k)
                ms = (time.perf_counter() - t) * 1000
                got.isnad.append(ms)
                for key in TIMING_KEYS:
                    got.split[key].append(float(ans.timing_ms.get(key, 0.0)))
                found, name = ans.passages, "isnad"
            else:
                found, _ = recipe.retrieve(q.question)
                ms = (time.perf_counter() - t) * 1000
                got.langchain.append(ms)
                name = "langchain"
            got.by_lang[name].setdefault(q.lang, []).append(ms)
            if r == 0:
                passages[name][q.id] = found
    return got


def bench_warm(opts, settings, repeats: int, home: Path, log) -> dict:
    """Per-question latency of one loaded engine, interleaved with the LangChain recipe."""
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
    passages: dict[str, dict] = {"isnad": {}, "langchain": {}}
    passes = []
    for r in range(repeats):
        passes.append(_one_pass(engine, recipe, questions, k, r, passages))
        wall_i, wall_l = passes[-1].isnad, passes[-1].langchain
        log(f"  pass {r + 1}/{repeats}: Isnad p50 {percentile(wall_i, 50):.1f} ms, "
            f"p95 {percentile(wall_i, 95):.1f} ms; LangChain p50 {percentile(wall_l, 50):.1f} ms")
    isnad = {"wall_ms": _spread([p.isnad for p in passes]),
             **{f"{key}_ms": _spread([p.split[key] for p in passes]) for key in TIMING_KEYS},
             "by_language": _by_language(passes, "isnad")}
    lc = {"wall_ms": _spread([p.langchain for p in passes]), "setup_seconds": round(recipe_setup, 3),
          "recipe": LangChainRecipe.describe(), "by_language": _by_language(passes, "langchain")}
    return {
        "questions": len(questions), "k": k,
        "question_set": str(opts.questions or "evals/questions/corpus.jsonl"),
        "isnad": isnad, "langchain": lc, "ratio_isnad_over_langchain": _ratios(passes),
        "quality": {who: quality(questions, passages[who]) for who in ("isnad", "langchain")},
        "note": "wall time around engine.ask (retrieval + extractive answer) and around the recipe's "
                "retriever.invoke (retrieval only), same process, interleaved per question; every "
                "question asked on its own (follow-ups without their first turn); quality over the "
                "answerable questions: gold document in the top 5 (evidence = a top-5 passage of the "
                "gold document holds the evidence sentence)",
    }


def _spread(runs: list[list[float]]) -> dict:
    """p50/p95/min/max/mean of each pass, summarized over the passes."""
    return {"p50": stat([percentile(v, 50) for v in runs], 2),
            "p95": stat([percentile(v, 95) for v in runs], 2),
            "min": stat([min(v) for v in runs], 2), "max": stat([max(v) for v in runs], 2),
            "mean": stat([sum(v) / len(v) for v in runs], 2)}


def _by_language(passes: list[_Pass], who: str) -> dict:
    langs = passes[0].by_lang[who] if passes else {}
    return {lang: {"questions": len(vals),
                   "p50_ms": stat([percentile(p.by_lang[who][lang], 50) for p in passes], 2),
                   "p95_ms": stat([percentile(p.by_lang[who][lang], 95) for p in passes], 2)}
            for lang, vals in langs.items()}


def _ratios(passes: list[_Pass]) -> dict:
    def ratio(a_runs, b_runs, q: float) -> dict:
        return stat([percentile(a, q) / percentile(b, q) for a, b in zip(a_runs, b_runs)])

    isnad, lc = [p.isnad for p in passes], [p.langchain for p in passes]
    langs = [lang for lang in passes[0].by_lang["isnad"] if lang in passes[0].by_lang["langchain"]] if passes else []
    return {"p50": ratio(isnad, lc, 50), "p95": ratio(isnad, lc, 95),
            "retrieve_p50": ratio([p.split["retrieve"] for p in passes], lc, 50),
            "paired_median": stat([percentile([a / b for a, b in zip(p.isnad, p.langchain)], 50) for p in passes]),
            "p50_by_language": {lang: ratio([p.by_lang["isnad"][lang] for p in passes],
                                            [p.by_lang["langchain"][lang] for p in passes], 50)
                                for lang in langs}}


def quality(questions, passages_of: dict) -> dict:
    """Over the answerable questions with gold documents, from the top 5 passages (ranx,
    evals.metrics): gold document at rank 1 / in the top 5, its reciprocal rank, and a
    top-5 passage of a gold document that holds the evidence sentence."""
    from corpus.normalize import contains_normalized

    def records(relevant) -> list[QuestionRecord]:
        out = []
        for q in questions:
            if not (q.answerable and q.gold_docs):
                continue
            ps = list(passages_of.get(q.id, []))[:5]
            units = evidence_units([str(i) for i in range(len(ps))], [relevant(q, p) for p in ps])
            out.append(QuestionRecord(q.id, q.question, units=units, relevant=[GOLD_UNIT]))
        return out

    docs = retrieval_metrics(records(lambda q, p: p.doc_id in q.gold_docs), ["recall@1", "recall@5", "mrr@5"])
    evidence = retrieval_metrics(records(lambda q, p: bool(q.evidence) and p.doc_id in q.gold_docs
                                         and contains_normalized(p.text, q.evidence)), ["recall@5"])
    return {"questions": max(docs["n"], 1), "doc_hit@1": docs["recall@1"] or 0.0,
            "doc_hit@5": docs["recall@5"] or 0.0, "doc_mrr@5": docs["mrr@5"] or 0.0,
            "evidence_hit@5": evidence["recall@5"] or 0.0}
