"""qa.settings: the environment is read once, by Settings.from_env, and nowhere else in qa."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from index.embedders import DEFAULT_EMBEDDER
from qa.settings import MAX_K, Settings, SettingsError

pytestmark = pytest.mark.unit

QA = Path(__file__).resolve().parents[2] / "qa"


def test_from_env_reads_the_mapping_it_is_given(tmp_path):
    env = {"ISNAD_HOME": str(tmp_path), "ISNAD_EMBEDDER": "fake:x", "ISNAD_LLM": "ollama:qwen2.5:7b",
           "ISNAD_LLM_TIMEOUT": "12", "ISNAD_MAX_DOCUMENT_CHARS": "1000", "ISNAD_MAX_ARCHIVE_MB": "2"}
    s = Settings.from_env(environ=env)
    assert s.home == tmp_path and s.embedder == "fake:x" and s.embedder_chosen
    assert s.generative.label == "ollama:qwen2.5:7b" and s.generative.timeout == 12.0
    assert s.index.max_document_chars == 1000 and s.index.max_archive_bytes == 2 * 2**20


def test_arguments_win_and_a_default_embedder_is_not_chosen(tmp_path):
    s = Settings.from_env(home=tmp_path / "h", environ={"ISNAD_HOME": "/elsewhere"})
    assert s.home == tmp_path / "h" and s.embedder == DEFAULT_EMBEDDER and not s.embedder_chosen
    assert not s.generative.enabled
    assert Settings.from_env(embedder="fake:y", environ={}).embedder_chosen


@pytest.mark.parametrize("env, says", [
    ({"ISNAD_LLM_TIMEOUT": "soon"}, "expected seconds"),
    ({"ISNAD_MAX_DOCUMENT_CHARS": "-1"}, "more than 0"),
    ({"ISNAD_LLM": "gpt"}, "PROVIDER:MODEL"),
])
def test_bad_environment_values_say_which(env, says):
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(environ=env)


def test_settings_are_frozen_and_share_the_k_limit():
    s = Settings.from_env(environ={})
    with pytest.raises(AttributeError):
        s.k = 9  # type: ignore[misc]
    assert 1 <= s.k <= MAX_K


def test_only_settings_reads_the_environment_in_qa():
    """os.environ / os.getenv appear in qa/settings.py and in the one place that reads
    a model's API key (qa/generative/models.py), nowhere else."""
    readers = set()
    for path in QA.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.add(path.relative_to(QA).as_posix())
    assert readers == {"settings.py", "generative/models.py"}
