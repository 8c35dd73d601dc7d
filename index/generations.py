"""Generations on disk: the one module that knows their names, CURRENT, the record of
what a home indexes, and which generations may be removed.

    HOME/index/CURRENT        name of the live generation (replaced atomically)
    HOME/index/SOURCES.json   the folders this home indexes (the user's choice)
    HOME/index/gen-*/         one complete (or abandoned) build
    HOME/index/gen-*/.readers a lock file: processes reading a generation hold a
                              shared lock on it, so no build removes it under them
    HOME/documents/           single documents added (`isnad add`, the app's upload),
                              indexed by every build as doc_ids `added/NAME`
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from index.manifest import MANIFEST_NAME, IndexProblem, Manifest, verify_files

CURRENT_NAME = "CURRENT"
SOURCES_NAME = "SOURCES.json"
GENERATION_PREFIX = "gen-"
READERS_NAME = ".readers"
LOCK_NAME = ".build.lock"
ADDED_PREFIX = "added/"
DOCUMENTS_DIR = "documents"


def index_root(home: Path) -> Path:
    return Path(home) / "index"


def documents_dir(home: Path) -> Path:
    """The managed folder of single added documents (see index.added)."""
    return Path(home) / DOCUMENTS_DIR


def read_current(home: Path) -> str | None:
    """CURRENT's content: None when missing, "" when empty, else the name it holds
    (a damaged name never points outside the index)."""
    try:
        name = (index_root(home) / CURRENT_NAME).read_bytes().decode("utf-8", "replace").strip()
    except FileNotFoundError:
        return None
    if name and (name in (".", "..") or "/" in name or "\\" in name or "\0" in name):
        name = "invalid-generation-name"
    return name


def live_generation(home: Path) -> Path | None:
    """The live generation's directory (None before the first build). A damaged
    CURRENT yields a path that does not exist, never one outside the index."""
    name = read_current(home)
    return index_root(home) / name if name else None


def current_signature(home: Path) -> tuple | None:
    """A cheap fingerprint of CURRENT (one stat): it changes when a build switches."""
    try:
        st = os.stat(index_root(home) / CURRENT_NAME)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def generations(home: Path) -> list[Path]:
    """Every generation directory, newest first (their names sort by build time)."""
    root = index_root(home)
    if not root.is_dir():
        return []
    return sorted((d for d in root.glob(GENERATION_PREFIX + "*") if d.is_dir()), reverse=True)


def new_generation(home: Path, stamp: str) -> Path:
    gen = index_root(home) / f"{GENERATION_PREFIX}{stamp}"
    gen.mkdir()
    return gen


def verified_manifest(gen: Path) -> Manifest | None:
    """The generation's manifest if the generation is complete and its files verify."""
    try:
        manifest = Manifest.read(gen / MANIFEST_NAME)
        verify_files(gen, manifest)
    except (IndexProblem, OSError):
        return None
    return manifest


def newest_complete_generation(home: Path) -> Path | None:
    return next((g for g in generations(home) if verified_manifest(g) is not None), None)


def switch_to(home: Path, gen: Path) -> None:
    """Make `gen` live: the one atomic step of a build."""
    write_atomic(index_root(home) / CURRENT_NAME, gen.name)


def repair_current(home: Path, stage=lambda _msg: None) -> Path | None:
    """Under the build lock: point a missing or empty CURRENT at the newest complete
    generation whose files verify (never at anything else). Returns it, if it did."""
    current = read_current(home)
    if current:
        return None
    gen = newest_complete_generation(home)
    if gen is None:
        return None
    switch_to(home, gen)
    what = "missing" if current is None else "empty"
    stage(f"{index_root(home) / CURRENT_NAME} was {what}: repaired, {gen.name} is live again")
    return gen


# -- what the home indexes --------------------------------------------------------------
@dataclass(frozen=True)
class SourcesRecord:
    sources: list[Path]
    shipped: bool  # the shipped corpus (its path is resolved anew: installs move)


def read_sources_record(home: Path) -> SourcesRecord | None:
    path = index_root(home) / SOURCES_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sources = [Path(s) for s in data["sources"] if isinstance(s, str)]
        return SourcesRecord(sources, bool(data.get("shipped"))) if sources else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_sources_record(home: Path, sources: list[Path], shipped: bool) -> None:
    index_root(home).mkdir(parents=True, exist_ok=True)
    data = {"sources": [str(s) for s in sources], "shipped": shipped}
    # ASCII JSON: a folder name that is not UTF-8 round-trips as \udcxx escapes.
    write_atomic(index_root(home) / SOURCES_NAME, json.dumps(data, indent=1))


# -- readers and cleanup ------------------------------------------------------------------
def hold_reader_lock(gen: Path):
    """A shared lock on `gen` for as long as the returned file stays open (None where
    locks are unavailable, e.g. a read-only index directory)."""
    try:
        import fcntl

        f = open(gen / READERS_NAME, "a+b")
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def _unused(gen: Path) -> bool:
    """True unless some process holds a reader lock on `gen`."""
    try:
        import fcntl
    except ImportError:
        return True
    lock = gen / READERS_NAME
    if not lock.exists():
        return True
    try:
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except OSError:
        return False


def remove_unused_generations(home: Path, keep: Path | None = None) -> list[Path]:
    """Remove every generation but the live one (and `keep`) that no process is reading:
    abandoned builds and superseded indexes. Call only under the build lock, so no
    other build is still writing one. Returns the generations kept for their readers."""
    import shutil

    live = live_generation(home)
    kept = []
    for gen in generations(home):
        if gen in (live, keep):
            continue
        if _unused(gen):
            shutil.rmtree(gen, ignore_errors=True)
        else:
            kept.append(gen)
    for tmp in index_root(home).glob(CURRENT_NAME + ".tmp*"):
        tmp.unlink(missing_ok=True)
    return kept


def write_atomic(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:  # the rename itself on disk too (power loss, not just a killed process)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(home: Path, stage=lambda _msg: None):
    """An exclusive lock on the index directory for a whole build (released by the
    kernel if the process dies), so two builds never delete each other's work; a
    second build (or a first `ask` on a home being built) says so and waits."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    root = index_root(home)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stage(f"waiting for another build of {root} to finish")
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
