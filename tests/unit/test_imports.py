"""The import graph of the production packages, read with ast (function-local and
TYPE_CHECKING imports included): no cycle, and data flows one way.

    corpus -> index -> qa -> evals -> ui

A package may import itself and the packages left of it, never one to its right
(ui may import evals: `isnad eval` and `isnad bench` are commands of the CLI).
"""
from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("corpus", "index", "qa", "evals", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def production_modules() -> dict[str, Path]:
    return {module_name(p): p for layer in LAYERS for p in sorted((REPO / layer).rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports anywhere in its code (not in strings)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the module pkg.sub when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a name inside a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = production_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_graph_is_read():
    graph = import_graph()
    assert len(graph) > 60
    assert "qa.retriever" in graph["qa.engine"]
    assert "qa.question" in graph["qa.chat"]
    assert "qa.generative" in graph["qa.engine"]  # a function-local import is seen


def test_no_import_cycle():
    graph = import_graph()
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_imports_flow_one_way():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    wrong = [f"{src} imports {dst}" for src, targets in import_graph().items() for dst in targets
             if rank[dst.split(".")[0]] > rank[src.split(".")[0]]]
    assert not wrong, wrong


def test_a_cycle_is_caught(tmp_path):
    """The checker itself: a function-local import back is a cycle."""
    graph = {"qa.chat": {"qa.engine"}, "qa.engine": {"qa.chat"}}
    with pytest.raises(CycleError):
        TopologicalSorter(graph).prepare()
    (tmp_path / "a.py").write_text("def f():\n    from b import g\n")
    mods = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    assert imports_of("a", mods["a"], mods) == {"b"}
