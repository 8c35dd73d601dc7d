"""The Markdown evaluation report (`report.md`): configuration, summary tables per
suite and category, Isnad's lead over each baseline, wall times and Isnad's failures."""
from __future__ import annotations

from evals.baselines import SYSTEM_LABELS
from evals.metrics import EVIDENCE_MIN_OVERLAP

REPORT_PNG = "recall_at_k.png"  # the recall@k plot the report links to

# (key, column title, kind) of the summary tables
COLUMNS = [
    ("recall@1", "R@1", "f"), ("recall@5", "R@5", "f"), ("recall@10", "R@10", "f"),
    ("mrr@10", "MRR@10", "f"), ("ndcg@10", "nDCG@10", "f"),
    ("quote_contains_gold", "quote⊇gold", "f"), ("citation_exact", "cit. exact", "f"),
    ("abstention_precision", "abst. P", "f"), ("abstention_recall", "abst. R", "f"),
    ("answerable_refused", "refused", "f"), ("quote_contains_gold_answered", "q⊇g answ.", "f"),
    ("latency_p50_ms", "p50 ms", "ms"), ("latency_p95_ms", "p95 ms", "ms"),
]
AHEAD_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")

def _fmt(v, kind: str = "f") -> str:
    if v is None:
        return "—"
    if kind == "ms":
        return f"{v:.0f}" if v >= 10 else f"{v:.1f}"
    return f"{v:.3f}"


def _cell(text: str | None, limit: int = 90) -> str:
    if not text:
        return "—"
    t = " ".join(str(text).split())
    if len(t) > limit:
        t = t[: limit - 1] + "…"
    return t.replace("|", "\\|")


def failures(records: list[dict], limit: int | None = None) -> list[dict]:
    """Answerable questions whose gold was not retrieved first or whose quote misses the answer."""
    bad = [r for r in records if r["answerable"] and (r["rank"] != 1 or r.get("quote_has_answer") is False)]
    # Not retrieved at all first, then the worst ranks, then rank-1 questions with a bad quote.
    bad.sort(key=lambda r: (r["rank"] is not None, -(r["rank"] or 0)))
    return bad[:limit] if limit else bad


CATEGORY_COLUMNS = [("hit@1", "hit@1"), ("hit@5", "hit@5"), ("quote_contains_gold", "quote⊇gold"),
                    ("abstention_rate", "abstained")]


def category_table(systems: dict) -> list[str]:
    """Markdown lines: each system's figures per question category (none without categories)."""
    rows = [(sr["label"], cat, f) for sr in systems.values()
            for cat, f in sr["summary"].get("categories", {}).items()]
    if not rows:
        return []
    lines = ["", "Per question category (hit@k and quote⊇gold over the answerable questions of the "
             "category; abstained: share of all its questions, the right outcome for near-miss and "
             "off-corpus):", "",
             "| system | category | questions | " + " | ".join(c for _, c in CATEGORY_COLUMNS) + " | p95 ms |",
             "|---|---|---:|" + "---:|" * (len(CATEGORY_COLUMNS) + 1)]
    for label, cat, f in rows:
        cells = [_fmt(f.get(key)) for key, _ in CATEGORY_COLUMNS] + [_fmt(f.get("latency_p95_ms"), "ms")]
        lines.append(f"| {label} | {cat} | {f['questions']} | " + " | ".join(cells) + " |")
    return lines


def to_markdown(report: dict, plot_name: str | None = REPORT_PNG, max_failures: int = 25) -> str:
    lines = [f"# Isnad evaluation — {report['created']}", ""]
    lines += _config_section(report["config"], report["wall_seconds"])
    lines += _summary_section(report["suites"])
    lines += _ahead_section(report["suites"])
    if plot_name:
        lines += ["## Recall@k", "", f"![recall@k per suite]({plot_name})", ""]
    lines += _wall_time_section(report["suites"])
    lines += ["## Isnad failures", ""]
    for name, s in report["suites"].items():
        recs = s.get("records", {}).get("isnad")
        if recs is not None:
            lines += _failures_section(name, recs, max_failures)
    return "\n".join(lines) + "\n"


def _config_section(c: dict, wall_seconds: float) -> list[str]:
    """The run's configuration and how to read the figures."""
    return [
        f"- embedder: `{c['embedder_id'] or c['embedder']}`; k = {c['k']} passages per question; "
        f"language model: {c.get('llm') or 'none (extractive answers)'}",
        f"- chunking: {c['chunking']}",
        f"- retrieval: {c['retrieval']}",
        f"- answer: {c['answer']}",
        f"- machine: {c['machine']['platform']}, {c['machine']['cpus']} CPUs, Python {c['machine']['python']}",
        f"- total wall time: {wall_seconds:.0f} s",
        "",
        "Retrieval metrics use one relevant unit per question: the gold paragraph (benchmarks; "
        "documents ranked by first appearance among the returned passages) or, for the corpus "
        "suite, a passage holding the gold evidence (normalized containment, or the gold document "
        f"covering ≥{int(EVIDENCE_MIN_OVERLAP * 100)}% of the evidence span). So R@k is top-k "
        "accuracy. quote⊇gold: the first citation's quote contains the gold answer after "
        "normalization (abstentions count as misses). cit. exact: share of citations with "
        "`document_text[start:end] == quote`. p50/p95: the answer's `timing_ms.total`. BM25 only "
        "and Dense only are the Isnad engine with one retriever alone (no coverage re-ranking). "
        "The LangChain recipe retrieves only (no answers, no chat memory).",
        "",
    ]


