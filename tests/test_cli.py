"""The `isnad` command line as a user runs it: real subprocesses, exit codes,
one-line errors, JSON and batch output."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ISNAD = str(Path(sys.executable).with_name("isnad"))


def run(*args, home, stdin=None, timeout=300):
    env = {**os.environ, "ISNAD_HOME": str(home)}
    return subprocess.run([ISNAD, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_ask_json_on_a_built_index(shipped_home):
    r = run("ask", "ما هي مناورات بيرليك 2025؟", "--json", "--k", "3", home=shipped_home)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["question"] == "ما هي مناورات بيرليك 2025؟"
    assert len(d["passages"]) == 3 and d["citations"][0]["n"] == 1


def test_ask_prints_answer_and_sources(shipped_home):
    r = run("ask", "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟", home=shipped_home)
    assert r.returncode == 0, r.stderr
    # The quote dates the treaty (2024), not «الشهر الماضي», and the source line names the file.
    assert "[1]" in r.stdout and "2024" in r.stdout.split("[1]")[0]
    assert re.search(r"^\[1\] .+\(\S+\.txt\)$", r.stdout, re.M), r.stdout


@pytest.mark.parametrize("question", ["", "   ", "x" * 100_000])
def test_bad_question_exit_2_one_line_no_traceback(shipped_home, question):
    r = run("ask", question, home=shipped_home)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("isnad: error:")


def test_batch_keeps_order_reports_broken_lines_and_answers_the_rest(shipped_home, tmp_path):
    lines = [
        json.dumps({"id": "a", "question": "ما هي مناورات بيرليك 2025؟"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c", "question": "   "}),
        json.dumps({"id": 4, "question": "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"}, ensure_ascii=False),
    ]
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("ask", "--batch", str(batch), "--json", home=shipped_home)
    assert r.returncode == 2, "broken lines make the exit code 2, after answering the rest"
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", None, "c", 4]
    assert "answer" in out[0] and "answer" in out[3]
    assert out[1]["line"] == 2 and out[2]["line"] == 3
    assert ":2:" in r.stderr and ":3:" in r.stderr and "Traceback" not in r.stderr


def test_batch_from_stdin(shipped_home):
    stdin = "\n".join(json.dumps({"id": i, "question": q}, ensure_ascii=False) for i, q in
                      enumerate(["ما هي مناورات بيرليك 2025؟", "ما المقر الدائم لمنظمة الدول التركية؟"]))
    r = run("ask", "--batch", "-", "--json", home=shipped_home, stdin=stdin)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == [0, 1]


def test_missing_batch_file_is_a_usage_error(shipped_home, tmp_path):
    r = run("ask", "--batch", str(tmp_path / "nope.jsonl"), home=shipped_home)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_usage_errors(shipped_home):
    assert run("ask", home=shipped_home).returncode == 2
    assert run("frobnicate", home=shipped_home).returncode == 2
    assert run("ask", "q", "--k", "0", home=shipped_home).returncode == 2


def test_index_of_a_folder_that_is_not_there(tmp_path):
    r = run("index", "--docs", str(tmp_path / "missing"), home=tmp_path / "h")
    assert r.returncode == 2 and "not a directory" in r.stderr


def test_first_ask_on_a_fresh_home_builds_the_shipped_index(tmp_path, shipped_home):
    # Reuse the shipped build's embedding cache so this stays fast.
    import shutil

    home = tmp_path / "fresh"
    shutil.copytree(Path(shipped_home) / "cache", home / "cache")
    r = run("ask", "ما هي مناورات بيرليك 2025؟", home=home)
    assert r.returncode == 0, r.stderr
    assert "building the index" in r.stderr
    assert (home / "index" / "CURRENT").exists()


def test_index_own_documents_then_ask(tmp_path):
    docs = tmp_path / "docs" / "reports"
    docs.mkdir(parents=True)
    (docs / "a.md").write_text("# تقرير الطاقة\n\nافتتحت محطة الرياح الجديدة في مدينة نوكوس عام ٢٠٢٣ بقدرة مئة ميغاواط.\n", encoding="utf-8")
    (docs / "b.txt").write_text("زار الوفد التجاري مدينة خيوة لبحث السياحة.\n", encoding="utf-8")
    home = tmp_path / "h"
    r = run("index", "--docs", str(tmp_path / "docs"), home=home)
    assert r.returncode == 0, r.stderr
    assert "2 added" in r.stdout
    r = run("ask", "متى افتتحت محطة الرياح في نوكوس؟", "--json", home=home)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["citations"][0]["doc_id"] == "reports/a.md"
    assert "2023" not in d["citations"][0]["quote"] and "٢٠٢٣" in d["citations"][0]["quote"]
    r = run("index", home=home)
    assert r.returncode == 0 and "up to date" in r.stdout


def test_chat_in_the_terminal(shipped_home):
    r = run("chat", home=shipped_home, stdin="ما هي مناورات بيرليك 2025؟\nومن شارك فيها؟\n/quit\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("[1]") >= 2


# -- the parser, as the console script parses it -------------------------------------------
def _subcommands() -> list[str]:
    r = subprocess.run([ISNAD, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    listed = re.findall(r"^    (\w+) {2,}\S.*$", r.stdout, re.M)  # one line each: name, help
    assert listed, r.stdout
    return listed


def test_isnad_help_lists_every_subcommand_with_one_line():
    assert {"index", "ask", "chat", "serve", "eval", "bench"} <= set(_subcommands())


@pytest.mark.parametrize("sub", _subcommands())
def test_every_subcommand_help_exits_0(sub, tmp_path):
    r = run(sub, "--help", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: isnad {sub}") and "--home" in r.stdout and not r.stderr


def test_eval_and_bench_options_reach_their_parsers_without_dashdash(tmp_path):
    r = run("eval", "--help", home=tmp_path)
    for opt in ("--suite", "--json", "--out", "--compare", "--systems", "--gate", "--limit", "--arcd-corpus"):
        assert opt in r.stdout, opt
    r = run("bench", "--help", home=tmp_path)
    for opt in ("--json", "--quick", "--repeats", "--only", "--skip", "--scale-sizes"):
        assert opt in r.stdout, opt
    r = run("eval", "--suite", "nope", home=tmp_path)
    assert r.returncode == 2 and "invalid choice: 'nope'" in r.stderr
    r = run("eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), home=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("isnad eval: --compare") and "Traceback" not in r.stderr
    r = run("bench", "--only", "nonsense", home=tmp_path)
    assert r.returncode == 2 and "unknown section 'nonsense'" in r.stderr
    r = run("--home", str(tmp_path), "bench", "--repeats", "0", home=tmp_path)
    assert r.returncode == 2 and "--repeats" in r.stderr


def test_eval_corpus_writes_the_report_files(shipped_home, tmp_path):
    """`isnad eval --suite corpus --out DIR`: report.md, report.json and the PNG in DIR
    (the suite's index is the session's shipped-corpus index; --limit keeps it short)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "corpus").symlink_to(shipped_home, target_is_directory=True)
    out = tmp_path / "report"
    r = run("eval", "--suite", "corpus", "--out", str(out), "--cache", str(cache), "--limit", "8",
            "--quiet", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    for name in ("report.md", "report.json", "recall_at_k.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "recall_at_k.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["suites"]["corpus"]["questions"] == 8
    assert report["config"]["command"][:2] == ["isnad", "eval"] and "--suite" in report["config"]["command"]
    r = run("eval", "--suite", "corpus", "--cache", str(cache), "--limit", "3", "--systems", "isnad",
            "--json", "--quiet", "--out", str(tmp_path / "r2"), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["suites"]["corpus"]


# -- pipes closed early, JSON as UTF-8 --------------------------------------------------------
def run_into_closed_pipe(*args, home, stdin=None):
    """Run with stdout a pipe whose reader is already gone (as `| head -c 0` leaves it)."""
    r_fd, w_fd = os.pipe()
    os.close(r_fd)
    try:
        proc = subprocess.run([ISNAD, *args], stdout=w_fd, stderr=subprocess.PIPE, input=stdin,
                              env={**os.environ, "ISNAD_HOME": str(home)}, timeout=300,
                              **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    finally:
        os.close(w_fd)
    return proc


@pytest.mark.parametrize("args", [
    ["ask", "ما هي مناورات بيرليك 2025؟"],
    ["ask", "ما هي مناورات بيرليك 2025؟", "--json"],
    ["ask", "--batch", "-", "--json"],
    ["--help"],
    ["eval", "--help"],
])
def test_closed_pipe_ends_quietly(shipped_home, args):
    stdin = None
    if "--batch" in args:
        stdin = "".join(json.dumps({"id": i, "question": "ما هي مناورات بيرليك 2025؟"}, ensure_ascii=False)
                        + "\n" for i in range(3)).encode()
    r = run_into_closed_pipe(*args, home=shipped_home, stdin=stdin)
    assert r.returncode in (0, 141), r.stderr
    assert r.stderr.decode() == "", "no 'Broken pipe' message, no traceback"


def test_head_of_a_pipe_in_a_shell(shipped_home):
    r = subprocess.run(["bash", "-c", f'set -o pipefail; "{ISNAD}" ask --json "ما هي مناورات بيرليك 2025؟" '
                                      "| head -c 1"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "ISNAD_HOME": str(shipped_home)})
    assert r.returncode in (0, 141) and r.stdout == "{" and r.stderr == "", r.stderr


def test_json_is_utf8_arabic_even_under_a_latin1_locale(shipped_home):
    env = {**os.environ, "ISNAD_HOME": str(shipped_home), "PYTHONIOENCODING": "latin-1", "LC_ALL": "C"}
    q = "ما هي مناورات بيرليك 2025؟"
    r = subprocess.run([ISNAD, "ask", q, "--json"], capture_output=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode("utf-8")
    assert q in text and "\\u06" not in text
    assert json.loads(text)["question"] == q


# -- Arabic in the terminal -------------------------------------------------------------------
Q_AR = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"


def run_in_terminal(*args, home, columns=60, env_extra=None):
    """Run with stdout a real terminal (a pty of `columns` columns); returns (code, text)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "ISNAD_HOME": str(home), **(env_extra or {})}
    env.pop("COLUMNS", None)
    proc = subprocess.Popen([ISNAD, *args], stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=300)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_terminal_gets_visual_order_wrapped_at_words_pipe_gets_logical(shipped_home):
    from ui.terminal import display_width

    logical = run("ask", Q_AR, home=shipped_home)
    assert logical.returncode == 0, logical.stderr
    answer = json.loads(run("ask", Q_AR, "--json", home=shipped_home).stdout)["answer"]
    assert logical.stdout.startswith(answer), "a pipe gets the logical text unchanged"

    code, shown = run_in_terminal("ask", Q_AR, home=shipped_home, columns=60)
    assert code == 0
    lines = [l for l in shown.split("\n") if l.strip()]
    assert all(display_width(l) <= 60 for l in lines), "wrapped to the terminal width"
    words = set(answer.split())
    first_words = answer.split()[:2]
    first = lines[0].split()
    # right-to-left: the answer's first word is the rightmost, with its letters reversed
    assert first[-1] == _reversed_word(first_words[0]) and first[-2] == _reversed_word(first_words[1])
    assert lines[0].startswith(" ") or len(lines[0]) >= 55, "right-aligned"
    for line in lines[:3]:  # every visual word is a whole logical word: no word cut in two
        for w in line.split():
            assert _reversed_word(w) in words or w in words, w
    code_off, off = run_in_terminal("--bidi", "off", "ask", Q_AR, home=shipped_home, columns=60)
    assert answer.split()[0] in off.split("\n")[0], "--bidi off: logical order, for terminals doing bidi"


def _reversed_word(word: str) -> str:
    """A word of Arabic letters as a terminal without bidi must receive it: letters
    reversed, each combining mark still after its letter."""
    import unicodedata

    clusters: list[str] = []
    for ch in word:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    mirror = {"(": ")", ")": "(", "[": "]", "]": "[", "«": "»", "»": "«"}
    return "".join(mirror.get(c, c) for c in reversed(clusters))


def test_bidi_flag_and_environment_variable(shipped_home):
    env = {**os.environ, "ISNAD_HOME": str(shipped_home)}
    plain = run("ask", Q_AR, home=shipped_home).stdout
    on = subprocess.run([ISNAD, "ask", Q_AR], capture_output=True, text=True, timeout=300,
                        env={**env, "ISNAD_BIDI": "on"}).stdout
    assert on != plain and _reversed_word(plain.split()[0]) in on
    off = subprocess.run([ISNAD, "--bidi", "off", "ask", Q_AR], capture_output=True, text=True, timeout=300,
                         env={**env, "ISNAD_BIDI": "on"}).stdout
    assert off == plain, "the flag wins over the variable"
    bad = subprocess.run([ISNAD, "ask", Q_AR], capture_output=True, text=True, timeout=300,
                         env={**env, "ISNAD_BIDI": "sideways"})
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "ISNAD_BIDI" in bad.stderr
    assert run("ask", Q_AR, "--bidi", "maybe", home=shipped_home).returncode == 2


def test_citations_name_title_and_line_not_offsets(shipped_home):
    from corpus.loaders import SHIPPED_DOCUMENTS

    d = json.loads(run("ask", Q_AR, "--json", home=shipped_home).stdout)
    c = d["citations"][0]
    text = (SHIPPED_DOCUMENTS / c["doc_id"]).read_text(encoding="utf-8")
    assert text[c["start"]:c["end"]] == c["quote"]
    line = text[:c["start"]].count("\n") + 1
    out = run("ask", Q_AR, home=shipped_home).stdout
    cite = next(l for l in out.splitlines() if l.startswith("[1] "))
    assert c["title"] in cite and f"السطر {line}" in cite and c["doc_id"] in cite
    assert f'{c["start"]}-{c["end"]}' not in out and not re.search(r"\d+-\d+\)", cite)


@pytest.mark.parametrize("question, header, other", [
    ("ما هي عاصمة أستراليا؟", "أقرب المقاطع:", "Closest passages"),
    ("What is the capital of Australia?", "Closest passages:", "أقرب المقاطع"),
])
def test_abstention_lists_closest_passages_in_the_question_language(shipped_home, question, header, other):
    r = run("ask", question, home=shipped_home)
    assert r.returncode == 0, r.stderr
    d = json.loads(run("ask", question, "--json", home=shipped_home).stdout)
    assert d["abstained"], "an off-corpus question"
    assert header in r.stdout and other not in r.stdout and "/" not in r.stdout.split(header)[0][-3:]


# -- bench --quick ------------------------------------------------------------------------------
@pytest.mark.slow
def test_bench_quick_is_quick_and_says_what_it_skipped(shipped_home, tmp_path):
    """`isnad bench --quick` on the README's set-up (an index of the shipped corpus in
    the data directory): under a minute on 2 cores, and it says what it left out."""
    import shutil
    import time

    home = tmp_path / "home"
    shutil.copytree(shipped_home, home)
    t0 = time.monotonic()
    r = run("bench", "--quick", home=home, timeout=600)
    seconds = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert seconds < 60, f"isnad bench --quick took {seconds:.0f} s"
    for section in ("build", "batch", "serve"):
        assert f"quick run: skipped {section}" in r.stdout, section
    assert "Warm latency" in r.stdout and "Cold start" in r.stdout and "Targets" in r.stdout
    report = json.loads(next(home.glob("reports/bench-*.json")).read_text(encoding="utf-8"))
    assert report["config"]["quick"] and len(report["config"]["quick_skipped"]) >= 3
    assert isinstance(report["warm"], dict) and isinstance(report["cold"], dict)
    assert report["cold"]["imports"]["heavy_modules_loaded"] == []
