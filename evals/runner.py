"""Run a suite through the real qa engine (and the baselines) and collect per-question records."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from corpus.normalize import find_normalized
from index import build_index, make_embedder
from qa.engine import Isnad, QuestionError
from qa.settings import Settings

from evals.baselines import SYSTEM_LABELS, SYSTEMS, LangChainRecipe, baseline_settings
from evals.metrics import (
    GOLD_UNIT,
    QuestionRecord,
    document_units,
    evidence_units,
    first_rank,
    passage_has_evidence,
    quote_contains,
    summarize,
)
from evals.questions import EvalQuestion, turn_chain
from evals.suites import Suite

EVAL_K = 10  # passages asked for per question


@dataclass
class SystemResult:
    system: str
    label: str
    summary: dict
    records: list[QuestionRecord]
    seconds: float  # wall time to ask every question (and set the system up)
    config: dict = field(default_factory=dict)


@dataclass
class SuiteResult:
    suite: Suite
    build: dict  # index build figures (seconds, chunks, embedded)
    systems: dict[str, SystemResult]
    seconds: float  # wall time of the whole suite (build + every system)
    index_info: dict = field(default_factory=dict)


class Judge:
    """Turns the passages a system returned into ranked units and relevance (see metrics)."""

    def __init__(self, suite: Suite, document_text: Callable[[str], str]) -> None:
        self.relevance = suite.relevance
        self.spans: dict[str, tuple[int, int] | None] = {}
        if suite.relevance == "evidence":
            for q in suite.questions:
                if q.answerable and q.evidence and q.gold_docs:
                    try:
                        text = document_text(q.gold_docs[0])
                    except KeyError:
                        text = ""
                    self.spans[q.id] = find_normalized(text, q.evidence) if text else None

    def units(self, q: EvalQuestion, passages) -> tuple[list[str], list[str]]:
        """(ranked units, relevant units) for passages with doc_id/chunk_id/start/end/text."""
        if self.relevance == "document":
            return document_units([p.doc_id for p in passages]), list(q.gold_docs)
        if not q.answerable or not q.evidence:
            return [p.chunk_id for p in passages], []
        gold_doc = q.gold_docs[0] if q.gold_docs else None
        flags = [passage_has_evidence(p.doc_id, p.start, p.end, p.text, gold_doc, q.evidence,
                                      self.spans.get(q.id)) for p in passages]
        return evidence_units([p.chunk_id for p in passages], flags), [GOLD_UNIT]


def _new_record(q: EvalQuestion) -> QuestionRecord:
    return QuestionRecord(
        id=q.id, question=q.question, kind=q.kind, category=q.category, answerable=q.answerable,
        gold_docs=list(q.gold_docs), gold_answers=list(q.answers), evidence=q.evidence,
    )


def _progress(total: int, desc: str, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="q", leave=False,
                disable=(not sys.stderr.isatty()) if enabled is None else not enabled)


def run_engine(engine: Isnad, questions: list[EvalQuestion], judge: Judge,
               all_questions: list[EvalQuestion] | None = None, k: int = EVAL_K,
               desc: str = "", progress: bool | None = None) -> list[QuestionRecord]:
    """Ask every question through the engine. A follow-up turn is asked inside a
    Conversation right after the earlier turn(s) it follows (replayed, unrecorded)."""
    by_id = {q.id: q for q in (all_questions or questions)}
    records = []
    bar = _progress(len(questions), desc, progress)
    for q in questions:
        rec = _new_record(q)
        conv = engine.conversation()
        try:
            for earlier in turn_chain(q, by_id):
                conv.ask(earlier.question, k=k)
            t0 = time.perf_counter()
            ans = conv.ask(q.question, k=k)
            rec.wall_ms = round((time.perf_counter() - t0) * 1000, 2)
        except QuestionError as exc:
            rec.error = str(exc)
            records.append(rec)
            bar.update(1)
            continue
        rec.context = conv.turns[-1].context if conv.turns else ""
        rec.units, rec.relevant = judge.units(q, ans.passages)
        if not q.answerable:
            rec.relevant = []
        rec.rank = first_rank(rec.units, rec.relevant)
        if ans.passages:
            rec.first_doc = ans.passages[0].doc_id
            rec.first_text = ans.passages[0].text[:300]
        rec.abstained = bool(ans.abstained)
        rec.citations = len(ans.citations)
        rec.citations_exact = sum(
            1 for c in ans.citations if engine.document_text(c.doc_id)[c.start : c.end] == c.quote
        )
        if ans.citations:
            rec.quote = ans.citations[0].quote
            rec.quote_doc = ans.citations[0].doc_id
        rec.quote_has_answer = quote_contains(rec.quote, q.answers) if q.answerable else None
        rec.latency_ms = round(float(ans.timing_ms.get("total", 0.0)), 2)
        records.append(rec)
        bar.update(1)
    bar.close()
    return records


def run_langchain(recipe: LangChainRecipe, questions: list[EvalQuestion], judge: Judge,
                  desc: str = "", progress: bool | None = None) -> list[QuestionRecord]:
    records = []
    bar = _progress(len(questions), desc, progress)
    for q in questions:
        rec = _new_record(q)
        passages, ms = recipe.retrieve(" ".join(q.question.split()))
        rec.units, rec.relevant = judge.units(q, passages)
        if not q.answerable:
            rec.relevant = []
        rec.rank = first_rank(rec.units, rec.relevant)
        if passages:
            rec.first_doc = passages[0].doc_id
            rec.first_text = passages[0].text[:300]
        rec.latency_ms = rec.wall_ms = round(ms, 2)
        records.append(rec)
        bar.update(1)
    bar.close()
    return records


def run_suite(suite: Suite, settings: Settings, systems: tuple[str, ...] = SYSTEMS,
              limit: int | None = None, log: Callable[[str], None] | None = None,
              progress: bool | None = None) -> SuiteResult:
    """Build (or reuse) the suite's index, then ask its questions with every system."""
    log = log or (lambda _m: None)
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}: choose from {', '.join(SYSTEMS)}")
    t_suite = time.perf_counter()
    suite_settings = settings.with_(home=suite.home, k=EVAL_K)
    embedder = make_embedder(settings.embedder)
    log(f"[{suite.name}] indexing {suite.docs_dir} into {suite.home}")
    t0 = time.perf_counter()
    report = build_index(suite.home, [suite.docs_dir], embedder, settings.index, progress=progress,
                         stage=lambda m: log(f"[{suite.name}]   {m}"))
    build = {"seconds": round(time.perf_counter() - t0, 2), "chunks": report.chunks_total,
             "chunks_embedded": report.chunks_embedded, "documents_added": len(report.added),
             "documents_changed": len(report.changed), "documents_unchanged": len(report.unchanged),
             "skipped": [asdict(s) for s in report.skipped], "faiss": report.faiss_kind}
    log(f"[{suite.name}] index: {report.chunks_total} chunks, {report.chunks_embedded} embedded, "
        f"{build['seconds']:.1f} s")
    engine = Isnad.open(suite_settings, build_if_missing=False)
    questions = suite.questions[:limit] if limit else suite.questions
    judge = Judge(suite, engine.document_text)
    results: dict[str, SystemResult] = {}
    for system in systems:
        t1 = time.perf_counter()
        log(f"[{suite.name}] {SYSTEM_LABELS[system]}: {len(questions)} questions")
        if system == "langchain":
            recipe = LangChainRecipe(engine.store.all_chunks(), engine.embedder, EVAL_K)
            records = run_langchain(recipe, questions, judge, desc=f"{suite.name} {system}", progress=progress)
            config = LangChainRecipe.describe()
        else:
            s = baseline_settings(suite_settings, system)
            eng = engine if system == "isnad" else Isnad(s, engine.store, engine.embedder)
            records = run_engine(eng, questions, judge, suite.questions, EVAL_K,
                                 desc=f"{suite.name} {system}", progress=progress)
            config = {"retrieval": asdict(s.retrieval), "answer": asdict(s.answer), "k": EVAL_K,
                      "llm": getattr(eng, "llm_label", "")}
        seconds = round(time.perf_counter() - t1, 2)
        summary = summarize(records)
        log(f"[{suite.name}] {SYSTEM_LABELS[system]}: R@1 {summary.get('recall@1')}  "
            f"MRR@10 {summary.get('mrr@10')}  ({seconds:.1f} s)")
        results[system] = SystemResult(system, SYSTEM_LABELS[system], summary, records, seconds, config)
    info = engine.info()
    engine.store.close()
    return SuiteResult(suite, build, results, round(time.perf_counter() - t_suite, 2), info)
