"""Build or update the persisted index, incrementally and atomically.

Unchanged documents (same sha256) keep their chunks and vectors; changed and new
documents are re-chunked and embedded (through the embedding cache); removed
documents leave. The result is written as a new generation and made live with one
atomic rename, so an interrupted build leaves the previous index untouched.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from corpus.chunker import ChunkingParams, chunk_document
from corpus.document import Document, DocumentError
from corpus.loaders import Skipped, file_sha256, list_files, load_document, read_catalog
from corpus.sentences import split_sentences
from index.embedders import Embedder
from index.embedding_cache import EmbeddingCache
from index.lexical import ArabicAnalyzer
from index.manifest import FORMAT_VERSION, MANIFEST_NAME, IndexProblem, Manifest
from index.sentence_vectors import add_sentence_vectors
from index.store import (
    CURRENT_NAME,
    FAISS_NAME,
    SQLITE_NAME,
    file_digest,
    index_root,
    live_generation,
    open_writable,
    vector_blob,
    write_atomic,
)

EMBED_BATCH = 16
LOCK_NAME = ".build.lock"
# Test-only hook (tests/test_reliability.py): ISNAD_TEST_PAUSE_AT=<stage> parks a build
# at that stage so a test can SIGKILL it there. Stages: embedding, sqlite, faiss,
# manifest, switch. Never set in normal use.
PAUSE_ENV = "ISNAD_TEST_PAUSE_AT"


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
    """Bring the index in `home` up to date with the documents under `sources`.

    One build at a time per home (a lock file; a second build waits for the first)."""
    params = params or IndexParams()
    stage = on_stage or (lambda _msg: None)
    sources = [Path(s).resolve() for s in sources]
    with _build_lock(index_root(home), stage):
        return _build_locked(home, sources, embedder, params, rebuild, progress, stage)


@contextlib.contextmanager
def _build_lock(root: Path, stage: Callable[[str], None]):
    """An exclusive lock on the index directory for the whole build (released by the
    kernel if the process dies), so two builds never delete each other's work."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stage(f"waiting for another build of {root} to finish")
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _test_pause(stage: str) -> None:
    """See PAUSE_ENV: test-only, a no-op unless that variable names this stage."""
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"isnad-test: paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(3600)


def _build_locked(home, sources, embedder, params, rebuild, progress, stage) -> BuildReport:
    t0 = time.perf_counter()
    report = BuildReport()
    files = _collect_files(sources)

    previous = None if rebuild else _reusable_manifest(home, embedder, params, sources)
    old_docs = previous.documents if previous else {}
    old_meta = previous.catalog if previous else {}
    current = {doc_id: file_sha256(path) for doc_id, (path, _) in files.items()}
    # A catalog entry is part of the document: editing a title re-indexes it.
    meta_digest = {doc_id: _meta_digest(m) for doc_id, (_, m) in files.items()}

    def same(d: str) -> bool:
        return old_docs.get(d) == current[d] and old_meta.get(d, "") == meta_digest[d]

    report.removed = sorted(set(old_docs) - set(current))
    report.unchanged = sorted(d for d in current if d in old_docs and same(d))
    report.changed = sorted(d for d in current if d in old_docs and not same(d))
    # Files skipped last time are retried once they change (the user may have
    # fixed them); an unchanged bad file stays skipped without a new build.
    old_skipped = previous.skipped_sha if previous else {}
    still_skipped = sorted(
        d for d in current
        if d not in old_docs and d in previous.skipped and old_skipped.get(d) == current[d]
    ) if previous else []
    report.added = sorted(d for d in current if d not in old_docs and d not in still_skipped)
    if previous and report.up_to_date:
        _remove_abandoned_generations(index_root(home))  # e.g. left by a build killed after its switch
        report.chunks_total = previous.n_chunks
        report.faiss_kind = previous.faiss_kind
        report.directory = str(live_generation(home))
        report.skipped = [Skipped(d, previous.skipped[d]) for d in still_skipped]
        report.seconds = time.perf_counter() - t0
        return report

    root = index_root(home)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_generations(root)
    gen = root / f"gen-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
    gen.mkdir()
    db_path = gen / SQLITE_NAME
    if previous:
        _copy_sqlite(live_generation(home) / SQLITE_NAME, db_path)
    db = open_writable(db_path)
    analyzer = ArabicAnalyzer()
    cache = EmbeddingCache(Path(home) / "cache" / "embeddings.sqlite", embedder.id, embedder.dim)
    if cache.notice:
        stage(cache.notice)
    try:
        for doc_id in report.removed + report.changed:
            _delete_document(db, doc_id)
        to_load = report.changed + report.added
        docs: list[Document] = []
        stage(f"reading {len(to_load)} document(s)")
        for doc_id in to_load:
            path, meta = files[doc_id]
            try:
                docs.append(load_document(path, doc_id, meta))
            except DocumentError as exc:
                report.skipped.append(Skipped(doc_id, str(exc)))
        report.skipped += [Skipped(d, previous.skipped[d]) for d in still_skipped]
        chunks = [(doc, chunk_document(doc, params.chunking)) for doc in docs]
        _insert(db, chunks, embedder, cache, analyzer, report, progress, stage, params)
        if params.sentence_vectors:  # cross-lingual quotes (see index.sentence_vectors)
            add_sentence_vectors(db, embedder, cache, stage)
        _test_pause("sqlite")
        db.commit()
        stage("writing vectors")
        n_chunks, kind = _write_faiss(db, gen / FAISS_NAME, embedder.dim, params)
        db.execute("VACUUM") if report.removed or report.changed else None
        db.close()
        manifest = Manifest(
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
            files={SQLITE_NAME: file_digest(db_path), FAISS_NAME: file_digest(gen / FAISS_NAME)},
            skipped={s.doc_id: s.reason for s in report.skipped},
            skipped_sha={s.doc_id: current[s.doc_id] for s in report.skipped if s.doc_id in current},
            catalog={d: meta_digest[d] for d in current if meta_digest[d]},
        )
        write_atomic(gen / MANIFEST_NAME, manifest.to_json())
        _test_pause("manifest")
        old = live_generation(home)
        write_atomic(root / CURRENT_NAME, gen.name)  # the one step that makes it live
        _test_pause("switch")
        if old and old.exists() and old != gen:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        try:
            db.close()
        except sqlite3.Error:
            pass
        shutil.rmtree(gen, ignore_errors=True)
        raise
    finally:
        cache.close()
    report.chunks_total = n_chunks
    report.faiss_kind = kind
    report.directory = str(gen)
    report.seconds = time.perf_counter() - t0
    return report


