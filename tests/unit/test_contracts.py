"""The documented Answer JSON (qa/ANSWER_CONTRACT.md) is what Answer.to_dict() gives."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.types import Answer, Citation, Passage

pytestmark = pytest.mark.unit

CONTRACT = Path(__file__).resolve().parents[2] / "qa" / "ANSWER_CONTRACT.md"


def documented_fields() -> dict[str, list[str]]:
    """Section heading -> the `field` names of its tables ("Answer" holds the
    generative-only table too, under "Answer (optional)")."""
    fields: dict[str, list[str]] = {}
    section = ""
    optional = False
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section, optional = line[3:].strip(), False
        elif line.startswith("Only in generative mode"):
            optional = True
        elif m := re.match(r"^\| `(\w+)` \|", line):
            fields.setdefault(f"{section} (optional)" if optional else section, []).append(m.group(1))
    return fields


def sample_answer(**extra) -> dict:
    passage = Passage("a.pdf", "A", "a.pdf#0", "نص المقطع", 0, 9, 0.9, "", 2)
    citation = Citation(1, "a.pdf", "A", "a.pdf#0", "نص", "نص المقطع", 0, 2, 0.8, "", 2)
    return Answer("سؤال؟", "نص [1]", False, [citation], [passage], {"total": 1.0}, id=7, **extra).to_dict()


def test_the_documented_fields_are_the_emitted_ones():
    doc = documented_fields()
    got = sample_answer()
    assert doc["Answer"] == list(got)
    assert doc["Citation"] == list(got["citations"][0])
    assert doc["Passage"] == list(got["passages"][0])


def test_the_generative_extras_are_documented_and_only_set_when_set():
    doc = documented_fields()
    with_extras = sample_answer(model="ollama:x", notice="fell back")
    assert list(with_extras) == doc["Answer"] + doc["Answer (optional)"]
    assert "confidence" not in with_extras


CLI_DOC = Path(__file__).resolve().parents[2] / "ui" / "CLI.md"


def test_the_documented_commands_and_options_are_the_parsers():
    import argparse

    from ui.cli import SUBCOMMANDS, build_parser

    table = {}
    for line in CLI_DOC.read_text(encoding="utf-8").split("## Global options")[0].splitlines():
        if m := re.match(r"^\| `(\w+)` \| (.*?) \|", line):
            table[m.group(1)] = m.group(2)
    assert list(table) == [c.name for c in SUBCOMMANDS]
    parser = build_parser(["index", "ask", "chat", "serve", "docs", "add", "remove"])
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    globals_doc = CLI_DOC.read_text(encoding="utf-8").split("## Global options")[1].split("\n## ")[0]
    common = set(re.findall(r"^\| `(--[\w-]+)", globals_doc, re.M)) | {"--help", "-h"}
    assert {"--home", "--embedder", "--bidi", "--debug"} <= common
    for name, cell in table.items():
        if name in ("eval", "bench"):
            continue
        options = {o for a in subparsers[name]._actions for o in a.option_strings} - common
        assert set(re.findall(r"`(--[\w-]+)", cell)) == options, name
