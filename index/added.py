"""Single documents added to a home (`isnad add`, the app's upload): copies kept in
the home's managed folder, HOME/documents/, which every build indexes next to the
recorded source folders (doc_ids `added/NAME`). So `isnad index`, `--rebuild` and
`--docs DIR` keep them, until `isnad remove` (or the app) deletes the copy.

    safe_name(name)                       -> a file name that stays inside the folder
    add_documents(home, files, ...)       -> AddReport (copy, then one incremental build)
    remove_documents(home, doc_ids, ...)  -> AddReport (delete the copies, then a build)

Both check everything first (a missing file, an unsupported type, a document that
cannot be read, an unknown doc_id) and raise AddError before touching anything; a
build that fails puts the folder back as it was, so the index and the folder agree.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import UsageError
from corpus.files import printable
from corpus.loaders import SHIPPED_DOCUMENTS
from index.builder import BuildReport, IndexParams, build_locked
from index.embedders import Embedder
from index.generations import ADDED_PREFIX, build_lock, documents_dir, index_root
from index.manifest import IndexMissingError

MAX_NAME_BYTES = 200  # below every file system's 255, with room for a temporary suffix
FORMATS = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")  # what `isnad add` and the app accept


class AddError(UsageError):
    """Bad input to add/remove (the caller's): nothing was changed."""


@dataclass
class AddReport:
    build: BuildReport
    doc_ids: list[str]  # the documents added (or replaced) / removed


def safe_name(name: str) -> str:
    """The last path component of `name`, NFC, without control characters, separators
    or leading dots, at most MAX_NAME_BYTES: never a way out of the folder."""
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".").strip()
    stem, suffix = os.path.splitext(base)
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    base = stem + suffix
    if not stem or base in (".", ".."):
        raise AddError(f"{printable(str(name))}: not a usable file name")
    if suffix.lower() not in FORMATS:
        raise AddError(f"{printable(str(name))}: unsupported type (use {', '.join(FORMATS)})")
    return base


def _sources_of(home: Path) -> list[Path]:
    from index.home import home_state

    state = home_state(home)
    if state.sources:
        return state.sources
    if state.fresh:  # like any first run: the shipped corpus, plus the added documents
        return [SHIPPED_DOCUMENTS]
    raise IndexMissingError(f"{index_root(home)}: the index does not record which folders it was built "
                            "from (damaged); run `isnad index --rebuild --docs DIR` first")


def _check_readable(path: Path, shown: str, params: IndexParams) -> None:
    """Load the document as a build would, so a broken file is refused before it joins."""
    from index.sources import load_and_chunk

    doc_id = ADDED_PREFIX + path.name
    skipped = []
    if load_and_chunk(doc_id, path, {}, params, skipped) is None:
        reason = skipped[0].reason.removeprefix(f"{doc_id}: ") if skipped else "cannot be read"
        raise AddError(f"{printable(shown)}: {reason}")


def add_documents(home: Path, files: list[tuple[Path, str]], embedder: Embedder,
                  params: IndexParams | None = None, progress: bool | None = None,
                  stage=lambda _msg: None) -> AddReport:
    """Copy each (path, name) into the managed folder as safe_name(name) (replacing a
    document of that name) and update the index in one build. The copies are staged
    in a hidden folder inside it (no build reads those) and checked there first."""
    params = params or IndexParams()
    for path, _ in files:
        path = Path(path)
        if not path.exists():
            raise AddError(f"{printable(str(path))}: no such file")
        if not path.is_file():
            raise AddError(f"{printable(str(path))}: not a file")
        if path.stat().st_size > params.max_upload_bytes:
            raise AddError(f"{printable(str(path))}: too large ({path.stat().st_size / 2**20:.1f} MB; "
                           f"the limit is {params.max_upload_bytes / 2**20:.0f} MB)")
    names = [safe_name(name) for _, name in files]
    folder = documents_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    try:
        for (path, _), name in zip(files, names):
            shutil.copyfile(path, staging / name)  # the last of two equal names wins
        for (path, _), name in zip(files, names):
            _check_readable(staging / name, str(path), params)
        plan = dict.fromkeys(names)
        backup = staging / ".replaced"
        backup.mkdir()

        def moves() -> list[tuple[Path, Path]]:  # a document of the same name steps aside
            replaced = [(folder / n, backup / n) for n in plan if (folder / n).exists()]
            return replaced + [(staging / n, folder / n) for n in plan]

        report = _moved_and_built(home, moves, embedder, params, progress, stage)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return AddReport(report, [ADDED_PREFIX + n for n in plan])


def _moved_and_built(home: Path, moves, embedder: Embedder, params: IndexParams | None,
                     progress: bool | None, stage) -> BuildReport:
    """Under the build lock: make the file moves `moves()` lists (src, dst), then build.
    A build that fails undoes them, last first: the folder as it was, as the index is."""
    with build_lock(home, stage):
        sources = _sources_of(home)
        done: list[tuple[Path, Path]] = []
        try:
            for src, dst in moves():
                os.replace(src, dst)
                done.append((src, dst))
            return build_locked(home, sources, embedder, params, progress=progress, stage=stage)
        except BaseException:
            for src, dst in reversed(done):
                if dst.exists():
                    os.replace(dst, src)
            raise


def remove_documents(home: Path, doc_ids: list[str], embedder: Embedder, params: IndexParams | None = None,
                     indexed: set[str] | None = None, stage=lambda _msg: None) -> AddReport:
    """Delete the managed copies of `doc_ids` and update the index. A document of a
    source folder is not deleted here (it is the user's file): AddError says where it is."""
    folder = documents_dir(home)
    names = []
    for doc_id in doc_ids:
        name = doc_id[len(ADDED_PREFIX):] if doc_id.startswith(ADDED_PREFIX) else None
        if name and "/" not in name and name not in (".", "..") and (folder / name).is_file():
            names.append(name)
        elif indexed is not None and doc_id in indexed:
            from index.home import describe, home_state

            raise AddError(f"{printable(doc_id)}: a document of {describe(home_state(home).sources)}; "
                           "delete the file there and run `isnad index`")
        else:
            raise AddError(f"{printable(doc_id)}: no such document (see `isnad docs`)")
    trash = Path(tempfile.mkdtemp(prefix=".removed-", dir=folder))
    try:
        report = _moved_and_built(home, lambda: [(folder / n, trash / n) for n in names], embedder, params,
                                  None, stage)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
    return AddReport(report, [ADDED_PREFIX + n for n in names])