def _summary_section(suites: dict) -> list[str]:
    """Per suite: one row of figures per system, the category table, abstentions."""
    lines = ["## Summary", ""]
    for name, s in suites.items():
        lines += [f"### {name} — {s['title']}", "",
                  f"{s['questions']} questions; index: {s['build'].get('chunks')} chunks "
                  f"({s['build'].get('chunks_embedded')} embedded this run, build {s['build'].get('seconds')} s); "
                  f"suite wall time {s['seconds']:.0f} s.", ""]
        lines.append("| system | " + " | ".join(col for _, col, _ in COLUMNS) + " | wall s |")
        lines.append("|---|" + "---:|" * (len(COLUMNS) + 1))
        for system, sr in s["systems"].items():
            sm = sr["summary"]
            row = [f"**{sr['label']}**" if system == "isnad" else sr["label"]]
            row += [_fmt(sm.get(key), kind) for key, _, kind in COLUMNS]
            row.append(f"{sr['seconds']:.0f}")
            lines.append("| " + " | ".join(row) + " |")
        lines += category_table(s["systems"])
        isn = s["systems"].get("isnad", {}).get("summary", {})
        if isn.get("abstained") is not None:
            lines += ["", f"Isnad abstained on {isn['abstained']} question(s): "
                          f"{isn['abstained'] - isn.get('false_abstentions', 0)} of {isn.get('unanswerable', 0)} "
                          f"unanswerable, {isn.get('false_abstentions', 0)} answerable (counted as quote misses)."]
        lines.append("")
    return lines


def _ahead_section(suites: dict) -> list[str]:
    """Isnad minus each baseline (nothing when no suite has a baseline)."""
    if not any(s["ahead"] for s in suites.values()):
        return []
    lines = ["## How far Isnad's retrieval is ahead of each baseline", "",
             "Isnad minus baseline, in points (×100) of each figure; negative means behind.", ""]
    lines.append("| suite | baseline | " + " | ".join(m.replace("recall", "R") for m in AHEAD_METRICS) + " |")
    lines.append("|---|---|" + "---:|" * len(AHEAD_METRICS))
    for name, s in suites.items():
        for base, deltas in s["ahead"].items():
            cells = ["—" if deltas[m] is None else f"{deltas[m] * 100:+.1f}" for m in AHEAD_METRICS]
            lines.append(f"| {name} | {SYSTEM_LABELS.get(base, base)} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _wall_time_section(suites: dict) -> list[str]:
    lines = ["## Wall time", "", "| suite | index build s | chunks embedded | " +
             " | ".join(f"{SYSTEM_LABELS.get(k, k)} s" for k in SYSTEM_LABELS) + " | total s |",
             "|---|---:|---:|" + "---:|" * (len(SYSTEM_LABELS) + 1)]
    for name, s in suites.items():
        per = [f"{s['systems'][k]['seconds']:.0f}" if k in s["systems"] else "—" for k in SYSTEM_LABELS]
        lines.append(f"| {name} | {s['build'].get('seconds')} | {s['build'].get('chunks_embedded')} | "
                     + " | ".join(per) + f" | {s['seconds']:.0f} |")
    lines.append("")
    return lines


def _failures_section(name: str, recs: list[dict], max_failures: int) -> list[str]:
    """One suite's Isnad misses, and unanswerable questions it answered anyway."""
    bad = failures(recs)
    lines = [f"### {name}: {len(bad)} of {sum(r['answerable'] for r in recs)} answerable questions "
             "missed at rank 1 or quoted without the answer"
             + (f" (first {max_failures} shown; all in report.json)" if len(bad) > max_failures else ""), ""]
    if not bad:
        return lines
    lines.append("| id | question | gold (doc: answer) | rank | retrieved first | quote |")
    lines.append("|---|---|---|---:|---|---|")
    lines += [_failure_row(r) for r in bad[:max_failures]]
    lines.append("")
    unans = [r for r in recs if not r["answerable"] and not r["abstained"]]
    if unans:
        lines += [f"Unanswerable questions Isnad answered anyway ({len(unans)}):", ""]
        lines += [f"- {r['id']}: {_cell(r['question'])} → {_cell(r['quote'], 100)}" for r in unans[:max_failures]]
        lines.append("")
    return lines


def _failure_row(r: dict) -> str:
    gold = f"{', '.join(r['gold_docs'])}: {' / '.join(r['gold_answers'])}"
    first = f"{r['first_doc']}: {r['first_text']}" if r["first_doc"] else None
    rank = str(r["rank"]) if r["rank"] else "—"
    quote = r["quote"] if r["quote"] is not None else ("(abstained)" if r["abstained"] else None)
    if r.get("quote_has_answer") is False and quote and not r["abstained"]:
        quote = "✗ " + quote
    return (f"| {r['id']} | {_cell(r['question'])} | {_cell(gold, 70)} | {rank} | "
            f"{_cell(first, 80)} | {_cell(quote, 110)} |")
