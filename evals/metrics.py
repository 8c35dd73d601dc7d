"""Retrieval metrics (with ranx) and answer metrics over per-question records.

Retrieval is judged on a ranked list of *units* per question:
- benchmark suites ("document" relevance): the documents of the returned passages,
  ranked by first appearance; the gold paragraph is relevant;
- the corpus suite ("evidence" relevance): the returned passages; a passage is relevant
  when it contains the gold evidence (after normalization) or lies in the gold
  document and covers at least half of the evidence span. Relevant passages are
  collapsed into one gold unit at the rank of the first of them, so every question
  has exactly one relevant unit, as in the benchmarks.
With one relevant unit per question, Recall@k is the share of questions whose gold
unit is in the top k (the "top-k accuracy" of open-domain QA), MRR@10 is the mean
reciprocal rank, nDCG@10 = mean 1/log2(rank+1).
"""
from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.normalize import contains_normalized

GOLD_UNIT = "<gold>"
CURVE_KS = tuple(range(1, 11))
RANX_METRICS = [f"recall@{k}" for k in CURVE_KS] + ["mrr@10", "ndcg@10"]
EVIDENCE_MIN_OVERLAP = 0.5  # share of the evidence span a same-document passage must cover


@dataclass
class QuestionRecord:
    """What one system did with one question (JSON-ready through `to_dict`)."""

    id: str
    question: str
    kind: str = ""
    category: str = ""
    answerable: bool = True
    gold_docs: list[str] = field(default_factory=list)
    gold_answers: list[str] = field(default_factory=list)
    evidence: str | None = None
    units: list[str] = field(default_factory=list)  # ranked retrieval units (see module doc)
    relevant: list[str] = field(default_factory=list)  # the relevant unit(s)
    rank: int | None = None  # 1-based rank of the first relevant unit, None if not retrieved
    first_doc: str | None = None  # what was retrieved first
    first_text: str = ""
    abstained: bool | None = None  # None: the system gives no answers (retrieval-only)
    quote: str | None = None  # the first citation's quote
    quote_doc: str | None = None
    quote_has_answer: bool | None = None
    citations: int = 0
    citations_exact: int = 0
    latency_ms: float = 0.0  # the answer's timing_ms["total"] (retrieval-only systems: wall time)
    wall_ms: float = 0.0  # wall time of the whole turn as the user waits for it
    context: str = ""  # what a follow-up was searched with
    error: str | None = None

    def to_dict(self, brief: bool = False) -> dict:
        """All fields, or (brief) only what baselines need for comparisons."""
        d = asdict(self)
        if brief:
            keep = ("id", "answerable", "units", "rank", "first_doc", "abstained", "quote_has_answer",
                    "citations", "citations_exact", "latency_ms", "error")
            d = {k: d[k] for k in keep}
        return d


# -- order statistics (the one place evals and the bench take percentiles) -----------------
def percentile(values, q: float) -> float:
    """The q-th percentile (numpy's linear interpolation); NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def stat(values, digits: int = 3) -> dict:
    """median / min / max (and the runs) of repeated measurements; None values are left out."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "runs": 0}
    return {"median": round(statistics.median(vals), digits), "min": round(min(vals), digits),
            "max": round(max(vals), digits), "runs": len(vals),
            "values": [round(v, digits) for v in vals]}


# -- relevance ---------------------------------------------------------------------------
def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def passage_has_evidence(doc_id: str, start: int, end: int, text: str, gold_doc: str | None,
                         evidence: str, evidence_span: tuple[int, int] | None) -> bool:
    """The corpus-suite relevance rule for one passage."""
    if contains_normalized(text, evidence):
        return True
    if evidence_span is None or doc_id != gold_doc:
        return False
    s, e = evidence_span
    return overlap(start, end, s, e) >= EVIDENCE_MIN_OVERLAP * max(1, e - s)


def document_units(doc_ids: list[str]) -> list[str]:
    """Documents ranked by first appearance among the returned passages."""
    return list(dict.fromkeys(doc_ids))


def evidence_units(passage_ids: list[str], relevant_flags: list[bool]) -> list[str]:
    """Passages in order, the relevant ones collapsed into one gold unit at the first."""
    out: list[str] = []
    for pid, rel in zip(passage_ids, relevant_flags):
        unit = GOLD_UNIT if rel else pid
        if unit not in out:
            out.append(unit)
    return out


def first_rank(units: list[str], relevant: list[str]) -> int | None:
    rel = set(relevant)
    for i, u in enumerate(units, 1):
        if u in rel:
            return i
    return None


def quote_contains(quote: str | None, answers: list[str] | tuple[str, ...]) -> bool:
    return bool(quote) and any(contains_normalized(quote, a) for a in answers if a)


# -- aggregate ---------------------------------------------------------------------------
_NOTHING = "\0nothing retrieved"  # never a unit id
def retrieval_metrics(records: list[QuestionRecord], metrics: list[str] | None = None) -> dict:
    """ranx figures over the answerable questions (mean over questions)."""
    from ranx import evaluate

    metrics = metrics or RANX_METRICS
    judged = [r for r in records if r.answerable and r.relevant]
    if not judged:
        return {m: None for m in metrics} | {"n": 0}
    # Plain dicts, not ranx's Qrels/Run: the same figures, but Qrels/Run compare their
    # query ids through numba typed dicts, compiled anew in every process (~5 s an eval).
    # (An empty ranking cannot be typed there: a question that got nothing ranks one
    # placeholder that is never relevant.)
    qrels = {r.id: {u: 1 for u in r.relevant} for r in judged}
    run = {r.id: {u: float(len(r.units) - i) for i, u in enumerate(r.units)} or {_NOTHING: 0.0}
           for r in judged}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter
        scores = evaluate(qrels, run, metrics)
    if isinstance(scores, float | np.floating):  # a single metric comes back as a number
        scores = {metrics[0]: scores}
    out = {m: round(float(v), 4) for m, v in scores.items()}
    out["n"] = len(judged)
    return out


