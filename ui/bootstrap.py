"""Set up the repository's .venv from nothing but python3 (standard library only).

Used by `python3 -m ui ...` (the app) and `python3 -m tests` (the test suite), so a
fresh clone needs no other step. The install is skipped when pyproject.toml has not
changed since the last one.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv(extras: str = "") -> Path:
    """Create .venv and install Isnad (editable) with `extras`; returns .venv's python."""
    python = BIN / "python"
    if not python.exists():
        print(f"isnad: creating {VENV} ...", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()[:16]
    stamp = VENV / f".isnad-installed-{extras or 'core'}"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return python
    print(f"isnad: installing {spec} into .venv (first run only; a few minutes) ...",
          file=sys.stderr, flush=True)
    # torch first, pinned: it resolves to the CPU build here; unpinned it pulls CUDA (GBs).
    if "st" in extras or "test" in extras or "all" in extras:
        _pip(python, "torch==2.13.0")
    _pip(python, "-e", spec)
    stamp.write_text(digest)
    return python


def _pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    result = subprocess.run(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    # Drop pip's notes about package-index folders this machine does not have.
    noise = "WARNING: Location 'file://"
    sys.stderr.write("".join(l for l in result.stderr.splitlines(True) if not l.startswith(noise)))
    if result.returncode != 0:
        sys.exit(f"isnad: set-up failed: {' '.join(cmd)} exited {result.returncode}")
