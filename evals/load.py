"""Load on `isnad serve`: many gradio_client users asking at once, for a fixed time.

    python -m evals.load [--url URL | --home DIR [--concurrency N]] [--clients 20] [--seconds 60]
                         [--procs 4] [--questions FILE.jsonl] [--json] [--out FILE]

Without --url it starts `isnad --home DIR serve` on a free loopback port (the
console script beside this Python), waits for it, drives it and stops it. Each
client is one gradio_client.Client (one session, like a browser tab) asking the
public `/ask` endpoint without pause. Clients run in --procs processes (the
clients' own CPU must not be what is measured: one Python process with 20 SSE
clients saturates its GIL before the server does). The request loop is bounded by
--seconds (and --max-questions); only loopback addresses are ever driven.

The report: answered, errors, throughput (q/s), p50/p95/max latency, the server's
RSS, and the machine's load average (the machine may be shared: read absolute
throughput with it). Exit code 0 when every request was answered, 1 otherwise, 2
for bad usage.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

QUESTIONS = Path(__file__).resolve().parent / "questions" / "corpus.jsonl"
LOOPBACK = ("127.", "localhost", "[::1]", "::1")


@dataclass
class LoadReport:
    url: str
    clients: int
    procs: int
    seconds: float
    answered: int
    errors: int
    throughput_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    loadavg_1min: dict = field(default_factory=dict)
    server_rss_mb: dict = field(default_factory=dict)
    # The server's own CPU time per answered question (user + system, all threads): on a
    # shared machine the one figure that does not depend on who else is running. Two
    # cores can serve at most 2 / this many questions per second (clients elsewhere).
    server_cpu_ms_per_question: float | None = None
    # The gradio_client processes' CPU in the window per question answered: on one
    # machine the clients share the cores, so server + client CPU bound the throughput.
    client_cpu_ms_per_question: float | None = None
    cpus: int = 0
    error_samples: list[str] = field(default_factory=list)

    def meets(self, min_qps: float = 30.0, max_p95_ms: float = 1000.0) -> bool:
        """Issue 15's target: >= 30 q/s sustained, p95 <= 1 s, no error."""
        return (self.errors == 0 and self.throughput_per_s >= min_qps
                and self.p95_ms is not None and self.p95_ms <= max_p95_ms)


def load_questions(path: Path = QUESTIONS) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


REPLY_TIMEOUT = 60.0  # a question unanswered this long is an error (and the run still ends)


def _client_process(url: str, ids: list[int], n_clients: int, questions: list[str], k: int,
                    started: float, deadline: float, max_each: int, out: mp.Queue,
                    verify_tls: bool = False) -> None:
    """Clients `ids` of this process: each asks until `deadline` (wall clock). Whatever
    happens, the process reports what it measured (a client that cannot connect, or a
    reply that never comes, is an error in the report, not a hung run)."""
    results: list[tuple[float, float, str | None]] = []  # (finished at, seconds, error)
    cpu: list[float] = []  # this process's CPU time at `started` and at `deadline`

    def clock() -> None:
        for at in (started, deadline):
            time.sleep(max(0.0, at - time.time()))
            cpu.append(time.process_time())

    threading.Thread(target=clock, daemon=True).start()
    try:
        _ask_until(url, ids, n_clients, questions, k, deadline, max_each, results, verify_tls)
    except Exception as exc:  # noqa: BLE001 - reported as errors of these clients
        at = min(max(time.time(), started), deadline)  # counted in the window, whenever it failed
        results += [(at, 0.0, f"{type(exc).__name__}: {exc}"[:300]) for _ in ids]
    out.put((results, cpu[1] - cpu[0] if len(cpu) == 2 else 0.0))


