"""Which store answers questions: `--store` / ISNAD_STORE.

    faiss                       FAISS + SQLite in the data directory (the default)
    qdrant-edge                 Qdrant's engine embedded, data in HOME/qdrant-edge/
    qdrant:http(s)://HOST:PORT  a Qdrant server or cluster (QDRANT_API_KEY for its key)
    qdrant:local                qdrant-client's local mode in HOME/qdrant-local/ (the
                                server API without a server: tests, trials)

For the Qdrant stores, `isnad index` still builds the data directory's generation
(the staging area: what changed, chunks, embeddings through the cache), then
publishes it into Qdrant (index.qdrant_publish); questions read only Qdrant. A
store opened on a data directory whose live generation is newer than the one
published is brought up to date first, so `ask`, `add`, `remove` and `index` work
unchanged on every store.
"""
from __future__ import annotations

import json
from pathlib import Path

STORES = ("faiss", "qdrant-edge", "qdrant:URL", "qdrant:local")


class StoreSpecError(ValueError):
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


def is_qdrant(spec: str) -> bool:
    return spec != "faiss"


def make_backend(spec: str, home: Path):
    from index.qdrant_backend import ClientBackend, EdgeBackend

    if spec == "qdrant-edge":
        return EdgeBackend(Path(home) / "qdrant-edge")
    if spec == "qdrant:local":
        (Path(home) / "qdrant-local").mkdir(parents=True, exist_ok=True)
        return ClientBackend(path=str(Path(home) / "qdrant-local"))
    return ClientBackend(url=spec[len("qdrant:"):])


def publish_if_stale(spec: str, home: Path, backend=None) -> str | None:
    """Publish the data directory's live generation into the Qdrant store `spec` when
    Qdrant does not hold it yet; returns the new Qdrant generation's name, or None
    when there was nothing to do (no local generation, or already published)."""
    from index.generations import build_lock, live_generation
    from index.manifest import MANIFEST_NAME
    from index.qdrant_publish import META_ID, publish

    staging = live_generation(home)
    if staging is None or not (staging / MANIFEST_NAME).exists():
        return None
    own = backend is None
    backend = backend or make_backend(spec, home)
    try:
        with build_lock(home):
            staging = live_generation(home)
            live = backend.live_name()
            previous = None
            if live is not None:
                backend.open(live)
                hit = backend.retrieve([META_ID]).get(META_ID)
                previous = hit[0] if hit else None
                if previous and previous.get("staging") == staging.name:
                    return None
            manifest_json = (staging / MANIFEST_NAME).read_text(encoding="utf-8")
            changed, removed = _difference(previous, json.loads(manifest_json))
            if previous is not None and json.loads(previous["manifest"]).get("chunking") != \
                    json.loads(manifest_json).get("chunking"):
                previous = None  # chunking changed: a full rebuild, as for the FAISS index
            return publish(staging, backend, manifest_json, previous, changed, removed)
    finally:
        if own:
            backend.close()


def open_for_engine(spec: str, home: Path, embedder, ensure) -> object:
    """The engine's first store: `ensure()` (repair or first build of the data directory)
    runs unless a client store (a Qdrant server) already holds an index: a replica
    reading a cluster builds nothing locally. A first build is published."""
    if not spec.startswith("qdrant:"):
        ensure()
        return open_store(spec, home, embedder.id)
    backend = make_backend(spec, home)
    if backend.live_name() is None:
        ensure()
        publish_if_stale(spec, home, backend)
    return open_store(spec, home, embedder.id, backend=backend)


def after_build(spec: str, home: Path) -> str | None:
    """What every writer (`isnad index`, `add`, `remove`, an upload in the app) calls after
    updating the data directory: publish it to a Qdrant store. None for faiss."""
    return publish_if_stale(spec, home) if is_qdrant(spec) else None


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


def open_store(spec: str, home: Path, expected_embedder_id: str | None = None, previous=None,
               backend=None):
    """The loaded store `spec` over the data directory `home` (see the module doc).
    `previous`: the store this one replaces; a Qdrant client is reused (qdrant-client's
    local mode allows one client per folder), an embedded shard never is."""
    from index.generations import live_generation
    from index.store import IndexStore

    if spec == "faiss":
        return IndexStore.open(home, expected_embedder_id)
    from index.qdrant_store import QdrantStore

    reuse = backend or getattr(previous, "backend", None)
    backend = reuse if reuse is not None and reuse.kind == "qdrant" else make_backend(spec, home)
    try:
        if spec == "qdrant-edge":
            # Qdrant data inside this data directory follows its builds. A client store
            # (a server) is only written by the writers (after_build): a reader with an
            # old local directory must never publish it over the cluster's index.
            publish_if_stale(spec, home, backend)
        return QdrantStore.open(backend, expected_embedder_id, directory=live_generation(home))
    except BaseException:
        if backend is not reuse:
            backend.close()
        raise
