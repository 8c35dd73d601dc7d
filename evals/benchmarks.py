"""Adapters for the external Arabic benchmarks in ../shared/benchmarks (see their SOURCE.md).

Both are SQuAD v1.1 JSON. Each benchmark's paragraphs become a corpus: one
`pNNNN.txt` file per paragraph plus a `catalog.json` giving the article title, in a
directory that `index.builder.build_index` indexes like any other document folder.

Quirks handled (all from the SOURCE.md files):
- ARCD: 5 contexts occur twice (once in train, once in test). Contexts are
  de-duplicated (460 unique paragraphs) and questions of both copies point to the
  one paragraph, so both copies count as gold.
- ARCD: 6 answers do not match `context[answer_start:]` because the context has a
  double space or NBSP where the answer has one space: the answer is located after
  folding white space (`corpus.normalize.find_normalized`); all 1395 are found.
- ARCD: 45 questions carry a leading " - " and surrounding spaces: stripped.
- XQuAD-ar: one context holds U+FFFD replacement characters (and so does one gold
  answer): kept verbatim (the files are UTF-8; the answer is still found).
- Harakat/tatweel: all answer matching goes through corpus.normalize.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus.errors import IsnadError
from corpus.normalize import find_normalized, normalize

from evals.questions import EvalQuestion

REPO = Path(__file__).resolve().parents[1]
XQUAD_AR_FILE = Path("xquad_ar") / "xquad.ar.json"
ARCD_TRAIN_FILE = Path("arcd") / "arcd-train.json"
ARCD_TEST_FILE = Path("arcd") / "arcd-test.json"

_LEADING_DASH = re.compile(r"^\s*-\s*")


class BenchmarkError(IsnadError):
    """A benchmark file is missing or malformed (the message names it)."""


def benchmarks_root() -> Path:
    """$ISNAD_BENCHMARKS, else <repo>/../shared/benchmarks."""
    env = os.environ.get("ISNAD_BENCHMARKS")
    return Path(env).expanduser() if env else (REPO.parent / "shared" / "benchmarks").resolve()


@dataclass
class Paragraph:
    doc_id: str  # p0001.txt ...
    title: str
    context: str
    splits: list[str] = field(default_factory=list)  # which files it came from


@dataclass
class BenchmarkCorpus:
    """Paragraphs (unique contexts) and the questions asked of them."""

    name: str
    source: str
    paragraphs: list[Paragraph]
    questions: list[EvalQuestion]
    stats: dict = field(default_factory=dict)


def clean_benchmark_question(text: str) -> str:
    """Strip the leading " - " some ARCD questions carry, and surrounding space."""
    return _LEADING_DASH.sub("", text).strip()


def locate_answer(context: str, answer: str, answer_start: int | None) -> tuple[int, int] | None:
    """The answer's span in `context`: at answer_start when it matches exactly, else the
    first match after white-space folding and Arabic normalization (None: not found)."""
    if answer_start is not None and context[answer_start : answer_start + len(answer)] == answer:
        return answer_start, answer_start + len(answer)
    span = None
    if answer_start is not None:
        # Prefer the occurrence at (or just after) the stated offset when the text repeats.
        base = max(0, answer_start - 5)
        near = find_normalized(context[base:], answer)
        if near is not None:
            span = base + near[0], base + near[1]
    span = span or find_normalized(context, answer)
    if span is None:
        return None
    start, end = span
    # Keep the harakat/tatweel that sit on the last letter (normalization drops them).
    while end < len(context) and context[end] != " " and not normalize(context[end]):
        end += 1
    return start, end


def _read_squad(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BenchmarkError(f"{path}: benchmark file not found (set ISNAD_BENCHMARKS?)") from exc
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: unreadable benchmark file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise BenchmarkError(f"{path}: not SQuAD v1.1 JSON (no 'data' list)")
    return data


def load_squad(files: list[tuple[str, Path]], name: str, source: str,
               keep_splits: set[str] | None = None) -> BenchmarkCorpus:
    """Load SQuAD-format files as one corpus with de-duplicated contexts.

    `files`: (split label, path) pairs, read in order; every paragraph of every file
    goes into the corpus; only the questions of `keep_splits` (default: all) are kept.
    """
    paragraphs: list[Paragraph] = []
    by_context: dict[str, Paragraph] = {}
    questions: list[EvalQuestion] = []
    stats = {"files": {}, "paragraphs_read": 0, "duplicate_contexts": 0, "questions_read": 0,
             "questions_stripped": 0, "answers_exact": 0, "answers_folded": 0,
             "answers_not_found": 0, "replacement_char_contexts": 0}
    seen_ids: set[str] = set()
    for split, path in files:
        data = _read_squad(path)
        stats["files"][split] = str(path)
        for article in data["data"]:
            title = str(article.get("title", "")).replace("_", " ").strip()
            for para in article.get("paragraphs", []):
                context = para["context"]
                p = _add_paragraph(context, title, split, paragraphs, by_context, stats)
                for qa in para.get("qas", []):
                    stats["questions_read"] += 1
                    if keep_splits is not None and split not in keep_splits:
                        continue
                    questions.append(_squad_question(qa, context, p, split, path, seen_ids, stats))
    stats["paragraphs"] = len(paragraphs)
    stats["questions"] = len(questions)
    return BenchmarkCorpus(name, source, paragraphs, questions, stats)


def _add_paragraph(context: str, title: str, split: str, paragraphs: list[Paragraph],
                   by_context: dict[str, Paragraph], stats: dict) -> Paragraph:
    """The corpus paragraph holding `context` (a new one unless already read), marked
    as part of `split`."""
    stats["paragraphs_read"] += 1
    p = by_context.get(context)
    if p is None:
        p = Paragraph(f"p{len(paragraphs) + 1:04d}.txt", title, context)
        by_context[context] = p
        paragraphs.append(p)
        if "\ufffd" in context:
            stats["replacement_char_contexts"] += 1
    else:
        stats["duplicate_contexts"] += 1
    if split not in p.splits:
        p.splits.append(split)
    return p


def _squad_question(qa: dict, context: str, p: Paragraph, split: str, path: Path,
                    seen_ids: set[str], stats: dict) -> EvalQuestion:
    """One SQuAD question with its answers located in `context` (counted in `stats`)."""
    qid = str(qa["id"])
    if qid in seen_ids:
        raise BenchmarkError(f"{path}: duplicate question id {qid}")
    seen_ids.add(qid)
    raw_q = qa["question"]
    q = clean_benchmark_question(raw_q)
    if q != raw_q:
        stats["questions_stripped"] += 1
    answers, spans = [], []
    for a in qa.get("answers", []):
        text = a["text"]
        span = locate_answer(context, text, a.get("answer_start"))
        if span is None:
            stats["answers_not_found"] += 1
        elif context[span[0] : span[1]] == text:
            stats["answers_exact"] += 1
        else:
            stats["answers_folded"] += 1
        answers.append(text)
        spans.append(span)
    return EvalQuestion(
        id=qid, question=q, answerable=True, gold_docs=(p.doc_id,),
        answers=tuple(dict.fromkeys(answers)), kind=split, lang="ar",
        meta={"raw_question": raw_q, "answer_spans": spans, "split": split},
    )


def load_xquad_ar(root: Path | None = None) -> BenchmarkCorpus:
    root = Path(root) if root else benchmarks_root()
    return load_squad([("xquad", root / XQUAD_AR_FILE)], "xquad-ar",
                      "XQuAD-ar (Artetxe, Ruder & Yogatama 2019), CC BY-SA 4.0")


def load_arcd(split: str, root: Path | None = None, corpus: str = "all") -> BenchmarkCorpus:
    """ARCD questions of `split` ("test" or "train").

    corpus="all": the paragraphs of train and test together, de-duplicated (460),
    so the retriever has to find the paragraph among all of ARCD (the harder setting);
    corpus="split": only the paragraphs of `split` itself (234 for test, 231 for train).
    """
    if split not in ("test", "train"):
        raise ValueError(f"ARCD split must be 'test' or 'train', not {split!r}")
    if corpus not in ("all", "split"):
        raise ValueError(f"ARCD corpus must be 'all' or 'split', not {corpus!r}")
    root = Path(root) if root else benchmarks_root()
    files = {"train": root / ARCD_TRAIN_FILE, "test": root / ARCD_TEST_FILE}
    order = [("train", files["train"]), ("test", files["test"])] if corpus == "all" else [(split, files[split])]
    return load_squad(order, f"arcd-{split}",
                      "ARCD (Mozannar et al. 2019, SOQAL), MIT", keep_splits={split})


def write_corpus(paragraphs: list[Paragraph], directory: Path, source: str = "") -> Path:
    """One .txt per paragraph plus catalog.json, rewriting only what changed (so the
    index builder sees unchanged files as unchanged) and removing stale paragraphs."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {p.doc_id for p in paragraphs}
    for old in directory.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    for p in paragraphs:
        path = directory / p.doc_id
        data = p.context.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    catalog = {
        p.doc_id: {"title": p.title or p.doc_id, "source": source, "date": None, "language": "ar"}
        for p in paragraphs
    }
    text = json.dumps(catalog, ensure_ascii=False, indent=1, sort_keys=True)
    cat = directory / "catalog.json"
    if not cat.exists() or cat.read_text(encoding="utf-8") != text:
        cat.write_text(text, encoding="utf-8")
    return directory


