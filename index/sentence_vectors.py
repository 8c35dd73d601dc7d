"""Sentence vectors, embedded at build time and stored in the index.

A question in another language than a passage cannot be matched to the passage's
sentences by keywords; its similarity to each sentence's vector picks the sentence
to quote. Embedding those sentences at question time cost 100-300 ms per question,
so a build embeds every quotable sentence once (through the embedding cache: an
unchanged sentence is never embedded twice) and keeps the vectors in
chunks.sqlite, keyed by the SHA-256 of the sentence text.

An index built before this table existed still works: the lookup finds nothing and
the caller embeds the sentences it needs at question time (seconds per question), and
the next `isnad index` adds the table even when no document changed.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable

import numpy as np

TABLE_SQL = ("CREATE TABLE IF NOT EXISTS sentence_vectors ("
             "text_sha TEXT PRIMARY KEY, vector BLOB NOT NULL)")
MIN_WORDS = 4  # shorter lines (headings, captions) are never quoted: not worth a vector
BATCH = 64


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_sentence_vectors(db: sqlite3.Connection, embedder, cache,
                         stage: Callable[[str], None] = lambda _m: None) -> int:
    """Give every sentence of the index (of MIN_WORDS words or more) a stored vector and
    drop the vectors no sentence uses any more. Returns how many were embedded now."""
    db.execute(TABLE_SQL)
    texts: dict[str, str] = {}
    docs = dict(db.execute("SELECT doc_id, text FROM documents"))
    for doc_id, start, end in db.execute(
        "SELECT c.doc_id, s.start, s.end FROM sentences s JOIN chunks c ON c.id = s.chunk"
    ):
        sentence = docs[doc_id][start:end]
        if len(sentence.split()) >= MIN_WORDS:
            texts.setdefault(text_key(sentence), sentence)
    stored = {r[0] for r in db.execute("SELECT text_sha FROM sentence_vectors")}
    stale = stored - texts.keys()
    db.executemany("DELETE FROM sentence_vectors WHERE text_sha = ?", [(k,) for k in stale])
    todo = [(k, t) for k, t in texts.items() if k not in stored]
    if not todo:
        return 0
    cached = cache.get_many([t for _, t in todo])
    missing = [t for _, t in todo if cache.key(t) not in cached]
    stage(f"embedding {len(missing)} of {len(todo)} new sentences")
    embedded = 0
    for i in range(0, len(missing), BATCH):
        batch = missing[i : i + BATCH]
        vecs = embedder.embed_passages(batch)
        cache.put_many(batch, vecs)
        cached.update({cache.key(t): v for t, v in zip(batch, vecs)})
        embedded += len(batch)
    db.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?, ?)",
                   [(k, np.asarray(cached[cache.key(t)], np.float32).tobytes()) for k, t in todo])
    return embedded


def lookup(db: sqlite3.Connection, lock: threading.Lock, texts: list[str], dim: int) -> dict[str, np.ndarray]:
    """Stored vectors of `texts`, keyed by text (missing ones left out)."""
    keys = {text_key(t): t for t in texts}
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    try:
        with lock:
            rows = db.execute(
                f"SELECT text_sha, vector FROM sentence_vectors WHERE text_sha IN ({marks})", list(keys)
            ).fetchall()
    except sqlite3.OperationalError:  # an index built before sentence vectors existed
        return {}
    out = {}
    for sha, blob in rows:
        vec = np.frombuffer(blob, dtype=np.float32)
        if vec.shape == (dim,):
            out[keys[sha]] = vec
    return out
