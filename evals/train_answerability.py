"""Train the answerability model (qa/answerability.json) on a held-out near-miss suite.

    python -m evals.train_answerability [--suite arcd-train-heldout] [--out qa/answerability.json]
                                        [--max-refused 0.04] [--home DIR] [--limit N]

The suite's questions are asked through the real engine (retrieval + answerer); the
features of each answer's evidence (qa.answerability.features) are labelled 1 for an
answerable question, 0 for a near-miss (its paragraph held out of the index). A
scikit-learn logistic regression is fitted on standardized features and written as
plain JSON (means, scales, coefficients, intercept), never pickled; the threshold is
the highest probability that still answers all but `--max-refused` of the answerable
questions. Train on ARCD-train only: XQuAD-ar and ARCD-test are for reporting.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from qa.answerability import FEATURES, MODEL_FILE, features

DEFAULT_SUITE = "arcd-train-heldout"


def collect(suite_name: str, home: Path | None, limit: int | None, log=print) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, quote-has-gold) for the suite's questions that got a composed answer;
    a question with no quotable sentence is refused whatever the model says: left out."""
    from corpus.normalize import contains_normalized
    from index.builder import build_index
    from index.embedders import make_embedder
    from qa.engine import Isnad, clean_question
    from qa.settings import Settings

    from evals.suites import cache_root, make_suite

    settings = Settings.from_env(home=home)
    suite = make_suite(suite_name, cache_root(settings.home))
    embedder = make_embedder(settings.embedder)
    log(f"[{suite_name}] indexing {suite.docs_dir}")
    build_index(suite.home, [suite.docs_dir], embedder, settings.index)
    engine = Isnad.open(settings.with_(home=suite.home), build_if_missing=False)
    rows, labels, good = [], [], []
    questions = suite.questions[:limit] if limit else suite.questions
    for q in questions:
        text = clean_question(q.question)
        got = engine.retriever.retrieve(text, 10)
        composed = engine.answerer.compose(text, got, engine.store.document_text)
        if composed is None or composed.evidence is None:
            continue
        rows.append(features(composed.evidence))
        labels.append(1 if q.answerable else 0)
        good.append(q.answerable and any(contains_normalized(composed.citations[0].quote, a) for a in q.answers))
    engine.store.close()
    log(f"[{suite_name}] {len(rows)} of {len(questions)} questions composed an answer")
    return np.vstack(rows), np.asarray(labels), np.asarray(good)


def threshold_for(prob: np.ndarray, y: np.ndarray, max_refused: float) -> float:
    """The highest threshold that refuses at most `max_refused` of the answerable ones."""
    pos = np.sort(prob[y == 1])
    k = int(np.floor(max_refused * len(pos)))
    return float(pos[k]) if len(pos) else 0.5


def fit(x: np.ndarray, y: np.ndarray, max_refused: float) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    model = LogisticRegression(C=1.0, max_iter=2000).fit(z, y)
    prob = model.predict_proba(z)[:, 1]
    return {
        "features": list(FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(threshold_for(prob, y, max_refused), 6),
    }


def report(name: str, prob: np.ndarray, y: np.ndarray, threshold: float) -> str:
    from sklearn.metrics import roc_auc_score

    answered = prob >= threshold
    near = y == 0
    return (f"{name}: AUC {roc_auc_score(y, prob):.3f}  near-misses abstained "
            f"{(~answered[near]).mean():.3f}  answerable refused {(~answered[~near]).mean():.3f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.train_answerability", description=__doc__.split("\n")[0])
    p.add_argument("--suite", default=DEFAULT_SUITE)
    p.add_argument("--out", type=Path, default=MODEL_FILE)
    p.add_argument("--max-refused", type=float, default=0.04)
    p.add_argument("--home", type=Path)
    p.add_argument("--limit", type=int)
    args = p.parse_args(argv)
    if args.suite.startswith(("xquad", "arcd-test")):
        print(f"error: {args.suite} is for reporting; train on arcd-train-heldout", file=sys.stderr)
        return 2
    x, y, _good = collect(args.suite, args.home, args.limit, log=lambda m: print(m, file=sys.stderr))
    model = fit(x, y, args.max_refused)
    from qa.answerability import AnswerabilityModel

    m = AnswerabilityModel.from_json(model)
    prob = np.array([m.probability(row) for row in x])
    print(report(f"{args.suite} (train)", prob, y, m.threshold))
    old = AnswerabilityModel.from_json(json.loads(Path(args.out).read_text(encoding="utf-8"))) \
        if Path(args.out).exists() else None
    if old is not None:
        prob_old = np.array([old.probability(row) for row in x])
        print(report("previous weights", prob_old, y, threshold_for(prob_old, y, args.max_refused)))
    model = {"_note": f"logistic regression trained by python -m evals.train_answerability on {args.suite}; "
                      f"threshold: at most {args.max_refused} of its answerable questions refused", **model}
    Path(args.out).write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
