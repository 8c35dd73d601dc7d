"""Isnad embedders as LangChain `Embeddings` (imported only where LangChain is wanted)."""
from __future__ import annotations

from langchain_core.embeddings import Embeddings

from index.embedders import Embedder


class IsnadEmbeddings(Embeddings):
    """Wraps an `Embedder`; E5 prefixes are applied by the embedder itself."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


def as_langchain(embedder: Embedder) -> IsnadEmbeddings:
    return IsnadEmbeddings(embedder)
