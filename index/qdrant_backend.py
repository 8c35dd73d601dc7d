"""The two ways Isnad reaches Qdrant, behind one small interface.

    EdgeBackend(root)      qdrant-edge: Qdrant's engine embedded in this process, one
                           shard directory per generation under HOME/qdrant-edge/,
                           CURRENT names the live one (as for the FAISS index).
    ClientBackend(url)     qdrant-client: a Qdrant server or cluster (or the client's
                           local mode, ":memory:" or a path, standing in for one). One
                           collection per generation; the alias ALIAS names the live one.

Either way a generation is filled completely before it is made live (an atomic
CURRENT rename, or one alias operation), so a killed build never leaves a half
index live. Points: chunks carry the dense vector "dense" and the sparse vector
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


def point_uuid(kind: str, key: str) -> str:
    """A stable point id for a non-chunk record (a document, a bucket, a sentence)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


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

    def begin_update(self, live: str, name: str) -> str:
        """An update is written into `name`, a copy of the live shard (switched live after)."""
        self.close()
        shutil.rmtree(self.root / name, ignore_errors=True)
        shutil.copytree(self.root / live, self.root / name)
        self.open(name)
        return name

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

    def delete_docs(self, doc_ids: list[str]) -> None:
        from qdrant_edge import FieldCondition, Filter, MatchAny, UpdateOperation

        if doc_ids:
            with self._lock:
                self._shard.update(UpdateOperation.delete_points_by_filter(
                    Filter(must=[FieldCondition("doc_id", match=MatchAny(list(doc_ids)))])))

    def dense(self, vector: list[float], k: int) -> list[tuple[int, float]]:
        from qdrant_edge import Query, QueryRequest

        with self._lock:
            hits = self._shard.query(QueryRequest(limit=k, query=Query.Nearest(vector, using="dense")))
        return [(int(h.id), float(h.score)) for h in hits]

    def sparse(self, indices: list[int], values: list[float], k: int) -> list[tuple[int, float]]:
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

    def scroll_chunks(self) -> list[tuple[int, dict, list[float]]]:
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


class ClientBackend:
    """A Qdrant server or cluster through qdrant-client (`url` http(s)://HOST:PORT), or
    the client's local mode (`path=` a folder, or ":memory:")."""

    kind = "qdrant"

    def __init__(self, url: str | None = None, path: str | None = None, prefix: str = ALIAS) -> None:
        try:
            from qdrant_client import QdrantClient
        except ImportError as exc:
            raise QdrantUnavailable("--store qdrant:URL needs qdrant-client: pip install 'isnad[qdrant]'") from exc
        if url:
            self.client = QdrantClient(url=url, api_key=os.environ.get("QDRANT_API_KEY") or None,
                                       timeout=30, prefer_grpc=False)
        else:
            self.client = QdrantClient(location=":memory:") if path in (None, ":memory:") \
                else QdrantClient(path=str(path))
        self.alias = prefix
        self._server = bool(url)  # local mode has no payload indexes (and warns about them)
        self._name: str | None = None
        self.shards = int(os.environ.get("ISNAD_QDRANT_SHARDS", "1") or 1)
        self.replication = int(os.environ.get("ISNAD_QDRANT_REPLICATION", "1") or 1)

    def live_name(self) -> str | None:
        try:
            for a in self.client.get_aliases().aliases:
                if a.alias_name == self.alias:
                    return a.collection_name
        except Exception as exc:  # noqa: BLE001 - the client raises many kinds for "unreachable"
            raise QdrantUnavailable(f"Qdrant does not answer: {str(exc).splitlines()[0][:200]}") from exc
        return None

    def create(self, name: str, dim: int) -> None:
        from qdrant_client import models as m

        if self.client.collection_exists(name):
            self.client.delete_collection(name)
        self.client.create_collection(
            name,
            vectors_config={"dense": m.VectorParams(size=dim, distance=m.Distance.DOT),
                            "sentence": m.VectorParams(size=dim, distance=m.Distance.DOT)},
            sparse_vectors_config={"lex": m.SparseVectorParams(modifier=m.Modifier.IDF)},
            shard_number=self.shards, replication_factor=self.replication,
        )
        for key in ("doc_id", "kind") if self._server else ():
            self.client.create_payload_index(name, key, m.PayloadSchemaType.KEYWORD)
        self._name = name

    def open(self, name: str) -> None:
        self._name = name

    def begin_update(self, live: str, name: str) -> str:
        """An update is written into the live collection itself (see index.qdrant_publish)."""
        self._name = live
        return live

    def switch(self, name: str) -> None:
        from qdrant_client import models as m

        ops = []
        live = self.live_name()
        if live == name:
            return
        if live is not None:
            ops.append(m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=self.alias)))
        ops.append(m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=name, alias_name=self.alias)))
        self.client.update_collection_aliases(change_aliases_operations=ops)  # one atomic step

    def drop_unused(self, keep: set[str]) -> None:
        for c in self.client.get_collections().collections:
            if c.name.startswith(f"{self.alias}-gen-") and c.name not in keep:
                self.client.delete_collection(c.name)

    def close(self) -> None:
        pass  # one client per process and folder (local mode): reused by the next store

    def upsert(self, points: list[PointData]) -> None:
        from qdrant_client import models as m

        out = [m.PointStruct(id=p.id, vector=p.vectors(lambda ids, vals: m.SparseVector(indices=ids, values=vals)),
                             payload=p.payload) for p in points]
        self.client.upsert(self._name, out, wait=True)

    def delete_docs(self, doc_ids: list[str]) -> None:
        from qdrant_client import models as m

        if doc_ids:
            self.client.delete(self._name, m.FilterSelector(filter=m.Filter(must=[
                m.FieldCondition(key="doc_id", match=m.MatchAny(any=list(doc_ids)))])), wait=True)

    def dense(self, vector: list[float], k: int) -> list[tuple[int, float]]:
        hits = self.client.query_points(self._name, query=vector, using="dense", limit=k).points
        return [(int(h.id), float(h.score)) for h in hits]

    def sparse(self, indices: list[int], values: list[float], k: int) -> list[tuple[int, float]]:
        from qdrant_client import models as m

        hits = self.client.query_points(self._name, query=m.SparseVector(indices=indices, values=values),
                                        using="lex", limit=k).points
        return [(int(h.id), float(h.score)) for h in hits]

    def retrieve(self, ids: list, vector: bool = False) -> dict:
        records = self.client.retrieve(self._name, list(ids), with_payload=True,
                                       with_vectors=["sentence"] if vector else False)
        out = {}
        for r in records:
            vec = (r.vector or {}).get("sentence") if vector and isinstance(r.vector, dict) else None
            out[_norm_id(r.id)] = (r.payload or {}, vec)
        return out

    def scroll_chunks(self) -> list[tuple[int, dict, list[float]]]:
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key="kind", match=m.MatchValue(value="chunk"))])
        out, offset = [], None
        while True:
            records, offset = self.client.scroll(self._name, scroll_filter=flt, limit=256, offset=offset,
                                                 with_payload=True, with_vectors=["dense"])
            out += [(int(r.id), r.payload or {}, (r.vector or {}).get("dense")) for r in records]
            if offset is None:
                return out

    def optimize(self) -> None:
        pass  # the server optimizes in the background


def _norm_id(pid) -> int | str:
    """Point ids as Isnad keys them: chunk ids as int, the rest as UUID strings."""
    if isinstance(pid, int):
        return pid
    text = str(pid)
    return int(text) if text.isdigit() else text
