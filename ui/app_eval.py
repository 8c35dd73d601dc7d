"""The app's evaluation tab: run a question suite through evals' own runner, show its
figures, the recall@k plot and the failures, and compare with the previous run.

The suites are evals' (the fixed corpus question set, and the benchmark suites when
their files are present); the run is `evals.runner.run_suite` with the Isnad system
only, its report `evals.report.to_json`, so the app shows exactly what `isnad eval`
measures. The last two runs' JSON stay under HOME/app-evals/ (last.json, previous.json).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import gradio as gr

from evals import benchmarks
from evals.report import created_now, failures, plot_recall, run_config, to_json
from evals.runner import run_suite
from evals.suites import DEFAULT_SUITES, cache_root, make_suite
from ui.app_i18n import direction, tr
from ui.app_render import esc

log = logging.getLogger("isnad.app")

EVAL_DIR = "app-evals"
LAST, PREVIOUS, PLOT = "last.json", "previous.json", "recall_at_k.png"
# (summary key, label) of the table; the abstention figures are over all questions.
METRICS = (("recall@1", "R@1"), ("recall@5", "R@5"), ("mrr@10", "MRR@10"),
           ("quote_contains_gold", "quote ⊇ gold"), ("abstention_precision", "abstention P"),
           ("abstention_recall", "abstention R"), ("latency_p50_ms", "p50 ms"))
MAX_FAILURES = 50
_BENCH_FILES = {"xquad-ar": ("XQUAD_AR_FILE",), "arcd-test": ("ARCD_TRAIN_FILE", "ARCD_TEST_FILE")}


def available_suites() -> list[str]:
    """The corpus suite, and each default benchmark suite whose files are present."""
    root = benchmarks.benchmarks_root()
    out = []
    for name in DEFAULT_SUITES:
        files = _BENCH_FILES.get(name, ())
        if all((root / getattr(benchmarks, f)).is_file() for f in files):
            out.append(name)
    return out


class EvalController:
    """Runs one suite at a time (the event's concurrency is 1) and keeps the last two
    reports' JSON under HOME/app-evals/."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.dir = Path(settings.home) / EVAL_DIR

    def previous(self) -> dict | None:
        try:
            return json.loads((self.dir / LAST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def run(self, suite_name: str, limit: float | None, lang: str, progress=gr.Progress(track_tqdm=True)):
        """-> (result HTML, plot path or None)."""
        if suite_name not in available_suites():
            raise gr.Error(tr(lang, "eval_error", err=suite_name), print_exception=False)
        progress(0, desc=tr(lang, "eval_running", suite=suite_name))
        t0 = time.perf_counter()
        try:
            suite = make_suite(suite_name, cache_root(self.settings.home))
            result = run_suite(suite, self.settings, systems=("isnad",), limit=int(limit or 0) or None,
                               progress=True)
        except (benchmarks.BenchmarkError, OSError, ValueError) as exc:
            log.info("evaluation failed: %s", exc)
            raise gr.Error(tr(lang, "eval_error", err=exc), print_exception=False) from None
        report = to_json([result], run_config(self.settings, None, ["--app", suite_name]),
                         time.perf_counter() - t0, created_now())
        previous = self.previous()
        self.dir.mkdir(parents=True, exist_ok=True)
        if (self.dir / LAST).is_file():
            (self.dir / LAST).replace(self.dir / PREVIOUS)
        (self.dir / LAST).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
        plot = plot_recall(report, self.dir / PLOT)
        return report_html(report, previous, lang), str(plot)


def _fmt(v: object, key: str) -> str:
    if not isinstance(v, (int, float)):
        return "—"
    return f"{v:.0f}" if key.endswith("_ms") else f"{v:.3f}"


def _metrics_table(summary: dict, prev: dict | None, lang: str) -> str:
    head = [tr(lang, "eval_metric"), tr(lang, "eval_value")] + (
        [tr(lang, "eval_prev"), tr(lang, "eval_delta")] if prev is not None else [])
    rows = []
    for key, label in METRICS:
        v = summary.get(key)
        cells = [f'<td dir="ltr">{esc(label)}</td>', f'<td class="n">{_fmt(v, key)}</td>']
        if prev is not None:
            p = prev.get(key)
            delta = (f"{v - p:+.3f}" if isinstance(v, (int, float)) and isinstance(p, (int, float))
                     and not key.endswith("_ms") else "—")
            cells += [f'<td class="n">{_fmt(p, key)}</td>', f'<td class="n" dir="ltr">{delta}</td>']
        rows.append(f"<tr>{''.join(cells)}</tr>")
    ths = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f'<table class="isnad-eval-metrics"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _categories_table(summary: dict, lang: str) -> str:
    cats = summary.get("categories") or {}
    if not cats:
        return ""
    cols = (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("quote_contains_gold", tr(lang, "eval_quote_gold")),
            ("abstention_rate", tr(lang, "eval_abstained")))
    ths = "".join(f"<th>{esc(h)}</th>" for h in [tr(lang, "eval_cat"), tr(lang, "eval_questions")]
                  + [c for _, c in cols])
    rows = "".join(
        f'<tr><td dir="ltr">{esc(cat)}</td><td class="n">{esc(f.get("questions"))}</td>'
        + "".join(f'<td class="n">{_fmt(f.get(k), k)}</td>' for k, _ in cols) + "</tr>"
        for cat, f in cats.items())
    return (f'<h4>{esc(tr(lang, "cats"))}</h4><table class="isnad-eval-cats"><thead><tr>{ths}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _failures_list(records: list[dict], lang: str) -> str:
    bad = failures(records, MAX_FAILURES)
    if not bad:
        return f'<p class="isnad-eval-nofail">{esc(tr(lang, "eval_no_failures"))}</p>'
    items = "".join(
        f'<li><a href="#" class="isnad-eval-ask" role="button" data-ask="{esc(r["question"])}" '
        f'title="{esc(tr(lang, "eval_open"))}" dir="auto">{esc(r["question"])}</a> '
        f'<span class="isnad-eval-rank">{esc(tr(lang, "eval_rank"))}: {esc(r["rank"] or "—")}'
        f' · <span dir="ltr">{esc(r["id"])}</span></span></li>' for r in bad)
    return (f'<h4>{esc(tr(lang, "eval_failures", n=len(failures(records))))}</h4>'
            f'<ol class="isnad-eval-failures">{items}</ol>')


def report_html(report: dict, previous: dict | None, lang: str = "ar") -> str:
    """One suite's result: the figures (with the previous run's beside them when it ran
    the same suite), the per-category table and the failures, each a link to the chat."""
    name, suite = next(iter(report["suites"].items()))
    summary = suite["systems"]["isnad"]["summary"]
    prev_suite = (previous or {}).get("suites", {}).get(name)
    prev = prev_suite["systems"]["isnad"]["summary"] if prev_suite and "isnad" in prev_suite["systems"] else None
    # the timestamp is Latin: kept left-to-right inside an Arabic sentence
    note = (esc(tr(lang, "eval_prev_from", created="@@")).replace(
        "@@", f'<span dir="ltr">{esc(previous.get("created", ""))}</span>') if prev is not None
        else esc(tr(lang, "eval_no_prev")))
    head = tr(lang, "eval_summary", suite=name, n=suite["questions"], secs=report["wall_seconds"])
    records = suite.get("records", {}).get("isnad", [])
    return (f'<div class="isnad-eval" dir="{direction(lang)}"><h3>{esc(head)}</h3>'
            f'<div class="isnad-eval-note">{note}</div>'
            f"{_metrics_table(summary, prev, lang)}{_categories_table(summary, lang)}"
            f"{_failures_list(records, lang)}</div>")


def eval_tab(settings, lang_state, labels) -> tuple:
    """The tab's controls (inside a gr.Tab), their words registered with `labels` (the
    app's Labels). -> (controller, {name: component})."""
    ctl = EvalController(settings)
    suites = available_suites()

    def intro_html(lang: str) -> str:
        return f'<p dir="{direction(lang)}">{esc(tr(lang, "eval_intro"))}</p>'

    intro = gr.HTML(intro_html("ar"), elem_id="isnad-eval-intro")
    with gr.Row(equal_height=True):
        suite = gr.Dropdown(suites, value=suites[0], label=tr("ar", "eval_suite"), elem_id="isnad-eval-suite",
                            scale=2, min_width=160)
        limit = gr.Number(0, precision=0, minimum=0, label=tr("ar", "eval_limit"), elem_id="isnad-eval-limit",
                          scale=1, min_width=120)
        run = gr.Button(tr("ar", "eval_run"), variant="primary", elem_id="isnad-eval-run", scale=1,
                        min_width=140)
    result = gr.HTML(f'<p class="isnad-empty">{esc(tr("ar", "eval_none"))}</p>', elem_id="isnad-eval-result",
                     js_on_load=ASK_LINKS_JS)
    plot = gr.Image(None, type="filepath", label=tr("ar", "eval_plot"), elem_id="isnad-eval-plot",
                    interactive=False, buttons=[])
    labels.add(intro, intro_html)
    labels.add(suite, lambda l: gr.Dropdown(label=tr(l, "eval_suite")))
    labels.add(limit, lambda l: gr.Number(label=tr(l, "eval_limit")))
    labels.add(run, lambda l: gr.Button(tr(l, "eval_run")))
    labels.add(plot, lambda l: gr.Image(label=tr(l, "eval_plot")))
    run.click(ctl.run, inputs=[suite, limit, lang_state], outputs=[result, plot], api_visibility="private",
              concurrency_limit=1, concurrency_id="isnad-eval")
    return ctl, {"intro": intro, "suite": suite, "limit": limit, "run": run, "result": result, "plot": plot}


# js_on_load of the result panel: a failure's link hands its question to the server,
# which opens the chat with it.
ASK_LINKS_JS = """
element.addEventListener("click", function (e) {
  var a = e.target && e.target.closest ? e.target.closest("[data-ask]") : null;
  if (!a || !element.contains(a)) return;
  e.preventDefault();
  trigger("click", {ask: a.getAttribute("data-ask")});
});
"""