def _ask_until(url: str, ids: list[int], n_clients: int, questions: list[str], k: int,
               deadline: float, max_each: int, results: list, verify_tls: bool = False) -> None:
    from gradio_client import Client

    # gradio_client makes two httpx clients per question, each building a certificate-
    # verifying SSL context (the CA bundle parsed: ~45 ms of CPU each here) even for a
    # plain http:// URL, where no TLS is ever used. On one machine that was more CPU per
    # question than the server's whole work (README "Many users"): for http:// the
    # clients are told not to verify (a bare context, no CA bundle); https:// verifies.
    verify = verify_tls or not url.lower().startswith("http://")
    clients = {n: Client(url, verbose=False, ssl_verify=verify) for n in ids}
    lock = threading.Lock()

    def loop(n: int) -> None:
        i, asked = n, 0
        while time.time() < deadline and asked < max_each:
            q = questions[i % len(questions)]
            i += n_clients
            asked += 1
            t0 = time.perf_counter()
            try:
                answer = clients[n].submit(q, k, api_name="/ask").result(timeout=REPLY_TIMEOUT)
                ok = isinstance(answer, dict) and isinstance(answer.get("answer"), str)
                problem = None if ok else f"unexpected reply {str(answer)[:200]}"
            except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                problem = f"{type(exc).__name__}: {exc}"[:300]
            with lock:
                results.append((time.time(), time.perf_counter() - t0, problem))

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients.values():
        c.close()


