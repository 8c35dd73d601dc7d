"""The FAISS + SQLite store: one generation on disk, loaded read-only (index.schema
names its files). It implements index.facade.SearchIndex; the rest of Isnad reaches
it through the `index` package, never by its files.

A build writes a new generation beside the live one and switches CURRENT only
when it is complete, so a killed build never damages the index in use.
"""
from __future__ import annotations

import math
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from corpus.document import page_at
from index import sentence_vectors
from index.generations import (  # noqa: F401 (re-exported for the index's tests)
    CURRENT_NAME,
    hold_reader_lock,
    index_root,
    live_generation,
)
from index.lexical import ArabicAnalyzer, fts_query
from index.manifest import (
    MANIFEST_NAME,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexProblem,
    Manifest,
    verify_files,
)
from index.records import IndexedChunk, StoredChunk, StoredDocument, StoredSentence
from index.schema import FAISS_NAME, SQLITE_NAME, search_single_thread

MEMO_CHUNKS = 4096  # parsed chunks / chunk sentences kept in memory by a loaded index
MEMO_SENTENCE_VECTORS = 65_536  # sentence vectors (1.5 KB each at 384 dimensions) kept likewise
_UNKNOWN = object()


class IndexStore:
    """A loaded, read-only index: FAISS in memory, SQLite for text and lexical search.

    Safe to share between threads (the web app answers several users at once).
    """

    def __init__(self, directory: Path, manifest: Manifest, faiss_index, analyzer: ArabicAnalyzer):
        self.directory = directory
        self.manifest = manifest
        self.analyzer = analyzer
        self._faiss = faiss_index
        self._db = sqlite3.connect(
            f"file:{directory / SQLITE_NAME}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._doc_text: OrderedDict[str, str] = OrderedDict()  # small LRU of document texts
        self._pages: dict[str, tuple[int, ...]] = {}  # page start offsets by document
        # Parsed chunks and sentences by chunk id: every question re-reads the head of
        # its ranking, and parsing the same rows again was a third of a query's CPU
        # time outside the embedder (measured by `isnad bench`, profiled).
        self._chunk_memo: dict[int, StoredChunk] = {}
        self._sentence_memo: dict[int, list[StoredSentence]] = {}
        # Build-time sentence vectors by text (None: the index has none for it): every
        # question looks up the sentences of its head, hashing each and asking SQLite.
        self._vector_memo: dict[str, np.ndarray | None] = {}
        self._titles = dict(self._db.execute("SELECT doc_id, title FROM documents"))
        # Document frequencies of stems, for IDF weights (temp: the index stays read-only).
        self._db.execute(
            "CREATE VIRTUAL TABLE temp.stem_vocab USING fts5vocab(main, chunks_fts, 'col')"
        )
        self._n_chunks = max(1, manifest.n_chunks)
        self._reader_lock = None  # set by open(): see index.generations.hold_reader_lock

    @classmethod
    def open(cls, home: Path, expected_embedder_id: str | None = None) -> "IndexStore":
        for attempt in range(3):
            directory = live_generation(home)
            try:
                return cls._open_generation(home, directory, expected_embedder_id)
            except IndexProblem:
                if attempt < 2 and live_generation(home) != directory:
                    continue  # a build made another generation live while we read: read that
                raise
        raise AssertionError("unreachable")

    @classmethod
    def _open_generation(cls, home: Path, directory: Path | None,
                         expected_embedder_id: str | None) -> "IndexStore":
        if directory is None:
            raise IndexMissingError(
                f"no index in {index_root(home)}; run `isnad index` to build it"
            )
        if not directory.is_dir():
            raise IndexCorruptError(
                f"{index_root(home) / CURRENT_NAME}: names {directory.name!r}, which is not "
                "there (damaged index); run `isnad index --rebuild`"
            )
        reader_lock = hold_reader_lock(directory)  # no build removes it while we read it
        try:
            store = cls._load(home, directory, expected_embedder_id)
        except BaseException:
            if reader_lock is not None:
                reader_lock.close()
            raise
        store._reader_lock = reader_lock
        return store

    @classmethod
    def _load(cls, home: Path, directory: Path, expected_embedder_id: str | None) -> "IndexStore":
        import faiss

        manifest = Manifest.read(directory / MANIFEST_NAME)
        if expected_embedder_id and manifest.embedder_id != expected_embedder_id:
            raise IndexMismatchError(
                f"the index in {directory} was built with embedder {manifest.embedder_id!r}, "
                f"not {expected_embedder_id!r}; run `isnad index --rebuild` "
                f"(or choose embedder {manifest.embedder_id!r})"
            )
        verify_files(directory, manifest)
        try:
            vectors = faiss.read_index(str(directory / FAISS_NAME))
        except RuntimeError as exc:
            raise IndexCorruptError(
                f"{directory / FAISS_NAME}: unreadable ({_first_line(exc)}); run `isnad index --rebuild`"
            ) from exc
        if vectors.ntotal != manifest.n_chunks or vectors.d != manifest.dim:
            raise IndexCorruptError(
                f"{directory / FAISS_NAME}: holds {vectors.ntotal} vectors of dimension "
                f"{vectors.d}, manifest says {manifest.n_chunks} of {manifest.dim}; "
                "run `isnad index --rebuild`"
            )
        if manifest.faiss_kind == "hnsw":
            faiss.downcast_index(vectors.index).hnsw.efSearch = int(manifest.faiss_params.get("ef_search", 64))
        try:
            store = cls(directory, manifest, vectors, ArabicAnalyzer())
            n_rows = store._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(
                f"{directory / SQLITE_NAME}: unreadable ({exc}); run `isnad index --rebuild`"
            ) from exc
        if n_rows != manifest.n_chunks:
            store.close()
            raise IndexCorruptError(
                f"{directory / SQLITE_NAME}: {n_rows} chunks, manifest says "
                f"{manifest.n_chunks}; run `isnad index --rebuild`"
            )
        return store

    # -- search -----------------------------------------------------------------------
    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._faiss.ntotal == 0:
            return []
        k = min(k, self._faiss.ntotal)
        scores, ids = search_single_thread(self._faiss, query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def lexical_search(
        self, stems: list[str], words: list[str], k: int, word_weight: float = 1.0
    ) -> list[tuple[int, float]]:
        """BM25 over the FTS5 index; returns (chunk id, score) with larger = better."""
        parts = []
        stem_q = fts_query(stems)
        word_q = fts_query(words)
        if stem_q:
            parts.append(f"stems : ({stem_q})")
        if word_q:
            parts.append(f"words : ({word_q})")
        if not parts:
            return []
        expr = " OR ".join(parts)
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, -bm25(chunks_fts, 1.0, ?) AS score FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY score DESC LIMIT ?",
                (word_weight, expr, k),
            ).fetchall()
        return [(int(r), float(s)) for r, s in rows]

    def idf(self, stems: list[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of each stem over the chunks."""
        unique = list(dict.fromkeys(stems))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        with self._lock:
            rows = dict(self._db.execute(
                f"SELECT term, doc FROM temp.stem_vocab WHERE col = 'stems' AND term IN ({marks})",
                unique,
            ))
        n = self._n_chunks
        return {t: math.log(1 + (n - rows.get(t, 0) + 0.5) / (rows.get(t, 0) + 0.5)) for t in unique}

    def sentences(self, chunk_ids: list[int]) -> dict[int, list[StoredSentence]]:
        """The analyzed sentences of each chunk, in document order. The lists are
        memoized (the index is read-only): callers must not modify them."""
        memo = self._sentence_memo
        out: dict[int, list[StoredSentence]] = {}
        missing = []
        for c in chunk_ids:
            hit = memo.get(c)
            if hit is None:
                missing.append(c)
            else:
                out[c] = hit
        if not missing:
            return out
        fresh: dict[int, list[StoredSentence]] = {c: [] for c in missing}
        marks = ",".join("?" * len(missing))
        with self._lock:
            rows = self._db.execute(
                f"SELECT chunk, start, end, stems FROM sentences WHERE chunk IN ({marks}) "
                "ORDER BY chunk, start",
                missing,
            ).fetchall()
        for chunk, start, end, stems in rows:
            fresh[chunk].append(StoredSentence(chunk, start, end, frozenset(stems.split())))
        if len(memo) + len(fresh) > MEMO_CHUNKS:
            memo.clear()  # bounded: a large index keeps only the recently used chunks
        memo.update(fresh)
        out.update(fresh)
        return {c: out[c] for c in chunk_ids}

    def sentence_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Build-time vectors of these sentence texts, keyed by text (index.sentence_vectors).
        Memoized (the index is read-only): callers must not modify the arrays."""
        memo = self._vector_memo
        known = {t: memo.get(t, _UNKNOWN) for t in texts}  # one get each: a clear may come between
        missing = [t for t, v in known.items() if v is _UNKNOWN]
        fresh = sentence_vectors.lookup(self._db, self._lock, missing, self.manifest.dim) if missing else {}
        if missing:
            if len(memo) + len(missing) > MEMO_SENTENCE_VECTORS:
                memo.clear()  # bounded: a large index keeps only the recently used sentences
            memo.update({t: fresh.get(t) for t in missing})
        return {t: v for t, v in ((t, fresh.get(t) if v is _UNKNOWN else v) for t, v in known.items())
                if v is not None}

    def vocabulary(self) -> list[tuple[str, int]]:
        """Every surface word of the lexical index with the number of chunks holding it."""
        with self._lock:
            return self._db.execute("SELECT term, doc FROM temp.stem_vocab WHERE col = 'words'").fetchall()

    # -- records ------------------------------------------------------------------------
    def chunks(self, ids: list[int]) -> dict[int, StoredChunk]:
        memo = self._chunk_memo
        out = {i: memo[i] for i in ids if i in memo}
        missing = [i for i in ids if i not in out]
        if not missing:
            return out
        marks = ",".join("?" * len(missing))
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, chunk_id, doc_id, section, start, end, text FROM chunks "
                f"WHERE id IN ({marks})",
                missing,
            ).fetchall()
        fresh = {
            r[0]: StoredChunk(r[0], r[1], r[2], self._titles.get(r[2], r[2]), r[3] or "", r[4], r[5], r[6])
            for r in rows
        }
        if len(memo) + len(fresh) > MEMO_CHUNKS:
            memo.clear()
        memo.update(fresh)
        out.update(fresh)
        return {i: out[i] for i in ids if i in out}

    def document_text(self, doc_id: str) -> str:
        with self._lock:
            if doc_id in self._doc_text:
                self._doc_text.move_to_end(doc_id)
                return self._doc_text[doc_id]
            row = self._db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
            if row is None:
                raise KeyError(doc_id)
            self._doc_text[doc_id] = row[0]
            if len(self._doc_text) > 32:
                self._doc_text.popitem(last=False)
            return row[0]

    def page_starts(self, doc_id: str) -> tuple[int, ...]:
        """Offsets where each page of a paged document (PDF) starts; () otherwise."""
        with self._lock:
            if doc_id not in self._pages:
                try:
                    rows = self._db.execute(
                        "SELECT start FROM pages WHERE doc_id = ? ORDER BY page", (doc_id,)
                    ).fetchall()
                except sqlite3.OperationalError:  # an index built before pages were stored
                    rows = []
                if len(self._pages) > 256:
                    self._pages.clear()
                self._pages[doc_id] = tuple(r[0] for r in rows)
            return self._pages[doc_id]

    def page_of(self, doc_id: str, offset: int) -> int | None:
        """The 1-based page holding `offset` in a paged document; None otherwise."""
        return page_at(self.page_starts(doc_id), offset)

    def documents(self) -> list[StoredDocument]:
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id, title, source, date, language, format, n_chunks "
                "FROM documents ORDER BY doc_id"
            ).fetchall()
        return [StoredDocument(*r) for r in rows]

    def all_chunks(self) -> list[IndexedChunk]:
        """Every chunk with its stored vector, in id order (read-only)."""
        dim = self.manifest.dim
        with self._lock:
            rows = self._db.execute(
                "SELECT chunk_id, doc_id, start, end, text, vector FROM chunks ORDER BY id"
            ).fetchall()
        out = []
        for chunk_id, doc_id, start, end, text, blob in rows:
            vec = np.frombuffer(blob, dtype=np.float32)
            if vec.shape[0] != dim:
                raise IndexCorruptError(f"{self.directory}: chunk {chunk_id} has a {vec.shape[0]}-d vector, "
                                        f"the manifest says {dim}; run `isnad index --rebuild`")
            out.append(IndexedChunk(chunk_id, doc_id, int(start), int(end), text, vec))
        return out

    @property
    def generation(self) -> str:
        """The name of the loaded generation (index.facade.live_generation_name compares it)."""
        return self.directory.name

    def close(self) -> None:
        self._db.close()
        if self._reader_lock is not None:
            self._reader_lock.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[-1] if lines else type(exc).__name__)[:200]
