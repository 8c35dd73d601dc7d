"""A persistent cache of passage vectors keyed by (embedder id, text hash).

It makes an interrupted build resume where it stopped, and re-indexing text that
was embedded before (an unchanged passage of a changed document) free.
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, path: Path, embedder_id: str, dim: int) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.notice: str | None = None  # set when a damaged cache file was set aside
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as exc:  # only a cache: start a new one, keep the old
            aside = path.with_name(path.name + ".damaged")
            path.replace(aside)
            self.notice = f"embedding cache {path} was unreadable ({exc}); moved to {aside.name}, starting afresh"
            self._db = self._open(path)
        self._embedder_id = embedder_id
        self._dim = dim

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, text_sha TEXT, vector BLOB, "
                "PRIMARY KEY (embedder, text_sha))"
            )
            db.execute("SELECT count(*) FROM vectors WHERE rowid = 1").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, texts: list[str]) -> dict[str, np.ndarray]:
        keys = list({self.key(t) for t in texts})
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._db.execute(
                f"SELECT text_sha, vector FROM vectors WHERE embedder = ? AND text_sha IN "
                f"({','.join('?' * len(part))})",
                [self._embedder_id, *part],
            )
            for sha, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self._dim,):
                    found[sha] = vec
        return found

    def put_many(self, texts: list[str], vectors: np.ndarray) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            [(self._embedder_id, self.key(t), np.asarray(v, np.float32).tobytes()) for t, v in zip(texts, vectors)],
        )
        self._db.commit()  # every batch: a killed build keeps what it paid for

    def close(self) -> None:
        self._db.close()
