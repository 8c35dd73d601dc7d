"""Build or update the persisted index, incrementally and atomically.

Unchanged documents (same sha256) keep their chunks and vectors; changed and new
documents are re-chunked and embedded (through the embedding cache); removed
documents leave. The result is written as a new generation and made live with one
atomic rename, so an interrupted build leaves the previous index untouched.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from corpus.chunker import ChunkingParams
from corpus.document import Document
from corpus.loaders import MAX_ARCHIVE_BYTES, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_CHARS, READERS_VERSION, SHIPPED_DOCUMENTS, Skipped
from corpus.sentences import split_sentences
from index.changes import Changes, find_changes
from index.embedders import Embedder
from index.embedding_cache import EmbeddingCache
from index.generations import (
    build_lock,
    documents_dir,
    index_root,
    live_generation,
    new_generation,
    remove_unused_generations,
    repair_current,
    switch_to,
    verified_manifest,
    write_atomic,
    write_sources_record,
)
from index.lexical import ArabicAnalyzer
from index.manifest import FORMAT_VERSION, MANIFEST_NAME, IndexProblem, Manifest, file_digest
from index.sentence_vectors import add_sentence_vectors
from index.sources import collect_files, file_size, load_and_chunk
from index.space import check_free_space, directory_bytes, disk_full_error, needed_bytes, one_line
from index.schema import FAISS_NAME, SQLITE_NAME, open_writable, vector_blob

EMBED_BATCH = 16


@dataclass(frozen=True)
class IndexParams:
    chunking: ChunkingParams = field(default_factory=ChunkingParams)
    # Above this many chunks the FAISS index is HNSW (approximate) instead of exact.
    # Measured by `isnad bench` (single-query exact search on one thread, as IndexStore
    # searches, 2-core Xeon): p50 1.1 ms at 20k vectors, 3.1 ms at 50k, 10.6 ms at 100k,
    # 107 ms at 1M; 5 ms is crossed near 63k on an idle machine and near 33k under load.
    approximate_threshold: int = 50_000
    # HNSW parameters measured by `isnad bench` at 1M vectors shaped like e5's (see
    # evals/bench_scale.py): M=32, efConstruction=80 and efSearch=128 give recall@10
    # 0.996 at 0.4 ms p50 (efSearch 64: 0.963; 48: 0.955). On isotropic random vectors
    # no setting under 5 ms reaches 0.95 (see the bench report).
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    # Header embedded and indexed with each chunk: "none", "title" or "title+section".
    header: str = "title+section"
    # One document's limits: its extracted text, and what a .docx may unzip to. Over
    # them the file is skipped by name (a 650 KB .docx expanded to 77 million characters).
    max_document_chars: int = MAX_DOCUMENT_CHARS
    max_archive_bytes: int = MAX_ARCHIVE_BYTES
    max_upload_bytes: int = MAX_DOCUMENT_BYTES  # one file given to `isnad add` or uploaded
    follow_symlinks: bool = False  # follow links that leave the indexed folder
    # Vectors of every sentence, for quoting across languages (index.sentence_vectors).
    sentence_vectors: bool = True


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_total: int = 0
    chunks_embedded: int = 0  # passages actually sent to the embedder (cache misses)
    seconds: float = 0.0
    faiss_kind: str = "flat"
    directory: str = ""

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed)


def build_index(
    home: Path,
    sources: list[Path],
    embedder: Embedder,
    params: IndexParams | None = None,
    rebuild: bool = False,
    progress: bool | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> BuildReport:
    """Bring the index in `home` up to date with the documents under `sources`, and
    record them as what `home` indexes.

    One build at a time per home (a lock file; a second build waits for the first)."""
    stage = on_stage or (lambda _msg: None)
    with build_lock(home, stage):
        return build_locked(home, sources, embedder, params, rebuild, progress, stage)


def build_locked(home, sources, embedder, params=None, rebuild=False, progress=None,
                 stage=lambda _msg: None) -> BuildReport:
    """`build_index` for a caller that holds `index.generations.build_lock`."""
    t0 = time.perf_counter()
    params = params or IndexParams()
    sources = [Path(s).resolve() for s in sources]
    report = BuildReport()
    repair_current(home, stage)  # before anything decides what is live (or may be removed)
    files = collect_files(sources, params.follow_symlinks, report.skipped, documents_dir(home))
    write_sources_record(home, sources, shipped=sources == [SHIPPED_DOCUMENTS])
    previous = None if rebuild else _reusable_manifest(home, embedder, params, sources)
    changes = find_changes(files, previous, report.skipped)
    report.removed, report.unchanged = changes.removed, changes.unchanged
    report.changed, report.added = changes.changed, changes.added
    if previous and report.up_to_date and not (params.sentence_vectors and _lacks_sentence_vectors(home)):
        _report_up_to_date(home, changes, report)
    else:
        _build_generation(home, changes, embedder, params, sources, report, progress, stage)
    report.seconds = time.perf_counter() - t0
    return report


def _report_up_to_date(home: Path, changes: Changes, report: BuildReport) -> None:
    """Nothing to build: report the live index as it is."""
    previous = changes.previous
    remove_unused_generations(home)  # e.g. left by a build killed after its switch
    report.chunks_total = previous.n_chunks
    report.faiss_kind = previous.faiss_kind
    report.directory = str(live_generation(home))
    report.skipped += [Skipped(d, previous.skipped[d]) for d in changes.still_skipped]


def _build_generation(home, changes, embedder, params, sources, report, progress, stage) -> None:
    """Write a new generation and make it live; on any failure remove it again."""
    files, previous = changes.files, changes.previous
    root = index_root(home)
    root.mkdir(parents=True, exist_ok=True)
    remove_unused_generations(home)
    new_bytes = sum(file_size(files[d][0]) for d in report.changed + report.added)
    needed = needed_bytes(new_bytes, directory_bytes(live_generation(home) if previous else None))
    check_free_space(root, needed)
    gen = new_generation(home, f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}")
    db_path = gen / SQLITE_NAME
    if previous:
        _copy_sqlite(live_generation(home) / SQLITE_NAME, db_path)
    db = open_writable(db_path)
    analyzer = ArabicAnalyzer()
    cache = EmbeddingCache(Path(home) / "cache" / "embeddings.sqlite", embedder.id, embedder.dim)
    if cache.notice:
        stage(cache.notice)
    try:
        n_chunks, kind = _fill_database(db, gen, changes, embedder, cache, analyzer, params, report, progress, stage)
        manifest = _new_manifest(gen, changes, embedder, params, sources, report, n_chunks, kind)
        write_atomic(gen / MANIFEST_NAME, manifest.to_json())
        switch_to(home, gen)  # the one step that makes it live
        # The previous generation goes now unless a process still reads it (then the
        # next build removes it, once that reader has moved on).
        remove_unused_generations(home, keep=gen)
    except BaseException as exc:
        _discard_generation(home, gen, db)
        full = disk_full_error(exc, index_root(home), needed)
        if full is not None:
            raise full from exc
        raise
    finally:
        cache.close()
    report.chunks_total = n_chunks
    report.faiss_kind = kind
    report.directory = str(gen)


def _fill_database(db, gen, changes, embedder, cache, analyzer, params, report, progress, stage) -> tuple[int, str]:
    """Bring the generation's database up to date, then write its vectors; returns
    the number of chunks and the FAISS index kind."""
    for doc_id in report.removed + report.changed:
        _delete_document(db, doc_id)
    to_load = report.changed + report.added
    stage(f"reading {len(to_load)} document(s)")
    chunks = [c for d in to_load if (c := load_and_chunk(d, *changes.files[d], params, report.skipped))]
    report.skipped += [Skipped(d, changes.previous.skipped[d]) for d in changes.still_skipped]
    _insert(db, chunks, embedder, cache, analyzer, report, progress, stage, params)
    if params.sentence_vectors:  # cross-lingual quotes (see index.sentence_vectors)
        add_sentence_vectors(db, embedder, cache, stage)
    db.commit()
    stage("writing vectors")
    n_chunks, kind = _write_faiss(db, gen / FAISS_NAME, embedder.dim, params)
    db.execute("VACUUM") if report.removed or report.changed else None
    db.close()
    return n_chunks, kind


def _new_manifest(gen, changes, embedder, params, sources, report, n_chunks, kind) -> Manifest:
    current, meta_digest = changes.current, changes.meta_digest
    return Manifest(
        format_version=FORMAT_VERSION,
        embedder_id=embedder.id,
        dim=embedder.dim,
        chunking=_chunking_record(params),
        documents={d: current[d] for d in current if d not in {s.doc_id for s in report.skipped}},
        sources=[str(s) for s in sources],
        n_chunks=n_chunks,
        faiss_kind=kind,
        approximate_threshold=params.approximate_threshold,
        faiss_params={"M": params.hnsw_m, "ef_construction": params.hnsw_ef_construction,
                      "ef_search": params.hnsw_ef_search} if kind == "hnsw" else {},
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        files={SQLITE_NAME: file_digest(gen / SQLITE_NAME), FAISS_NAME: file_digest(gen / FAISS_NAME)},
        skipped={s.doc_id: s.reason for s in report.skipped},
        skipped_sha={s.doc_id: current[s.doc_id] for s in report.skipped if s.doc_id in current},
        catalog={d: meta_digest[d] for d in current if meta_digest[d]},
    )


def _discard_generation(home: Path, gen: Path, db: sqlite3.Connection) -> None:
    """A failed build leaves no trace: close its database, remove its generation
    unless it already went live."""
    try:
        db.close()
    except sqlite3.Error:
        pass
    if live_generation(home) != gen:
        import shutil

        shutil.rmtree(gen, ignore_errors=True)


def _chunking_record(params: IndexParams) -> dict:
    """What decides chunk texts and vectors: a change means a full rebuild."""
    return {**asdict(params.chunking), "header": params.header, "readers": READERS_VERSION}


def _reusable_manifest(home: Path, embedder: Embedder, params: IndexParams, sources: list[Path]) -> Manifest | None:
    """The live manifest, if the new build can start from it (else: full rebuild)."""
    gen = live_generation(home)
    manifest = verified_manifest(gen) if gen is not None else None
    if manifest is None:
        return None  # no index, or a damaged or old-format one: rebuild from scratch
    same = (
        manifest.embedder_id == embedder.id
        and manifest.chunking == _chunking_record(params)
        and manifest.sources == [str(s) for s in sources]
    )
    return manifest if same else None


def _lacks_sentence_vectors(home: Path) -> bool:
    """Whether the live index was built before sentence vectors were stored: such an
    index embeds sentences at question time (seconds per question), so an otherwise
    up-to-date build still writes a new generation that adds them."""
    db_path = live_generation(home) / SQLITE_NAME
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sentence_vectors'"
                          ).fetchone() is None


def _copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(dst) as d:
        s.backup(d)


def _delete_document(db: sqlite3.Connection, doc_id: str) -> None:
    ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
    db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
    db.executemany("DELETE FROM sentences WHERE chunk = ?", [(i,) for i in ids])
    db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))


def contextual_text(doc: Document, chunk, params: IndexParams) -> str:
    """What is embedded and keyword-indexed for a chunk: its text under a header
    naming the document (and section), so a passage that never repeats its
    subject's name can still be found by it."""
    if params.header == "none":
        return chunk.text
    parts = [doc.title]
    if params.header == "title+section" and chunk.section and chunk.section != doc.title:
        parts.append(chunk.section)
    return " — ".join(parts) + "\n" + chunk.text


