"""evals/load.py, the load driver of `isnad serve` (issue 15): it refuses what it must
never do (a target off this machine, an unbounded run) with one line and exit 2, before
sending anything. The 20-client measurement itself is test_reliability_app.py's slow
load test and the README's `python -m evals.load` figures."""
from __future__ import annotations

import subprocess
import sys


def run_load(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evals.load", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_only_this_machine_is_a_target():
    for url in ("http://203.0.113.7:7860/", "http://example.org/", "http://10.1.2.3:7860/"):
        proc = run_load("--url", url, "--seconds", "1", "--clients", "1")
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert "only targets this machine" in lines[0] and "Traceback" not in proc.stderr


def test_runs_are_bounded():
    for args in (("--seconds", "0"), ("--seconds", "7200"), ("--clients", "0")):
        proc = run_load("--url", "http://127.0.0.1:9/", *args)
        assert proc.returncode == 2 and "--seconds" in proc.stderr, proc.stderr


def test_a_server_that_never_answers_is_errors_not_a_hang():
    """Clients that cannot even connect are counted as errors of the run (exit 1), and
    the run still ends on time (a failure before the measured window used to vanish)."""
    import json
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_load("--url", f"http://127.0.0.1:{port}/", "--seconds", "2", "--clients", "2", "--procs", "1",
                    "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["answered"] == 0 and report["errors"] == 2, report
    assert "Traceback" not in proc.stderr
