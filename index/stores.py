"""Which store answers questions: `--store` / ISNAD_STORE, as an `IndexBackend` of
the index facade (index.facade).

    faiss                       FAISS + SQLite in the data directory (the default)
    qdrant-edge                 Qdrant's engine embedded, data in HOME/qdrant-edge/
    qdrant:http(s)://HOST:PORT  a Qdrant server or cluster (QDRANT_API_KEY for its key)
    qdrant:local                qdrant-client's local mode in HOME/qdrant-local/ (the
                                server API without a server: tests, trials)

For the Qdrant stores the data directory's FAISS/SQLite build is the staging area
(what changed, chunks, embeddings through the cache, sentence analysis); every
writer (index, add, remove, an upload in the app) then publishes it into Qdrant
(index.qdrant_publish), and questions read only Qdrant. A replica reading a Qdrant
server needs no local index at all.
"""
from __future__ import annotations

import json
from pathlib import Path

from corpus.errors import UsageError
from index.facade import FAISS_SQLITE, IndexBackend


class StoreSpecError(UsageError):
    """A --store value that names no store."""


def parse_store(spec: str | None) -> str:
    """The canonical store spec, or StoreSpecError (one line, naming the choices)."""
    spec = (spec or "faiss").strip()
    low = spec.lower()
    if low in ("faiss", "qdrant-edge", "qdrant:local"):
        return low
    if low.startswith("qdrant:") and spec[7:].lower().startswith(("http://", "https://")) and len(spec) > 15:
        return spec
    raise StoreSpecError(f"--store {spec!r}: expected faiss, qdrant-edge, qdrant:local or qdrant:http(s)://HOST:PORT")


def backend_for(spec: str) -> IndexBackend:
    """The IndexBackend of a (parsed) store spec. One per engine or command: a Qdrant
    backend keeps its client (qdrant-client's local mode allows one per folder)."""
    return FAISS_SQLITE if spec == "faiss" else QdrantIndexBackend(spec)


class QdrantIndexBackend:
    """Qdrant behind the facade: builds go through FAISS_SQLITE, then are published."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._client = None  # the ClientBackend of a client store, made once

    def _backend(self, home: Path):
        from index.qdrant_backend import EdgeBackend
        from index.qdrant_server import ClientBackend

        if self.spec == "qdrant-edge":
            return EdgeBackend(Path(home) / "qdrant-edge")  # one shard handle per loaded index
        if self._client is None:
            if self.spec == "qdrant:local":
                (Path(home) / "qdrant-local").mkdir(parents=True, exist_ok=True)
                self._client = ClientBackend(path=str(Path(home) / "qdrant-local"))
            else:
                self._client = ClientBackend(url=self.spec[len("qdrant:"):])
        return self._client

    # -- reading ----------------------------------------------------------------------
    def open(self, home: Path, expected_embedder_id: str | None = None):
        from index.generations import live_generation
        from index.qdrant_store import QdrantStore

        backend = self._backend(home)
        try:
            if self.spec == "qdrant-edge":
                # Qdrant data inside this data directory follows its builds. A client store
                # (a server) is written only by the writers below: a reader with an old
                # local directory must never publish it over the cluster's index.
                self.publish_if_stale(home, backend)
            return QdrantStore.open(backend, expected_embedder_id, directory=live_generation(home))
        except BaseException:
            if backend is not self._client:
                backend.close()
            raise

    def ensure(self, home, embedder, params=None, *, build=True, progress=None, stage=None) -> None:
        """A first build (or repair) of the data directory, published; nothing for a
        client store that already holds an index (a replica of a cluster)."""
        if self.spec.startswith("qdrant:") and self._backend(home).live_name() is not None:
            return
        FAISS_SQLITE.ensure(home, embedder, params, build=build, progress=progress, stage=stage)
        self.publish_if_stale(home)

    def status(self, home: Path):
        return FAISS_SQLITE.status(home)

    def live_signature(self, home: Path) -> tuple | None:
        try:
            live = self._backend(home).live_version()
        except Exception:  # noqa: BLE001 - an unreachable server: keep what is loaded
            live = None
        return (FAISS_SQLITE.live_signature(home), live)

    def live_generation_name(self, home: Path) -> str | None:
        """The live generation, with a server's update number (index.qdrant_server)."""
        return self._backend(home).live_version()

    # -- writing: the staging build, then a publish -------------------------------------
    def build(self, home, sources, embedder, params=None, *, rebuild=False, progress=None, stage=None):
        report = FAISS_SQLITE.build(home, sources, embedder, params, rebuild=rebuild, progress=progress, stage=stage)
        self._published(home, stage)
        return report

    def update(self, home, docs, embedder, params=None, *, rebuild=False, progress=None, stage=None):
        report = FAISS_SQLITE.update(home, docs, embedder, params, rebuild=rebuild, progress=progress, stage=stage)
        self._published(home, stage)
        return report

    def add_documents(self, home, files, embedder, params=None, *, progress=None, stage=None):
        report = FAISS_SQLITE.add_documents(home, files, embedder, params, progress=progress, stage=stage)
        self._published(home, stage)
        return report

    def remove_documents(self, home, doc_ids, embedder, params=None, *, stage=None):
        report = FAISS_SQLITE.remove_documents(home, doc_ids, embedder, params, stage=stage)
        self._published(home, stage)
        return report

    def _published(self, home: Path, stage) -> None:
        name = self.publish_if_stale(home)
        if name and stage:
            stage(f"published to {self.spec} as {name}")

    def publish_if_stale(self, home: Path, backend=None) -> str | None:
        """Publish the data directory's live generation into Qdrant when Qdrant does not
        hold it yet; the new Qdrant generation's name, or None (nothing to do)."""
        from index.generations import build_lock, live_generation
        from index.manifest import MANIFEST_NAME
        from index.qdrant_publish import META_ID, publish

        if live_generation(home) is None:
            return None
        own = backend is None
        backend = backend or self._backend(home)
        try:
            with build_lock(home):
                staging = live_generation(home)
                if staging is None or not (staging / MANIFEST_NAME).exists():
                    return None
                live = backend.live_name()
                previous = None
                if live is not None:
                    backend.open(live)
                    hit = backend.retrieve([META_ID]).get(META_ID)
                    previous = hit[0] if hit else None
                    if previous and previous.get("staging") == staging.name:
                        return None
                manifest_json = (staging / MANIFEST_NAME).read_text(encoding="utf-8")
                manifest = json.loads(manifest_json)
                changed, removed = _difference(previous, manifest)
                if previous is not None and json.loads(previous["manifest"]).get("chunking") != manifest.get("chunking"):
                    previous = None  # chunking changed: a full rebuild, as for the FAISS index
                return publish(staging, backend, manifest_json, previous, changed, removed)
        finally:
            if own and backend is not self._client:
                backend.close()


def _difference(previous: dict | None, manifest: dict) -> tuple[list[str], list[str]]:
    """Documents added or changed, and removed, since the published manifest."""
    if previous is None:
        return sorted(manifest["documents"]), []
    old = json.loads(previous["manifest"])
    old_docs, new_docs = old.get("documents", {}), manifest["documents"]
    old_cat, new_cat = old.get("catalog", {}), manifest.get("catalog", {})
    changed = sorted(d for d in new_docs
                     if old_docs.get(d) != new_docs[d] or old_cat.get(d, "") != new_cat.get(d, ""))
    removed = sorted(set(old_docs) - set(new_docs))
    return changed, removed
