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
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, text_sha TEXT, vector BLOB, "
            "PRIMARY KEY (embedder, text_sha))"
        )
        self._embedder_id = embedder_id
        self._dim = dim

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
