"""All of Isnad's tunable settings, in one place, with the measured defaults.

The CLI and the web app build a `Settings` from flags and environment variables
(`Settings.from_env`); nothing else reads the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.builder import IndexParams
from index.embedders import DEFAULT_EMBEDDER

MAX_QUESTION_CHARS = 2000


def default_home() -> Path:
    """$ISNAD_HOME, else $XDG_DATA_HOME/isnad, else ~/.local/share/isnad (never in the repo)."""
    if os.environ.get("ISNAD_HOME"):
        return Path(os.environ["ISNAD_HOME"]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "isnad"


@dataclass(frozen=True)
class RetrievalParams:
    candidates: int = 60  # taken from each of the dense and lexical lists before fusion
    fusion: str = "convex"  # "convex" (weighted normalized scores) or "rrf"
    dense_weight: float = 0.5  # convex: weight of the dense score, lexical gets the rest
    rrf_k: int = 60
    word_weight: float = 1.0  # BM25 weight of exact (surface) words next to stems (1.0)
    rerank_depth: int = 30  # head of the fused list re-ranked by sentence coverage
    coverage_weight: float = 0.2  # weight of the best sentence's IDF coverage of the question
    cross_lingual_dense_weight: float = 0.9  # question in another language than the corpus


@dataclass(frozen=True)
class AnswerParams:
    max_quote_chars: int = 400
    max_quote_sentences: int = 2
    passages_considered: int = 3  # sentences are picked from the top passages only
    passages_considered_cross_lingual: int = 1  # each of its sentences is embedded at question time
    abstain_below: float = 0.0  # answer confidence under which Isnad abstains


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    embedder: str = DEFAULT_EMBEDDER
    index: IndexParams = field(default_factory=IndexParams)
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    answer: AnswerParams = field(default_factory=AnswerParams)
    k: int = 5  # passages returned with an answer

    @classmethod
    def from_env(cls, home: str | Path | None = None, embedder: str | None = None) -> "Settings":
        return cls(
            home=Path(home).expanduser() if home else default_home(),
            embedder=embedder or os.environ.get("ISNAD_EMBEDDER") or DEFAULT_EMBEDDER,
        )

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)