def drive(url: str, clients: int = 20, seconds: float = 60.0, procs: int = 4,
          questions: list[str] | None = None, k: int = 5, max_questions: int = 100_000,
          server_pid: int | None = None, log=lambda _m: None, verify_tls: bool = False) -> LoadReport:
    """Drive the app at `url` (loopback only) and measure it."""
    host = urlparse(url).hostname or ""
    if not any(host.startswith(p.strip("[]")) for p in LOOPBACK):
        raise ValueError(f"{url}: the load driver only targets this machine (127.0.0.1, localhost, ::1)")
    questions = questions or load_questions()
    procs = max(1, min(procs, clients))
    groups = [list(range(clients))[p::procs] for p in range(procs)]
    ctx = mp.get_context("spawn")  # no fork of a process with threads
    out: mp.Queue = ctx.Queue()
    start_delay = 8.0  # every process imports gradio_client and connects before the clock starts
    started = time.time() + start_delay
    deadline = started + seconds
    max_each = max(1, max_questions // clients)
    workers = [ctx.Process(target=_client_process,
                           args=(url, g, clients, questions, k, started, deadline, max_each, out, verify_tls),
                           daemon=True)
               for g in groups]
    for w in workers:
        w.start()
    ps = _process(server_pid)
    rss: dict[str, float] = {}
    samples: list[float] = []
    time.sleep(max(0.0, started - time.time()))
    cpu0 = None
    if ps is not None:
        rss["start"] = ps.memory_info().rss / 2**20
        cpu0 = sum(ps.cpu_times()[:2])
    log(f"{clients} clients in {procs} processes for {seconds:.0f} s against {url}")
    while time.time() < deadline:
        samples.append(os.getloadavg()[0])
        time.sleep(min(5.0, max(0.0, deadline - time.time())))
    cpu = sum(ps.cpu_times()[:2]) - cpu0 if cpu0 is not None else None
    results: list[tuple[float, float, str | None]] = []
    client_cpu = 0.0
    for _ in workers:
        got, cpu_s = out.get(timeout=seconds + REPLY_TIMEOUT + 120)
        results.extend(got)
        client_cpu += cpu_s
    for w in workers:
        w.join(timeout=30)
    if ps is not None:
        rss["end"] = ps.memory_info().rss / 2**20
    # Only what finished inside the window counts: warm-up connections are outside it.
    inside = [(took, err) for at, took, err in results if started <= at <= deadline + 0.5]
    lat = sorted(took for took, err in inside if err is None)
    errors = [err for _, err in inside if err is not None]
    quant = statistics.quantiles(lat, n=100) if len(lat) >= 2 else None
    return LoadReport(
        url=url, clients=clients, procs=procs, seconds=round(seconds, 1), answered=len(lat),
        errors=len(errors), throughput_per_s=round(len(lat) / seconds, 2),
        p50_ms=round(quant[49] * 1000, 1) if quant else None,
        p95_ms=round(quant[94] * 1000, 1) if quant else None,
        max_ms=round(lat[-1] * 1000, 1) if lat else None,
        loadavg_1min={"min": min(samples, default=None), "max": max(samples, default=None),
                      "mean": round(statistics.mean(samples), 2) if samples else None},
        server_rss_mb={k: round(v, 1) for k, v in rss.items()}, cpus=os.cpu_count() or 0,
        server_cpu_ms_per_question=round(cpu * 1000 / len(lat), 1) if cpu is not None and lat else None,
        client_cpu_ms_per_question=round(client_cpu * 1000 / len(lat), 1) if lat else None,
        error_samples=errors[:5],
    )


def _process(pid: int | None):
    if pid is None:
        return None
    try:
        import psutil

        return psutil.Process(pid)
    except Exception:  # noqa: BLE001 - RSS is optional in the report
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, log_file: Path, extra: list[str] | None = None,
                 serve_args: list[str] | None = None, timeout: float = 300) -> tuple[subprocess.Popen, str]:
    """`isnad --home HOME serve --port P` (the console script next to this Python)."""
    isnad = Path(sys.executable).with_name("isnad")
    port = free_port()
    out = open(log_file, "w", encoding="utf-8")
    proc = subprocess.Popen([str(isnad), "--home", str(home), *(extra or []), "serve", "--port", str(port),
                             *(serve_args or [])],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"`isnad serve` exited with {proc.returncode}: "
                               + log_file.read_text(errors="replace")[-500:])
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"`isnad serve` not up after {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def format_report(r: LoadReport) -> str:
    verdict = "meets" if r.meets() else "misses"
    return (f"{r.answered} questions in {r.seconds:.0f} s from {r.clients} clients: "
            f"{r.throughput_per_s} q/s, p50 {r.p50_ms} ms, p95 {r.p95_ms} ms, max {r.max_ms} ms, "
            f"{r.errors} errors; load average (1 min) {r.loadavg_1min.get('mean')} on {r.cpus} cores; "
            f"server RSS {r.server_rss_mb}, server CPU {r.server_cpu_ms_per_question} ms and client CPU "
            f"{r.client_cpu_ms_per_question} ms per question; {verdict} the target (>= 30 q/s, p95 <= 1 s, no error)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="an `isnad serve` already running on this machine")
    p.add_argument("--home", help="data directory of the server to start (default $ISNAD_HOME)")
    p.add_argument("--store", help="--store for the server to start")
    p.add_argument("--concurrency", type=int, help="`isnad serve --concurrency N` for the server to start")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--procs", type=int, default=4, help="client processes (default 4)")
    p.add_argument("--max-questions", type=int, default=100_000)
    p.add_argument("--questions", help="JSONL with a 'question' per line (default the fixed set)")
    p.add_argument("--verify-tls", action="store_true",
                   help="gradio_client's default even for http:// (a verifying SSL context per request)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", help="also write the JSON report here")
    args = p.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.seconds > 3600:
        print("python -m evals.load: --clients >= 1 and 0 < --seconds <= 3600", file=sys.stderr)
        return 2
    try:
        questions = load_questions(Path(args.questions)) if args.questions else load_questions()
    except (OSError, ValueError, KeyError) as exc:
        print(f"python -m evals.load: cannot read the questions: {exc}", file=sys.stderr)
        return 2
    say = lambda m: print(f"load: {m}", file=sys.stderr, flush=True)  # noqa: E731
    proc = None
    try:
        if args.url:
            url, pid = args.url, None
        else:
            home = Path(args.home or os.environ.get("ISNAD_HOME") or "").expanduser()
            if not str(home) or str(home) == ".":
                print("python -m evals.load: give --url, --home or ISNAD_HOME", file=sys.stderr)
                return 2
            home.mkdir(parents=True, exist_ok=True)
            extra = ["--store", args.store] if args.store else []
            serve = ["--concurrency", str(args.concurrency)] if args.concurrency else []
            proc, url = start_server(home, home / "load-serve.log", extra, serve)
            pid = proc.pid
            say(f"started isnad serve at {url}")
        report = drive(url, args.clients, args.seconds, args.procs, questions,
                       max_questions=args.max_questions, server_pid=pid, log=say, verify_tls=args.verify_tls)
    except (ValueError, RuntimeError) as exc:
        print(f"python -m evals.load: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    finally:
        if proc is not None:
            stop_server(proc)
    text = json.dumps(asdict(report), ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text if args.json else format_report(report))
    return 0 if report.errors == 0 and report.answered > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
