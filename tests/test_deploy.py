"""The proxy half of ui/deploy/ run for real: two `isnad serve` replicas behind nginx
with the shipped nginx.conf, each replica killed in turn (ui/deploy/smoke.sh)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "ui" / "deploy" / "smoke.sh"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SMOKE)], env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_smoke_refuses_to_start_without_a_data_directory():
    env = {k: v for k, v in os.environ.items() if k != "ISNAD_HOME"}
    got = _run(env)
    assert got.returncode != 0
    assert "set ISNAD_HOME" in got.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("curl") is None,
                    reason="nginx and curl are needed (Debian: apt-get install nginx curl)")
def test_two_replicas_behind_nginx_survive_each_replica_dying(shipped_home):
    got = _run({**os.environ, "ISNAD_HOME": str(shipped_home)})
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-3000:]
    lines = got.stdout.splitlines()
    assert sum(line.startswith("answered:") for line in lines) == 3, got.stdout
    assert lines.index("replica 1 killed") < lines.index("replica 2 killed") < lines.index("smoke test passed")
