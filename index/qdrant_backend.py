"""The two ways Isnad reaches Qdrant, behind one small interface.

    EdgeBackend(root)      qdrant-edge: Qdrant's engine embedded in this process, one
                           shard directory per generation under HOME/qdrant-edge/,
                           CURRENT names the live one (as for the FAISS index).
    ClientBackend(url)     qdrant-client (index.qdrant_server): a Qdrant server or
                           cluster (or the client's local mode standing in for one). One
                           collection per full build; the alias ALIAS names the live one.

Either way a generation is filled completely before it is made live (an atomic
CURRENT rename, or one alias operation), so a killed build never leaves a half
index live. An update is atomic too: on qdrant-edge it is written into a copy of
the live shard; on a server into the live collection, where its points carry the
update's number `gen` and the points it replaces get `retired` = that number, both
invisible to readers (who filter on the live number, `visible`) until one point,
the manifest, is upserted with the new number (one atomic write). Points: chunks carry the dense vector "dense" and the sparse vector
"lex" (Isnad's stems and words, BM25 term weights, IDF by the collection's
modifier); the other points (documents, statistics, sentence vectors, the
manifest) carry no "dense"/"lex" vector and so never come up in a search.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import IsnadError

ALIAS = "isnad"
NAMESPACE = uuid.UUID("6f1b2d9c-6c4e-4a53-9b8e-3a1f0f2b7d11")


CHUNK_ID_SPAN = 2**40  # a chunk's point id: gen * CHUNK_ID_SPAN + its row id in the staging index


def point_uuid(kind: str, key: str) -> str:
    """A stable point id for a non-chunk record (a document, a bucket, a sentence)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def versioned_uuid(kind: str, key: str, gen: int) -> str:
    """The id of a record written by update `gen` (0: a full build, the plain id), so
    that an update never overwrites a point that readers still see."""
    return point_uuid(kind, key if not gen else f"{key}@{gen}")


def chunk_point_id(row_id: int, gen: int) -> int:
    """An update's chunk points never reuse a live id (SQLite may reuse a deleted row id)."""
    return int(gen) * CHUNK_ID_SPAN + int(row_id)


@dataclass
class PointData:
    id: int | str
    payload: dict
    dense: list[float] | None = None
    sparse: tuple[list[int], list[float]] | None = None
    sentence: list[float] | None = None
    extra: dict = field(default_factory=dict)

    def vectors(self, sparse_vector) -> dict:
        """The point's named vectors; `sparse_vector(indices, values)` makes the client's
        sparse type (qdrant_edge and qdrant_client each have their own)."""
        vec: dict = {}
        if self.dense is not None:
            vec["dense"] = self.dense
        if self.sentence is not None:
            vec["sentence"] = self.sentence
        if self.sparse is not None:
            vec["lex"] = sparse_vector(*self.sparse)
        return vec


class QdrantUnavailable(IsnadError):
    """The Qdrant store cannot be used (extra not installed, server unreachable)."""


