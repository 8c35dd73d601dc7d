"""The files of one generation and the SQLite schema the builder writes and the store reads.

    chunks.sqlite   documents, chunks, vectors (BLOB), sentences, pages, FTS5 lexical index
    vectors.faiss   FAISS index over the chunk vectors, ids = chunks.id
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

SQLITE_NAME = "chunks.sqlite"
FAISS_NAME = "vectors.faiss"

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, date TEXT,
    language TEXT, format TEXT, sha256 TEXT NOT NULL, text TEXT NOT NULL,
    n_chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id), ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, section TEXT, text TEXT NOT NULL,
    vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS sentences (
    chunk INTEGER NOT NULL REFERENCES chunks(id), start INTEGER NOT NULL,
    end INTEGER NOT NULL, stems TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences(chunk);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL, page INTEGER NOT NULL, start INTEGER NOT NULL,
    PRIMARY KEY (doc_id, page));
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    stems, words, tokenize='unicode61 remove_diacritics 0');
"""


def open_writable(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def vector_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def search_single_thread(index, queries: np.ndarray, k: int):
    """`index.search` on the calling thread only. For one query FAISS still opens OpenMP
    parallel regions (IndexIDMap2's label mapping; flat scans over many vectors); on a
    busy machine waiting for the second thread to get a CPU cost 7 ms on average and up
    to 30 ms per query over 166 vectors (measured by `isnad bench`), for work that takes
    microseconds on one core. omp_set_num_threads is per calling thread in libgomp, and
    the previous value is restored, so index builds keep their threads."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(before)