def answer_metrics(records: list[QuestionRecord]) -> dict:
    """Quote-contains-gold, citation exactness, abstention precision/recall."""
    gives_answers = any(r.abstained is not None for r in records)
    out: dict = {}
    if not gives_answers:
        return {"quote_contains_gold": None, "citation_exact": None, "citations": 0,
                "abstention_precision": None, "abstention_recall": None, "abstained": None}
    answerable = [r for r in records if r.answerable]
    hits = sum(bool(r.quote_has_answer) for r in answerable)
    out["quote_contains_gold"] = round(hits / len(answerable), 4) if answerable else None
    total = sum(r.citations for r in records)
    exact = sum(r.citations_exact for r in records)
    out["citations"] = total
    out["citation_exact"] = round(exact / total, 4) if total else None
    abst = [r for r in records if r.abstained]
    unans = [r for r in records if not r.answerable]
    tp = sum(not r.answerable for r in abst)
    out["abstained"] = len(abst)
    out["unanswerable"] = len(unans)
    out["false_abstentions"] = sum(r.answerable for r in abst)  # answerable questions refused
    out["abstention_precision"] = round(tp / len(abst), 4) if abst and unans else None
    out["abstention_recall"] = round(tp / len(unans), 4) if unans else None
    # Shares for the held-out near-miss suites: answerable questions refused, and the
    # quote-contains-gold rate of the answerable questions that were answered.
    out["answerable_refused"] = (round(out["false_abstentions"] / len(answerable), 4)
                                 if answerable else None)
    answered = [r for r in answerable if not r.abstained]
    out["quote_contains_gold_answered"] = (round(sum(bool(r.quote_has_answer) for r in answered)
                                                 / len(answered), 4) if answered else None)
    return out


def latency_metrics(records: list[QuestionRecord]) -> dict:
    lat = [r.latency_ms for r in records if r.error is None]
    if not lat:
        return {"latency_p50_ms": None, "latency_p95_ms": None, "latency_mean_ms": None}
    out = {"latency_p50_ms": round(percentile(lat, 50), 2),
           "latency_p95_ms": round(percentile(lat, 95), 2),
           "latency_mean_ms": round(float(np.mean(lat)), 2)}
    wall = [r.wall_ms for r in records if r.error is None and r.wall_ms]
    if wall:
        out["turn_wall_p50_ms"] = round(percentile(wall, 50), 2)
        out["turn_wall_p95_ms"] = round(percentile(wall, 95), 2)
    return out


def category_metrics(records: list[QuestionRecord]) -> dict:
    """Per question category: passage hit@1 / hit@5 and first-quote-contains-answer over
    its answerable questions, and the abstention rate over all of them (for near-miss and
    off-corpus questions that rate is the share handled right)."""
    groups: dict[str, list[QuestionRecord]] = {}
    for r in records:
        if r.category:
            groups.setdefault(r.category, []).append(r)
    out = {}
    for cat, recs in sorted(groups.items()):
        ans = [r for r in recs if r.answerable]
        gives_answers = any(r.abstained is not None for r in recs)

        def share(flags: list[bool]) -> float | None:
            return round(sum(flags) / len(flags), 4) if flags else None

        out[cat] = {
            "questions": len(recs), "answerable": len(ans),
            "hit@1": share([r.rank == 1 for r in ans]),
            "hit@5": share([r.rank is not None and r.rank <= 5 for r in ans]),
            "quote_contains_gold": share([bool(r.quote_has_answer) for r in ans]) if gives_answers else None,
            "abstention_rate": share([bool(r.abstained) for r in recs]) if gives_answers else None,
            "latency_p95_ms": round(percentile([r.latency_ms for r in recs], 95), 2) if recs else None,
        }
    return out


def summarize(records: list[QuestionRecord]) -> dict:
    """Every figure of one system on one suite (with a per-category breakdown when the
    questions have categories)."""
    out = {"questions": len(records), "errors": sum(r.error is not None for r in records)}
    out |= retrieval_metrics(records)
    out |= answer_metrics(records)
    out |= latency_metrics(records)
    categories = category_metrics(records)
    if categories:
        out["categories"] = categories
    return out


def recall_curve(summary: dict) -> list[float | None]:
    return [summary.get(f"recall@{k}") for k in CURVE_KS]


def hand_metrics(ranks: list[int | None], k_values=(1, 5, 10), mrr_k: int = 10) -> dict:
    """The figures from first-relevant ranks (one relevant unit per question), without
    ranx: the tests cross-check ranx with it, and the bench uses it (no numba compile)."""
    n = len(ranks)
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in k_values}
    out[f"mrr@{mrr_k}"] = sum(1 / r for r in ranks if r is not None and r <= mrr_k) / n
    out["ndcg@10"] = sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / n
    return out
