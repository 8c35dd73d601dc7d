"""The index's one public API (index/__init__.py, index/facade.py), the one error tree
(corpus/errors.py), and the rule that nothing outside index/ reaches into its files."""
from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import index
from corpus import errors
from index.facade import FaissSqliteBackend, IndexBackend, SearchIndex
from index.store import IndexStore

ROOT = Path(__file__).resolve().parent.parent
ISNAD = str(Path(sys.executable).with_name("isnad"))

EXPORTED = {
    "SearchIndex", "IndexBackend", "FaissSqliteBackend", "FAISS_SQLITE",
    "backend_for", "parse_store", "StoreSpecError", "RayEmbedder",
    "open_index", "ensure_index", "build_index", "update_index", "add_documents", "remove_documents",
    "index_status", "live_manifest", "as_langchain_embeddings", "live_signature", "live_generation_name",
    "embedder_spec_for",
    "Embedder", "make_embedder", "DEFAULT_EMBEDDER",
    "StoredChunk", "StoredSentence", "StoredDocument", "IndexedChunk", "Manifest", "IndexStatus",
    "BuildReport", "AddReport", "IndexParams", "ArabicAnalyzer", "Stage", "ADDED_PREFIX", "FORMATS",
    "search_single_thread",
    "IndexProblem", "IndexMissingError", "IndexMismatchError", "IndexCorruptError", "EmbedderError", "AddError",
}


def test_the_public_api_is_exactly_what_all_exports():
    assert set(index.__all__) == EXPORTED
    assert len(index.__all__) == len(set(index.__all__))
    for name in index.__all__:
        assert getattr(index, name) is not None, name


def _protocol_members(proto) -> set[str]:
    return {n for n in vars(proto) if not n.startswith("_")} | set(getattr(proto, "__annotations__", {}))


@pytest.mark.parametrize("proto, impl", [(SearchIndex, IndexStore), (IndexBackend, FaissSqliteBackend)])
def test_the_faiss_store_implements_the_protocols_with_their_signatures(proto, impl):
    members = _protocol_members(proto)
    assert members, proto
    for name in members:
        if name in proto.__annotations__ and not callable(getattr(proto, name, None)):
            continue  # a data attribute (manifest, analyzer): set in __init__
        assert hasattr(impl, name), f"{impl.__name__} lacks {name}"
        want = getattr(proto, name)
        if isinstance(want, property):
            assert isinstance(getattr(impl, name), property), name
            continue
        got_params = list(inspect.signature(getattr(impl, name)).parameters)
        want_params = list(inspect.signature(want).parameters)
        assert got_params == want_params, (name, got_params, want_params)


def _python_files(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


# What only index/ may know: its storage, its generation directories, the manifest's text.
_INSIDE = re.compile(r"\bsqlite3\b|['\"]gen-|\bCURRENT_NAME\b|['\"]CURRENT['\"]|manifest\.json|Manifest\.read"
                     r"|\blive_generation\(|SQLITE_NAME|FAISS_NAME")


@pytest.mark.parametrize("path", list(_python_files("ui", "qa", "evals")), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_outside_index_touches_its_files_or_submodules(path):
    text = path.read_text(encoding="utf-8")
    assert not _INSIDE.search(text), f"{path.name}: {_INSIDE.search(text).group(0)!r} belongs inside index/"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index."):
            pytest.fail(f"{path.name}:{node.lineno}: imports {node.module}; use `from index import ...`")
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("index."), f"{path.name}:{node.lineno}: import {alias.name}"


def test_every_exception_class_of_isnad_is_in_the_one_tree():
    """Every exception class defined in the packages descends from IsnadError."""
    import importlib

    found = []
    for path in _python_files("corpus", "index", "qa", "ui", "evals"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and re.search(r"(Error|Exception|Problem)$", node.name):
                found.append((module, node.name))
    assert len(found) >= 10
    for module, name in found:
        if module.startswith("ui.app"):
            continue  # not imported here (gradio); none is defined there today
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, errors.IsnadError), f"{module}.{name}"
    usage = [n for m, n in found if n == "UsageError"]
    assert usage == ["UsageError"], "UsageError is defined once (corpus.errors)"


def test_exit_codes_by_kind():
    from index.embedders import EmbedderError
    from qa.engine import QuestionError
    from ui.cli import EXIT_FAIL, EXIT_USAGE, exit_code_for

    for exc in (errors.UsageError("x"), QuestionError("x"), errors.DocumentError("x"),
                errors.IndexMissingError("x"), EmbedderError("x"), FileNotFoundError(2, "x", "f")):
        assert exit_code_for(exc) == EXIT_USAGE, exc
    for exc in (RuntimeError("x"), errors.DiskFullError("x"), errors.IsnadError("x")):
        assert exit_code_for(exc) == EXIT_FAIL, exc


@pytest.mark.parametrize("args, message", [
    (["ask", "--k", "0", "سؤال"], "--k must be between 1 and 50"),
    (["ask", "--bidi", "sideways", "سؤال"], "invalid choice"),
    (["remove", "added/nothing.txt"], "no such document"),
])
def test_bad_input_is_exit_2_and_one_line(tmp_path, args, message):
    env = {**os.environ, "ISNAD_HOME": str(tmp_path / "home")}
    r = subprocess.run([ISNAD, *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(lines) == 1 or lines[0].startswith("usage:"), r.stderr
    assert not (tmp_path / "home" / "index").exists() or args[0] == "remove"
