"""A Qdrant server or cluster through qdrant-client: `ClientBackend`, the second way
Isnad reaches Qdrant (index.qdrant_backend has the first, qdrant-edge, and the
point layout both share).

A full build goes into a new collection, made live by one alias operation. An
update is written into the live collection itself (copying a cluster's collection
per update would cost more than the update) and is still atomic as a whole for
readers, with Qdrant's own primitives:

    every point of update N carries payload gen = N; new chunk, document and
    statistics points get ids of their own (index.qdrant_backend.chunk_point_id,
    versioned_uuid), so nothing a reader sees is overwritten;
    the points N replaces get retired = N (set_payload by filter);
    readers search with a filter on the live number G (index.qdrant_store): not
    gen > G, and not retired <= G, so neither kind changes what they see;
    the flip is one upsert of the manifest point with gen = N (one point: atomic
    on a cluster too); readers move to N when they reopen the store;
    the points retired before N (hidden since the previous update: one round for
    readers still on it) are deleted after the flip.

An update killed before its flip leaves its points invisible; the next one first
deletes them and clears its retired marks (`begin_update`), then starts again.
While an update is in flight its invisible points count in the collection's IDF
(the sparse vectors' modifier): a small drift in keyword scores, gone once the
replaced points are deleted.
"""
from __future__ import annotations

import os

from index.qdrant_backend import ALIAS, PointData, QdrantUnavailable, _norm_id

META_NAME = "meta"  # the manifest point: index.qdrant_publish.META_ID


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

    # -- generations ------------------------------------------------------------------
    def live_name(self) -> str | None:
        try:
            for a in self.client.get_aliases().aliases:
                if a.alias_name == self.alias:
                    return a.collection_name
        except Exception as exc:  # noqa: BLE001 - the client raises many kinds for "unreachable"
            raise QdrantUnavailable(f"Qdrant does not answer: {str(exc).splitlines()[0][:200]}") from exc
        return None

    def live_version(self) -> str | None:
        """The live collection and update number ("isnad-gen-...@3"): what a reader
        compares with its store's `generation` to notice an update (one small read)."""
        from index.qdrant_publish import META_ID

        live = self.live_name()
        if live is None:
            return None
        got = self.client.retrieve(live, [META_ID], with_payload=["gen"], with_vectors=False)
        return self.version_name(live, int((got[0].payload or {}).get("gen", 0)) if got else 0)

    def version_name(self, name: str, gen: int) -> str:
        return f"{name}@{gen}" if gen else name

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
        if self._server:
            for key in ("doc_id", "kind"):
                self.client.create_payload_index(name, key, m.PayloadSchemaType.KEYWORD)
            for key in ("gen", "retired"):  # every search filters on them
                self.client.create_payload_index(name, key, m.PayloadSchemaType.INTEGER)
        self._name = name

    def open(self, name: str) -> None:
        self._name = name

    def begin_update(self, live: str, name: str, gen: int) -> str:
        """Update `gen` is written into the live collection; first what a killed update
        left behind is undone (its points deleted, its retired marks cleared)."""
        from qdrant_client import models as m

        self._name = live
        self.client.delete(live, m.FilterSelector(filter=m.Filter(must=[
            m.FieldCondition(key="gen", range=m.Range(gte=gen))])), wait=True)
        self.client.delete_payload(live, keys=["retired"], points=m.Filter(must=[
            m.FieldCondition(key="retired", range=m.Range(gte=gen))]), wait=True)
        return live

    def retire(self, gen: int, doc_ids: list[str] | None = None, kind: str | None = None) -> None:
        """Mark the points update `gen` replaces (a document's, or every point of a
        kind): still visible until the flip, then hidden, then deleted."""
        from qdrant_client import models as m

        if doc_ids is not None and not doc_ids:
            return
        cond = (m.FieldCondition(key="doc_id", match=m.MatchAny(any=list(doc_ids))) if doc_ids is not None
                else m.FieldCondition(key="kind", match=m.MatchValue(value=kind)))
        # Points retired earlier keep their mark (re-marking would show them again), and
        # this update's own points are never retired by it.
        self.client.set_payload(self._name, {"retired": gen}, points=m.Filter(must=[cond], must_not=[
            m.FieldCondition(key="retired", range=m.Range(gte=0)),
            m.FieldCondition(key="gen", range=m.Range(gte=gen))]), wait=True)

    def go_live(self, meta: PointData, name: str) -> None:
        """The one atomic step: the manifest point (an update's flip), then the alias
        (a full build's switch; nothing for an update, already in the live collection)."""
        self.upsert([meta])
        self.switch(name)

    def finish_update(self, gen: int) -> None:
        """Delete what was retired before update `gen` (hidden for a whole round)."""
        from qdrant_client import models as m

        self.client.delete(self._name, m.FilterSelector(filter=m.Filter(must=[
            m.FieldCondition(key="retired", range=m.Range(lt=gen))])), wait=True)

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

    # -- points -----------------------------------------------------------------------
    def upsert(self, points: list[PointData]) -> None:
        from qdrant_client import models as m

        out = [m.PointStruct(id=p.id, vector=p.vectors(lambda ids, vals: m.SparseVector(indices=ids, values=vals)),
                             payload=p.payload) for p in points]
        self.client.upsert(self._name, out, wait=True)

    @staticmethod
    def _visible(visible: int, *must):
        """Points readers of update `visible` see: not written by a later update, not
        retired by it or an earlier one."""
        from qdrant_client import models as m

        return m.Filter(must=list(must) or None, must_not=[
            m.FieldCondition(key="gen", range=m.Range(gt=visible)),
            m.FieldCondition(key="retired", range=m.Range(lte=visible))])

    def dense(self, vector: list[float], k: int, visible: int = 0) -> list[tuple[int, float]]:
        hits = self.client.query_points(self._name, query=vector, using="dense", limit=k,
                                        query_filter=self._visible(visible)).points
        return [(int(h.id), float(h.score)) for h in hits]

    def sparse(self, indices: list[int], values: list[float], k: int, visible: int = 0) -> list[tuple[int, float]]:
        from qdrant_client import models as m

        hits = self.client.query_points(self._name, query=m.SparseVector(indices=indices, values=values),
                                        using="lex", limit=k, query_filter=self._visible(visible)).points
        return [(int(h.id), float(h.score)) for h in hits]

    def retrieve(self, ids: list, vector: bool = False) -> dict:
        records = self.client.retrieve(self._name, list(ids), with_payload=True,
                                       with_vectors=["sentence"] if vector else False)
        out = {}
        for r in records:
            vec = (r.vector or {}).get("sentence") if vector and isinstance(r.vector, dict) else None
            out[_norm_id(r.id)] = (r.payload or {}, vec)
        return out

    def scroll_chunks(self, visible: int = 0) -> list[tuple[int, dict, list[float]]]:
        from qdrant_client import models as m

        flt = self._visible(visible, m.FieldCondition(key="kind", match=m.MatchValue(value="chunk")))
        out, offset = [], None
        while True:
            records, offset = self.client.scroll(self._name, scroll_filter=flt, limit=256, offset=offset,
                                                 with_payload=True, with_vectors=["dense"])
            out += [(int(r.id), r.payload or {}, (r.vector or {}).get("dense")) for r in records]
            if offset is None:
                return out

    def optimize(self) -> None:
        pass  # the server optimizes in the background
