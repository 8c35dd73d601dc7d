"""The headless browser the app tests drive: Debian's chromium, never a download.

    python tests/browser_setup.py    # CI: install chromium with apt if missing
                                     # exit 0 iff /usr/bin/chromium exists afterwards

Playwright's own browser download is not available on these machines; the tests
launch /usr/bin/chromium through Playwright's `executable_path` instead. Arabic
fonts (fonts-noto-core) are installed too when possible, so screenshots show real
Naskh glyphs; they are optional (the app falls back to Tahoma / sans-serif).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]
APT_PACKAGES = ["chromium"]
OPTIONAL_APT_PACKAGES = ["fonts-noto-core"]


def in_ci() -> bool:
    """CI=true (as GitHub Actions and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def chromium_path() -> Path | None:
    return CHROMIUM if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK) else None


def _apt(*args: str) -> bool:
    """Run apt-get as root (directly, or through passwordless sudo); True on success."""
    cmd = ["apt-get", *args]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return False
        cmd = ["sudo", "-n", *cmd]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("browser_setup: $", " ".join(cmd), file=sys.stderr, flush=True)
    try:
        return subprocess.run(cmd, env=env, check=False).returncode == 0
    except OSError as exc:
        print(f"browser_setup: {exc}", file=sys.stderr)
        return False


def ensure_chromium() -> Path | None:
    """/usr/bin/chromium, installing it (and Arabic fonts) with apt when missing."""
    if chromium_path() is None and shutil.which("apt-get"):
        if not _apt("install", "-y", "--no-install-recommends", *APT_PACKAGES):
            _apt("update")
            _apt("install", "-y", "--no-install-recommends", *APT_PACKAGES)
        _apt("install", "-y", "--no-install-recommends", *OPTIONAL_APT_PACKAGES)
    return chromium_path()


def main() -> int:
    path = ensure_chromium()
    if path is None:
        print(f"browser_setup: {CHROMIUM} is missing and could not be installed with apt-get "
              "(run as root: apt-get update && apt-get install -y chromium)", file=sys.stderr)
        return 1
    print(f"browser_setup: {path} is ready", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
