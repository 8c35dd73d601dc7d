"""Which files under a folder are documents, and what they are called.

Documents stay inside their folder: a symbolic link whose target is outside it is
skipped with a message (unless the caller follows links on purpose), and so are
broken links and loops. Any file name works: a name that is not valid UTF-8 gets a
doc_id with the bad bytes written as \\xNN, and names are shown with control and
bidi-override characters escaped.
"""
from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")


@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why (shown to the user, never silent)."""

    doc_id: str
    reason: str


@dataclass
class Discovery:
    files: dict[str, Path] = field(default_factory=dict)  # doc_id -> path, sorted by doc_id
    skipped: list[Skipped] = field(default_factory=list)  # links and names not indexed, with why


def doc_id_of(relative: str) -> str:
    """A doc_id for a relative POSIX path: bytes that are not UTF-8 (surrogate escapes
    from the file system) become \\xNN, so the id is valid text anywhere (SQLite, JSON)."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_SHOWN_AS_IS = {"\t"}
# Bidi embeddings/overrides/isolates and marks: they reorder what follows them on screen.
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` safe to print on a terminal line: control characters, line separators,
    bidi controls and lone surrogates are written as escapes (\\n, \\u202e, \\udcff)."""
    out = []
    for c in text:
        cat = unicodedata.category(c)
        if c in _SHOWN_AS_IS or not (c in _BIDI or cat in ("Cc", "Cs", "Zl", "Zp")):
            out.append(c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        else:
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return "".join(out)


def is_document_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES


def discover(root: Path, follow_symlinks: bool = False) -> Discovery:
    """Every document file under `root` (recursively), and the links and names skipped."""
    root = Path(root)
    real_root = root.resolve()
    found = Discovery()
    seen_dirs = {_dir_key(real_root)}
    _walk(root, "", real_root, follow_symlinks, seen_dirs, found)
    found.files = dict(sorted(found.files.items()))
    return found


def _walk(directory: Path, prefix: str, real_root: Path, follow: bool, seen: set, found: Discovery) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append(Skipped(doc_id_of(prefix or "."), f"{doc_id_of(prefix or '.')}: cannot list "
                                     f"the folder ({exc.strerror or exc})"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = f"{prefix}{entry.name}"
        doc_id = doc_id_of(rel)
        path = Path(entry.path)
        if entry.is_symlink():
            target = _link_target(path, doc_id, real_root, follow, found)
            if target is None:
                continue
            if target.is_dir():
                key = _dir_key(target)
                if key in seen:
                    found.skipped.append(Skipped(doc_id, f"{doc_id}: symbolic link to {target}, a folder "
                                                 "already indexed (a loop or a second path to it); not followed"))
                    continue
                seen.add(key)
                _walk(path, rel + "/", real_root, follow, seen, found)
            elif is_document_name(entry.name) and target.is_file():
                _add(found, doc_id, path)
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                key = _dir_key(path)
                if key not in seen:
                    seen.add(key)
                    _walk(path, rel + "/", real_root, follow, seen, found)
            elif entry.is_file(follow_symlinks=False) and is_document_name(entry.name):
                _add(found, doc_id, path)
        except OSError as exc:
            found.skipped.append(Skipped(doc_id, f"{doc_id}: cannot read ({exc.strerror or exc})"))


def _link_target(path: Path, doc_id: str, real_root: Path, follow: bool, found: Discovery) -> Path | None:
    """The real target of a symbolic link, or None (with a message) when it is broken,
    loops, or leaves the indexed folder without `follow`."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        found.skipped.append(Skipped(doc_id, f"{doc_id}: broken symbolic link (to {os.readlink(path)}, "
                                     "which does not exist)"))
        return None
    except (RuntimeError, OSError) as exc:  # ELOOP: the link points (through others) at itself
        found.skipped.append(Skipped(doc_id, f"{doc_id}: symbolic link loop; not followed ({_reason(exc)})"))
        return None
    if not follow and not target.is_relative_to(real_root):
        found.skipped.append(Skipped(doc_id, f"{doc_id}: symbolic link to {target}, outside the indexed "
                                     "folder; not followed (--follow-symlinks follows it)"))
        return None
    return target


def _add(found: Discovery, doc_id: str, path: Path) -> None:
    if doc_id in found.files:  # only a name with bytes that look like its own \xNN escape
        found.skipped.append(Skipped(doc_id, f"{doc_id}: another file has the same name once "
                                     "escaped; rename one of them"))
        return
    found.files[doc_id] = path


def _dir_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
