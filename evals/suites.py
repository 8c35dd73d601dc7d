"""The evaluation suites: a document folder, a data directory for its index, and questions.

Every suite indexes its documents into its own data directory under a persistent
cache (default `<home>/evals/<corpus>/`), so later runs reuse the index and the
embedding cache instead of embedding again:

    <cache>/corpus/          index of the shipped corpus (corpus/documents)
    <cache>/xquad-ar/docs/   the 240 XQuAD-ar paragraphs as p0001.txt ... + catalog.json
    <cache>/xquad-ar/index/, cache/   its index and embedding cache
    <cache>/arcd/...         the 460 unique ARCD paragraphs (train + test), shared by
                             the arcd-test and arcd-train suites
    <cache>/xquad-ar-heldout/, <cache>/arcd-train-heldout/
                             every second paragraph of each article held out: questions
                             on held-out paragraphs are near-misses (should abstain);
                             embedding caches shared with xquad-ar / arcd
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from corpus.loaders import SHIPPED_DOCUMENTS

from evals import benchmarks
from evals.questions import EvalQuestion, load_corpus_questions

SUITES = ("corpus", "xquad-ar", "arcd-test", "arcd-train", "xquad-ar-heldout", "arcd-train-heldout")
DEFAULT_SUITES = ("corpus", "xquad-ar", "arcd-test")  # what `--suite all` runs (train is for tuning)


@dataclass
class Suite:
    name: str
    title: str
    docs_dir: Path  # the documents to index
    home: Path  # the suite's own Isnad data directory (index + embedding cache)
    questions: list[EvalQuestion]
    relevance: str  # "document": the gold paragraph; "evidence": passage holds the evidence
    source: str = ""
    stats: dict = field(default_factory=dict)


def cache_root(home: Path, override: str | Path | None = None) -> Path:
    """Where suite indexes live: `override`, else $ISNAD_EVALS_CACHE, else <home>/evals."""
    if override:
        return Path(override).expanduser()
    if os.environ.get("ISNAD_EVALS_CACHE"):
        return Path(os.environ["ISNAD_EVALS_CACHE"]).expanduser()
    return Path(home) / "evals"


def make_suite(name: str, root: Path, bench_root: Path | None = None, arcd_corpus: str = "all",
               questions_file: Path | None = None, held_parity: int = 1) -> Suite:
    """Load a suite's questions and write its documents (benchmarks) under `root`.
    `held_parity` (held-out suites): 1 holds out the 2nd, 4th ... paragraph of each
    article, 0 the 1st, 3rd ... (the training script uses both)."""
    root = Path(root)
    if name == "corpus":
        qs = load_corpus_questions(questions_file)
        return Suite(
            name="corpus", title="Shipped corpus (fixed question set)", docs_dir=SHIPPED_DOCUMENTS,
            home=root / "corpus", questions=qs, relevance="evidence",
            source=str(questions_file or "evals/questions/corpus.jsonl"),
            stats={"documents": len(list(SHIPPED_DOCUMENTS.glob("*.txt"))), "questions": len(qs),
                   "unanswerable": sum(not q.answerable for q in qs),
                   "followups": sum(q.follows is not None for q in qs)},
        )
    if name == "xquad-ar":
        bench = benchmarks.load_xquad_ar(bench_root)
        key, title = "xquad-ar", "XQuAD-ar (240 paragraphs)"
    elif name in ("arcd-test", "arcd-train"):
        split = name.split("-", 1)[1]
        bench = benchmarks.load_arcd(split, bench_root, corpus=arcd_corpus)
        if arcd_corpus == "all":
            key = "arcd"
            title = f"ARCD {split} questions over all {len(bench.paragraphs)} unique ARCD paragraphs"
        else:
            key = f"arcd-{split}-only"
            title = f"ARCD {split} questions over the {len(bench.paragraphs)} {split} paragraphs"
    elif name == "xquad-ar-heldout":
        bench = benchmarks.hold_out_alternate(benchmarks.load_xquad_ar(bench_root), name, held_parity)
        key = name if held_parity == 1 else f"{name}-even"
        title = (f"XQuAD-ar, every second paragraph of each article held out "
                 f"({len(bench.paragraphs)} paragraphs indexed)")
    elif name == "arcd-train-heldout":
        bench = benchmarks.hold_out_alternate(benchmarks.load_arcd("train", bench_root, corpus="split"), name,
                                              held_parity)
        key = name if held_parity == 1 else f"{name}-even"
        title = (f"ARCD train, every second paragraph of each article held out "
                 f"({len(bench.paragraphs)} paragraphs indexed; for tuning)")
    else:
        raise ValueError(f"unknown suite {name!r}: choose from {', '.join(SUITES)} or all")
    home = root / key
    benchmarks.write_corpus(bench.paragraphs, home / "docs", bench.source)
    if key != "arcd" and key.startswith("arcd-"):
        _share_embedding_cache(home, root / "arcd")
    elif key.startswith("xquad-ar-heldout"):
        _share_embedding_cache(home, root / "xquad-ar")
    stats = {k: v for k, v in bench.stats.items() if k != "files"}
    stats["corpus"] = key
    return Suite(name=name, title=title, docs_dir=home / "docs", home=home, questions=bench.questions,
                 relevance="document", source=bench.source, stats=stats)


def _share_embedding_cache(home: Path, other: Path) -> None:
    """Let a split-only ARCD index reuse the vectors of the full ARCD index (the embedding
    cache is keyed by embedder id and text, so sharing it is safe)."""
    cache = home / "cache"
    if cache.exists() or cache.is_symlink():
        return
    target = other / "cache"
    try:
        target.mkdir(parents=True, exist_ok=True)
        cache.symlink_to(target.resolve(), target_is_directory=True)
    except OSError:
        pass  # no symlinks here: the split index embeds its own passages