def _chunking_record(params: IndexParams) -> dict:
    """What decides chunk texts and vectors: a change means a full rebuild."""
    return {**asdict(params.chunking), "header": params.header}


def _meta_digest(meta: dict) -> str:
    """A digest of a document's catalog entry ("" when it has none)."""
    if not meta:
        return ""
    data = json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _collect_files(sources: list[Path]) -> dict[str, tuple[Path, dict]]:
    """doc_id -> (path, catalog entry). With several sources, doc_ids get the
    source folder's name in front so they stay unique."""
    files: dict[str, tuple[Path, dict]] = {}
    for src in sources:
        if not src.is_dir():
            raise IndexProblem(f"{src}: not a directory of documents")
        catalog = read_catalog(src)
        for rel, path in list_files(src).items():
            doc_id = rel if len(sources) == 1 else f"{src.name}/{rel}"
            files[doc_id] = (path, catalog.get(rel, {}))
    return files


def _reusable_manifest(home: Path, embedder: Embedder, params: IndexParams, sources: list[Path]) -> Manifest | None:
    """The live manifest, if the new build can start from it (else: full rebuild)."""
    gen = live_generation(home)
    if gen is None:
        return None
    try:
        manifest = Manifest.read(gen / MANIFEST_NAME)
        from index.store import verify_files

        verify_files(gen, manifest)
    except IndexProblem:
        return None  # damaged or old-format index: rebuild from scratch
    same = (
        manifest.embedder_id == embedder.id
        and manifest.chunking == _chunking_record(params)
        and manifest.sources == [str(s) for s in sources]
    )
    return manifest if same else None


def _remove_abandoned_generations(root: Path) -> None:
    """Generations (and CURRENT temp files) left by a killed build, never the live
    one. Only called under the build lock, so no other build is writing them."""
    live = live_generation(root.parent)
    for d in root.glob("gen-*"):
        if live is None or d.name != live.name:
            shutil.rmtree(d, ignore_errors=True)
    for tmp in root.glob(CURRENT_NAME + ".tmp*"):
        tmp.unlink(missing_ok=True)


def _copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(dst) as d:
        s.backup(d)


def _delete_document(db: sqlite3.Connection, doc_id: str) -> None:
    ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
    db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
    db.executemany("DELETE FROM sentences WHERE chunk = ?", [(i,) for i in ids])
    db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))


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
    for i in range(0, len(missing), EMBED_BATCH):
        batch = missing[i : i + EMBED_BATCH]
        vecs = embedder.embed_passages(batch)
        cache.put_many(batch, vecs)
        for t, v in zip(batch, vecs):
            cached[cache.key(t)] = v
        report.chunks_embedded += len(batch)
        bar.update(len(batch))
        if i == 0:
            _test_pause("embedding")
    bar.close()
    for doc, doc_chunks in chunks:
        db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, doc.title, doc.source, doc.date, doc.language, doc.format, doc.sha256, doc.text, len(doc_chunks)),
        )
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
                 for sp in split_sentences(doc.text, c.start, c.end)],
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
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as f:  # on disk before the manifest that vouches for it
        os.fsync(f.fileno())
    _test_pause("faiss")
    tmp.replace(path)
    return n, kind