def _insert(db, chunks, embedder, cache, analyzer, report, progress, stage, params) -> None:
    from tqdm import tqdm

    texts = {c.chunk_id: contextual_text(doc, c, params) for doc, cs in chunks for c in cs}
    cached = cache.get_many(list(texts.values()))
    missing = [t for t in dict.fromkeys(texts.values()) if cache.key(t) not in cached]
    stage(f"embedding {len(missing)} of {len(texts)} new passages")
    bar = tqdm(
        total=len(missing), desc="embedding passages", unit="chunk",
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
    )
    # A distributed embedder (index.ray_embed) takes every passage as one job.
    step = max(1, len(missing)) if getattr(embedder, "prefers_one_batch", False) else EMBED_BATCH
    for i in range(0, len(missing), step):
        batch = missing[i : i + step]
        vecs = embedder.embed_passages(batch)
        cache.put_many(batch, vecs)
        for t, v in zip(batch, vecs):
            cached[cache.key(t)] = v
        report.chunks_embedded += len(batch)
        bar.update(len(batch))
    bar.close()
    for doc, doc_chunks in chunks:
        headings = {off for off, _ in doc.headings}  # section names, never quoted
        db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, doc.title, doc.source, doc.date, doc.language, doc.format, doc.sha256, doc.text, len(doc_chunks)),
        )
        db.executemany("INSERT INTO pages (doc_id, page, start) VALUES (?, ?, ?)",
                       [(doc.doc_id, n, start) for n, start in enumerate(doc.pages, 1)])
        for c in doc_chunks:
            text = texts[c.chunk_id]
            cur = db.execute(
                "INSERT INTO chunks (chunk_id, doc_id, ordinal, start, end, section, text, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.section, c.text,
                 vector_blob(cached[cache.key(text)])),
            )
            analyzed = analyzer.analyze(text)
            db.execute(
                "INSERT INTO chunks_fts (rowid, stems, words) VALUES (?, ?, ?)",
                (cur.lastrowid, " ".join(analyzed.stems), " ".join(analyzed.words)),
            )
            # Sentences with their stems: answer selection and passage re-ranking
            # read them at question time instead of re-analyzing text.
            db.executemany(
                "INSERT INTO sentences (chunk, start, end, stems) VALUES (?, ?, ?, ?)",
                [(cur.lastrowid, sp.start, sp.end,
                  " ".join(sorted(set(analyzer.analyze(doc.text[sp.start:sp.end]).stems))))
                 for sp in split_sentences(doc.text, c.start, c.end) if sp.start not in headings],
            )


def _write_faiss(db: sqlite3.Connection, path: Path, dim: int, params: IndexParams) -> tuple[int, str]:
    import faiss

    ids, vecs = [], []
    for row_id, blob in db.execute("SELECT id, vector FROM chunks ORDER BY id"):
        ids.append(row_id)
        vecs.append(np.frombuffer(blob, dtype=np.float32))
    n = len(ids)
    matrix = np.vstack(vecs).astype(np.float32) if vecs else np.zeros((0, dim), np.float32)
    if n > params.approximate_threshold:
        inner = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = params.hnsw_ef_construction
        kind = "hnsw"
    else:
        inner = faiss.IndexFlatIP(dim)
        kind = "flat"
    index = faiss.IndexIDMap2(inner)
    if n:
        index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))
    tmp = path.with_name(path.name + ".tmp")
    try:
        faiss.write_index(index, str(tmp))
    except RuntimeError as exc:  # a C++ message over several lines: one line that names the file
        raise RuntimeError(f"{path}: cannot write the vectors ({one_line(exc)})") from exc
    with open(tmp, "rb") as f:  # on disk before the manifest that vouches for it
        os.fsync(f.fileno())
    tmp.replace(path)
    return n, kind
