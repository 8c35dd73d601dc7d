"""`isnad bench`'s build sections: fresh index builds and the incremental update, each
timed as the user runs it (`isnad index` in a new process). The builder's own figures
come back as data: `isnad index --json` prints its BuildReport."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from evals import bench_proc as P
from evals.metrics import stat

INCREMENTAL_SENTENCE = " وأضيفت هذه الجملة لقياس التحديث التدريجي للفهرس رقم {n}."


def index_command(home: Path, settings, docs: Path | None) -> list[str]:
    cmd = [*P.isnad_command(), "index", "--json", "--home", str(home), "--embedder", settings.embedder]
    if docs is not None:
        cmd += ["--docs", str(docs)]
    return cmd


def run_index(home: Path, settings, docs: Path | None, what: str) -> tuple[P.ProcResult, dict]:
    """`isnad index --json` measured; (the measurement, the builder's report)."""
    res = P.run_measured(index_command(home, settings, docs), timeout=3600).check(what)
    return res, json.loads(res.stdout)


def bench_build(docs: Path, settings, repeats: int, tmp: Path, log, measure: bool = True):
    """Fresh builds (new data dir, so no embedding cache) of `docs`; the last one is
    kept for the sections that need a built index. Returns (figures, its home)."""
    from corpus.loaders import SHIPPED_DOCUMENTS
    from index import live_manifest

    docs_arg = None if docs == SHIPPED_DOCUMENTS else docs
    runs = []
    home = None
    n_runs = repeats if measure else 1
    for r in range(n_runs):
        home = tmp / f"build-{r}"
        res, built = run_index(home, settings, docs_arg, "isnad index")
        m = live_manifest(home)
        runs.append({"seconds": res.seconds, "peak_rss_bytes": res.peak_rss_bytes,
                     "chunks": built["chunks_total"], "documents": len(m.documents),
                     "faiss": built["faiss_kind"], "builder_seconds": built["seconds"]})
        log(f"  build {r + 1}/{n_runs}: {res.seconds:.1f} s, {built['chunks_total']} chunks, "
            f"peak {res.peak_rss_bytes / P.MB:.0f} MB")
        if r < n_runs - 1:
            shutil.rmtree(home, ignore_errors=True)
    chunks = runs[-1]["chunks"]
    out = {
        "documents": runs[-1]["documents"], "chunks": chunks, "faiss": runs[-1]["faiss"],
        "seconds": stat([r["seconds"] for r in runs]),
        "builder_seconds": stat([r["builder_seconds"] for r in runs]),
        "chunks_per_s": stat([chunks / r["seconds"] for r in runs], 2),
        "peak_rss_mb": stat([r["peak_rss_bytes"] / P.MB for r in runs], 1),
        "note": "wall time of `isnad index` in a fresh data dir (process start, model load, "
                "chunking, embedding every chunk, writing SQLite + FAISS)",
    }
    return out, home


def bench_incremental(docs: Path, settings, repeats: int, tmp: Path, built_home: Path, log) -> dict:
    """Copy the corpus, index the copy (the embedding cache seeded from the fresh build,
    so this setup embeds nothing), append a sentence to one document, re-index: timed."""
    corpus = P.copy_tree(docs, tmp / "incremental-docs")
    home = tmp / "incremental-home"
    (home / "cache").mkdir(parents=True)
    for f in (built_home / "cache").glob("embeddings.sqlite*"):
        shutil.copy2(f, home / "cache" / f.name)
    _, built = run_index(home, settings, corpus, "isnad index (setup)")
    target = max((p for p in corpus.iterdir() if p.suffix == ".txt"), key=lambda p: p.stat().st_size)
    runs, noop = [], []
    for r in range(repeats):
        with open(target, "a", encoding="utf-8") as f:
            f.write(INCREMENTAL_SENTENCE.format(n=r + 1))
        res, built = run_index(home, settings, corpus, "isnad index (update)")
        runs.append((res.seconds, built["seconds"], built["chunks_embedded"], res.peak_rss_bytes))
        res2, _ = run_index(home, settings, corpus, "isnad index (no change)")
        noop.append(res2.seconds)
        log(f"  update {r + 1}/{repeats}: {res.seconds:.2f} s ({built['chunks_embedded']} chunk(s) embedded); "
            f"no-change re-index {res2.seconds:.2f} s")
    return {
        "changed_document": target.name, "chunks": built["chunks_total"],
        "seconds": stat([r[0] for r in runs]), "builder_seconds": stat([r[1] for r in runs]),
        "chunks_embedded": stat([r[2] for r in runs], 0),
        "peak_rss_mb": stat([r[3] / P.MB for r in runs], 1),
        "no_change_seconds": stat(noop),
        "note": "`isnad index --docs COPY` after appending one sentence to the largest document "
                "(unchanged chunks come from the embedding cache); no_change = re-index with nothing changed",
    }
