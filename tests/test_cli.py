"""The `isnad` command line as a user runs it: real subprocesses, exit codes,
one-line errors, JSON and batch output."""
from __future__ import annotations

import json
import os
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
    assert "[1]" in r.stdout and "baku-tashkent-alliance-treaty-2024.txt" in r.stdout


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
