"""The documented contracts against the installed `isnad` command: the Answer JSON
fields of qa/ANSWER_CONTRACT.md are those `isnad ask --json` prints, and
IsnadRetriever returns the passages `isnad ask` lists (English questions included)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_contracts import documented_fields

ISNAD = Path(sys.executable).with_name("isnad")


def ask_json(home: Path, question: str, k: int = 5) -> dict:
    env = {**os.environ, "ISNAD_HOME": str(home)}
    run = subprocess.run([str(ISNAD), "ask", question, "--json", "--k", str(k)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_ask_json_has_the_documented_fields(shipped_home):
    got = ask_json(shipped_home, "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟")
    doc = documented_fields()
    assert list(got) == doc["Answer"]
    assert got["citations"] and all(list(c) == doc["Citation"] for c in got["citations"])
    assert got["passages"] and all(list(p) == doc["Passage"] for p in got["passages"])


@pytest.mark.parametrize("question", [
    "ما هي مناورات بيرليك 2025؟",
    "What were the Birlik 2025 exercises?",
    "Where did the Central Asian defence ministers meet in Samarkand?",
])
def test_langchain_retriever_returns_the_passages_of_isnad_ask(shipped_home, shipped_engine, question):
    from qa.langchain_retriever import IsnadRetriever

    cli = [(p["doc_id"], p["chunk_id"], p["page"]) for p in ask_json(shipped_home, question)["passages"]]
    docs = IsnadRetriever(engine=shipped_engine, k=5).invoke(question)
    assert [(d.metadata["doc_id"], d.metadata["chunk_id"], d.metadata["page"]) for d in docs] == cli
