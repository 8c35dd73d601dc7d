"""Disk space for a build: checked up front, and a full disk said in one line that
names the data directory and how much the build needs."""
from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from corpus.errors import DiskFullError  # noqa: F401 (in the one error tree)

# What a build writes per byte of new document text, measured on the shipped corpus
# (text in `documents`, overlapping chunk text, FTS5 rows, sentence rows, vectors and
# the SQLite backup copy): about 6x; 8x leaves room for VACUUM's temporary copy.
BYTES_PER_SOURCE_BYTE = 8
MARGIN_BYTES = 16 * 2**20


def needed_bytes(new_source_bytes: int, live_generation_bytes: int) -> int:
    """A generous estimate of what one build writes."""
    return BYTES_PER_SOURCE_BYTE * new_source_bytes + 2 * live_generation_bytes + MARGIN_BYTES


def directory_bytes(path: Path | None) -> int:
    if path is None or not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def check_free_space(directory: Path, needed: int) -> None:
    """DiskFullError before a build starts when `directory`'s disk has less than `needed`."""
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise DiskFullError(
            f"{directory}: not enough disk space for the index: {_size(free)} free, the build "
            f"needs about {_size(needed)}; free some space or choose another data directory (--home)",
        )


def disk_full_error(exc: BaseException, directory: Path, needed: int) -> DiskFullError | None:
    """The one-line DiskFullError for an exception that means the disk filled up
    mid-build (OSError ENOSPC, SQLite's "database or disk is full", FAISS's write
    errors), else None."""
    full = (
        (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT))
        or (isinstance(exc, sqlite3.Error) and "full" in str(exc).lower())
        or (isinstance(exc, RuntimeError) and _faiss_write_error(str(exc)))
    )
    if not full or isinstance(exc, DiskFullError):
        return exc if isinstance(exc, DiskFullError) else None
    free = _free(directory)
    return DiskFullError(
        f"{directory}: the disk filled up while building the index ({one_line(exc, 500)}); "
        f"the build needs about {_size(needed)}, {_size(free)} is free now; "
        "free some space and run `isnad index` again (the previous index is unchanged)",
    )


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line: C++ messages (FAISS) span several, with
    source locations; the last non-empty line is the one that says what failed."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return " ".join(text.split())[:limit]


def _faiss_write_error(message: str) -> bool:
    m = message.lower()
    return ("no space" in m) or ("write" in m and ("failed" in m or "error" in m))


def _free(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 0


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"