def hold_out_alternate(bench: BenchmarkCorpus, name: str, parity: int = 1) -> BenchmarkCorpus:
    """The benchmark with every second paragraph of each article held out of the corpus.

    Questions on a held-out paragraph become near-misses: the index still holds the
    article's other paragraphs (same names, same topic), but not the answer, so the
    right reply is to abstain. Questions on kept paragraphs stay answerable. `parity` 1
    holds out the second, fourth ... paragraph; 0 the first, third ... (more training data)."""
    position: dict[str, int] = {}
    kept: list[Paragraph] = []
    held: set[str] = set()
    for p in bench.paragraphs:
        i = position.get(p.title, 0)
        position[p.title] = i + 1
        if i % 2 == parity:
            held.add(p.doc_id)
        else:
            kept.append(p)
    questions = []
    for q in bench.questions:
        if q.gold_docs and q.gold_docs[0] in held:
            questions.append(replace(q, answerable=False, gold_docs=(), kind="near-miss",
                                     meta=q.meta | {"held_out_doc": q.gold_docs[0]}))
        else:
            questions.append(replace(q, kind="answerable"))
    stats = dict(bench.stats, paragraphs=len(kept), held_out_paragraphs=len(held),
                 near_misses=sum(not q.answerable for q in questions),
                 answerable=sum(q.answerable for q in questions))
    return BenchmarkCorpus(name, bench.source, kept, questions, stats)
