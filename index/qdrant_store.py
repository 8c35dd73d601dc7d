"""A loaded index read from Qdrant: what `index.store.IndexStore` offers the engine,
from the points `index.qdrant_publish` wrote, and nothing from local files.

Dense search is Qdrant's (HNSW above its indexing threshold), keyword search is the
sparse "lex" vector (Isnad's stems and words, BM25 weights, IDF modifier), and the
records (chunks, sentences, documents, statistics) are payloads read by id. Safe to
share between threads; records are memoized: what a store reads never changes. On
a server an update writes into the live collection, but its points are invisible to
a store opened before its flip (searches filter on the store's update number `gen`,
records are read by ids of that update; index.qdrant_server); the engine notices the
new number and opens the store again.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import numpy as np

from corpus.document import page_at
from index import sentence_vectors
from index.lexical import ArabicAnalyzer
from index.manifest import IndexMismatchError, IndexMissingError, Manifest
from index.qdrant_backend import CHUNK_ID_SPAN, point_uuid
from index.qdrant_publish import META_ID, bucket_of, doc_point_id, idf, sparse_query, stat_point_id
from index.records import IndexedChunk, StoredChunk, StoredDocument, StoredSentence
from index.store import MEMO_CHUNKS


class QdrantStore:
    def __init__(self, backend, generation: str, meta: dict, directory: Path | None) -> None:
        self.backend = backend
        self._generation = generation
        self.kind = backend.kind
        # The staging generation this was published from (the engine compares it with
        # the data directory's live one to notice a newer build).
        self.directory = directory
        raw = json.loads(meta["manifest"])
        self.manifest = replace(Manifest(**{k: v for k, v in raw.items() if k != "checksum"}),
                                n_chunks=int(meta["n_chunks"]))
        self.analyzer = ArabicAnalyzer()
        self._n_chunks = max(1, int(meta["n_chunks"]))
        self._gen = int(meta.get("gen", 0))  # the update this store reads (0: a full build)
        self._doc_gens: dict[str, int] = meta.get("doc_gens") or {}
        self._lock = threading.Lock()
        self._chunk_memo: dict[int, StoredChunk] = {}
        self._sentence_memo: dict[int, list[StoredSentence]] = {}
        self._doc_memo: OrderedDict[str, dict] = OrderedDict()
        self._df_memo: dict[tuple[str, int], dict[str, int]] = {}
        self._documents = [StoredDocument(*row) for row in meta.get("documents") or []]
        self._titles = {d.doc_id: d.title for d in self._documents}

    @classmethod
    def open(cls, backend, expected_embedder_id: str | None = None,
             directory: Path | None = None) -> "QdrantStore":
        live = backend.live_name()
        if live is None:
            raise IndexMissingError(f"no index in {backend.kind}; run `isnad index` to build it")
        backend.open(live)
        meta = backend.retrieve([META_ID]).get(META_ID)
        if meta is None:
            raise IndexMissingError(f"{backend.kind} generation {live} has no manifest; run `isnad index --rebuild`")
        payload = meta[0]
        embedder_id = json.loads(payload["manifest"])["embedder_id"]
        if expected_embedder_id and embedder_id != expected_embedder_id:
            raise IndexMismatchError(
                f"the index in {backend.kind} was built with embedder {embedder_id!r}, "
                f"not {expected_embedder_id!r}; run `isnad index --rebuild`")
        return cls(backend, live, payload, directory)

    @property
    def generation(self) -> str:
        """The Qdrant generation this store reads (shard directory, or collection and
        update number: index.qdrant_server.ClientBackend.live_version)."""
        return self.backend.version_name(self._generation, self._gen)

    # -- search -----------------------------------------------------------------------
    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.backend.dense(np.asarray(query_vector, dtype=np.float32).ravel().tolist(), k, self._gen)

    def lexical_search(self, stems: list[str], words: list[str], k: int,
                       word_weight: float = 1.0) -> list[tuple[int, float]]:
        indices, values = sparse_query(stems, words, word_weight)
        return self.backend.sparse(indices, values, k, self._gen) if indices else []

    def _df(self, column: str, terms: list[str]) -> dict[str, int]:
        buckets = {bucket_of(t.lower()) for t in terms}
        missing = [b for b in buckets if (column, b) not in self._df_memo]
        if missing:
            got = self.backend.retrieve([stat_point_id(column, b, self._gen) for b in missing])
            for b in missing:
                hit = got.get(stat_point_id(column, b, self._gen))
                self._df_memo[(column, b)] = (hit[0].get("terms") or {}) if hit else {}
        return {t: int(self._df_memo[(column, bucket_of(t.lower()))].get(t.lower(), 0)) for t in terms}

    def idf(self, stems: list[str]) -> dict[str, float]:
        unique = list(dict.fromkeys(stems))
        df = self._df("stems", unique)
        return {t: idf(df[t], self._n_chunks) for t in unique}

    def vocabulary(self) -> list[tuple[str, int]]:
        """Every surface word with the number of chunks holding it (all word buckets)."""
        from index.qdrant_publish import BUCKETS

        ids = {stat_point_id("words", b, self._gen): b for b in range(BUCKETS)}
        out: list[tuple[str, int]] = []
        for pid, (payload, _) in self.backend.retrieve(list(ids)).items():
            out += [(t, int(n)) for t, n in (payload.get("terms") or {}).items()]
        return out

    def sentences(self, chunk_ids: list[int]) -> dict[int, list[StoredSentence]]:
        self.chunks(chunk_ids)  # sentences travel in the chunk's payload
        return {c: self._sentence_memo.get(c, []) for c in chunk_ids}

    def sentence_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        keys = {point_uuid("sentence", sentence_vectors.text_key(t)): t for t in texts}
        if not keys:
            return {}
        got = self.backend.retrieve(list(keys), vector=True)
        return {keys[pid]: np.asarray(vec, dtype=np.float32) for pid, (_, vec) in got.items()
                if vec is not None and pid in keys}

    # -- records ----------------------------------------------------------------------
    def chunks(self, ids: list[int]) -> dict[int, StoredChunk]:
        memo = self._chunk_memo
        missing = [i for i in dict.fromkeys(ids) if i not in memo]
        if missing:
            got = self.backend.retrieve(missing)
            fresh, sents = {}, {}
            for pid, (p, _) in got.items():
                if p.get("kind") != "chunk":
                    continue
                fresh[pid] = StoredChunk(pid, p["chunk_id"], p["doc_id"], p.get("title") or p["doc_id"],
                                         p.get("section") or "", int(p["start"]), int(p["end"]), p["text"])
                sents[pid] = [StoredSentence(pid, int(s), int(e), frozenset(stems.split()))
                              for s, e, stems in p.get("sentences") or []]
            with self._lock:
                if len(memo) + len(fresh) > MEMO_CHUNKS:
                    memo.clear()
                    self._sentence_memo.clear()
                memo.update(fresh)
                self._sentence_memo.update(sents)
            return {i: (memo.get(i) or fresh[i]) for i in ids if i in memo or i in fresh}
        return {i: memo[i] for i in ids if i in memo}

    def all_chunks(self) -> list[IndexedChunk]:
        """Every chunk with its stored vector, in id order (a scroll over the collection)."""
        # In the staging index's row order (an update's points have ids of their own).
        rows = sorted(self.backend.scroll_chunks(self._gen), key=lambda r: r[0] % CHUNK_ID_SPAN)
        return [IndexedChunk(p["chunk_id"], p["doc_id"], int(p["start"]), int(p["end"]), p["text"],
                             np.asarray(vec, dtype=np.float32)) for _, p, vec in rows]

    def _doc(self, doc_id: str) -> dict | None:
        with self._lock:
            if doc_id in self._doc_memo:
                self._doc_memo.move_to_end(doc_id)
                return self._doc_memo[doc_id]
        pid = doc_point_id(doc_id, int(self._doc_gens.get(doc_id, 0)))
        hit = self.backend.retrieve([pid]).get(pid)
        if hit is None:
            return None
        with self._lock:
            self._doc_memo[doc_id] = hit[0]
            if len(self._doc_memo) > 32:
                self._doc_memo.popitem(last=False)
        return hit[0]

    def document_text(self, doc_id: str) -> str:
        doc = self._doc(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        return doc["text"]

    def page_starts(self, doc_id: str) -> tuple[int, ...]:
        doc = self._doc(doc_id)
        return tuple(doc.get("pages") or ()) if doc else ()

    def page_of(self, doc_id: str, offset: int) -> int | None:
        return page_at(self.page_starts(doc_id), offset)

    def documents(self) -> list[StoredDocument]:
        return list(self._documents)

    def title(self, doc_id: str) -> str:
        return self._titles.get(doc_id, doc_id)

    def close(self) -> None:
        self.backend.close()  # each store has its own backend (index.stores.open_store)