class EdgeBackend:
    """qdrant-edge shards under `root` (HOME/qdrant-edge)."""

    kind = "qdrant-edge"

    def __init__(self, root: Path) -> None:
        try:
            import qdrant_edge  # noqa: F401
        except ImportError as exc:
            raise QdrantUnavailable("--store qdrant-edge needs qdrant-edge-py: pip install 'isnad[qdrant]'") from exc
        self.root = Path(root)
        self._shard = None
        self._name: str | None = None
        self._lock = threading.Lock()  # one shard handle; Edge calls are short

    # -- generations ------------------------------------------------------------------
    def live_name(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def create(self, name: str, dim: int) -> None:
        from qdrant_edge import (Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams,
                                 EdgeVectorParams, Modifier, PayloadSchemaType, UpdateOperation)

        self.close()
        path = self.root / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        config = EdgeConfig(
            vectors={"dense": EdgeVectorParams(size=dim, distance=Distance.Dot),
                     "sentence": EdgeVectorParams(size=dim, distance=Distance.Dot)},
            sparse_vectors={"lex": EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        self._shard, self._name = EdgeShard.create(str(path), config), name
        for key in ("doc_id", "kind"):
            self._shard.update(UpdateOperation.create_field_index(key, PayloadSchemaType.Keyword))

    def open(self, name: str) -> None:
        from qdrant_edge import EdgeShard

        with self._lock:
            if self._shard is not None:
                self._shard.close()
            self._shard, self._name = EdgeShard.load(str(self.root / name)), name

    def begin_update(self, live: str, name: str, gen: int) -> str:
        """An update is written into `name`, a copy of the live shard (switched live after)."""
        self.close()
        shutil.rmtree(self.root / name, ignore_errors=True)
        shutil.copytree(self.root / live, self.root / name)
        self.open(name)
        return name

    def retire(self, gen: int, doc_ids: list[str] | None = None, kind: str | None = None) -> None:
        """In the copy, what the update replaces is simply deleted."""
        from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue, UpdateOperation

        if doc_ids is not None and not doc_ids:
            return
        cond = (FieldCondition("doc_id", match=MatchAny(list(doc_ids))) if doc_ids is not None
                else FieldCondition("kind", match=MatchValue(kind)))
        with self._lock:
            self._shard.update(UpdateOperation.delete_points_by_filter(Filter(must=[cond])))

    def go_live(self, meta: PointData, name: str) -> None:
        """Write the manifest point, then switch CURRENT to `name` (the atomic step)."""
        self.upsert([meta])
        self.switch(name)

    def finish_update(self, gen: int) -> None:
        pass  # the old shard is the previous generation (drop_unused)

    def live_version(self) -> str | None:
        return self.live_name()

    def version_name(self, name: str, gen: int) -> str:
        return name  # every publish is its own shard directory

    def switch(self, name: str) -> None:
        self._shard.flush()
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name, encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")

    def drop_unused(self, keep: set[str]) -> None:
        for path in self.root.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            if self._shard is not None:
                try:
                    self._shard.close()
                finally:
                    self._shard = None

    # -- points -----------------------------------------------------------------------
    def upsert(self, points: list[PointData]) -> None:
        from qdrant_edge import Point, SparseVector, UpdateOperation

        out = [Point(p.id, p.vectors(lambda ids, vals: SparseVector(ids, vals)), p.payload) for p in points]
        with self._lock:
            self._shard.update(UpdateOperation.upsert_points(out))

    def dense(self, vector: list[float], k: int, visible: int = 0) -> list[tuple[int, float]]:
        from qdrant_edge import Query, QueryRequest

        with self._lock:
            hits = self._shard.query(QueryRequest(limit=k, query=Query.Nearest(vector, using="dense")))
        return [(int(h.id), float(h.score)) for h in hits]

    def sparse(self, indices: list[int], values: list[float], k: int, visible: int = 0) -> list[tuple[int, float]]:
        from qdrant_edge import Query, QueryRequest, SparseVector

        with self._lock:
            hits = self._shard.query(QueryRequest(
                limit=k, query=Query.Nearest(SparseVector(indices, values), using="lex")))
        return [(int(h.id), float(h.score)) for h in hits]

    def retrieve(self, ids: list, vector: bool = False) -> dict:
        with self._lock:
            records = self._shard.retrieve(list(ids), with_payload=True,
                                           with_vector=["sentence"] if vector else False)
        out = {}
        for r in records:
            vec = (r.vector or {}).get("sentence") if vector else None
            out[_norm_id(r.id)] = (r.payload or {}, vec)
        return out

    def scroll_chunks(self, visible: int = 0) -> list[tuple[int, dict, list[float]]]:
        from qdrant_edge import FieldCondition, Filter, MatchValue, ScrollRequest

        flt = Filter(must=[FieldCondition("kind", match=MatchValue("chunk"))])
        out, offset = [], None
        while True:
            with self._lock:
                records, offset = self._shard.scroll(ScrollRequest(offset=offset, limit=256, filter=flt,
                                                                   with_payload=True, with_vector=["dense"]))
            out += [(int(r.id), r.payload or {}, (r.vector or {}).get("dense")) for r in records]
            if offset is None:
                return out

    def optimize(self) -> None:
        with self._lock:
            self._shard.optimize()


def _norm_id(pid) -> int | str:
    """Point ids as Isnad keys them: chunk ids as int, the rest as UUID strings."""
    if isinstance(pid, int):
        return pid
    text = str(pid)
    return int(text) if text.isdigit() else text
