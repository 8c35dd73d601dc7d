"""The Isnad engine: load the index and the embedder once, answer many questions."""
from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from corpus.loaders import SHIPPED_DOCUMENTS
from index.builder import BuildReport, build_index
from index.embedders import Embedder, embedder_spec_of, make_embedder
from index.manifest import IndexMissingError
from index.store import IndexStore, StoredDocument, live_generation
from qa.answerer import ExtractiveAnswerer
from qa.retriever import HybridRetriever
from qa.settings import MAX_QUESTION_CHARS, Settings
from qa.types import Answer

ABSTAIN_AR = "لا تتضمن الوثائق المتاحة إجابة عن هذا السؤال."
ABSTAIN_EN = "The documents available do not contain an answer to this question."

# Bidi overrides/isolates and other format/control characters: never meaningful in a question.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")


class QuestionError(ValueError):
    """A question that cannot be answered as given (empty, too long); the message says why."""


def clean_question(question: object) -> str:
    """The question as Isnad will read it, or QuestionError."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = _INVISIBLE.sub("", question)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}"
        )
    if not any(c.isalnum() for c in text):
        raise QuestionError("the question has no words in it")
    return text


def is_arabic(text: str) -> bool:
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return arabic >= latin


def answer_confidence(composed) -> float:
    """How sure Isnad is that the cited sentence answers the question, in [0, 1]:
    the sentence's coverage of the question's keywords and its passage's similarity."""
    if composed is None:
        return 0.0
    dense = min(1.0, max(0.0, (composed.dense - 0.75) / 0.15))
    return 0.5 * composed.coverage + 0.5 * dense


class Isnad:
    """Loaded once per process; `ask` is safe to call from several threads."""

    def __init__(self, settings: Settings, store: IndexStore, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._attach(store)

    def _attach(self, store: IndexStore) -> None:
        self.store = store
        self.retriever = HybridRetriever(store, self.embedder, self.settings.retrieval)
        self.answerer = ExtractiveAnswerer(self.settings.answer)
        self.corpus_language = _majority_language(store)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        build_if_missing: bool = True,
        progress: bool | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> "Isnad":
        """Load the index in settings.home; on a fresh home, first build the shipped corpus."""
        settings = settings or Settings.from_env()
        embedder = make_embedder(settings.embedder)
        if live_generation(settings.home) is None:
            if not build_if_missing:
                raise IndexMissingError(f"no index in {settings.home}; run `isnad index`")
            build_index(settings.home, [SHIPPED_DOCUMENTS], embedder, settings.index,
                        progress=progress, on_stage=on_stage)
        store = IndexStore.open(settings.home, expected_embedder_id=embedder.id)
        return cls(settings, store, embedder)

    def ask(self, question: str, k: int | None = None, context: str = "", id: object = None) -> Answer:
        """Answer one question. `context` (earlier turns of a chat) widens the keyword
        search and the query, never the quoted evidence. Raises QuestionError."""
        t0 = time.perf_counter()
        q = clean_question(question)
        k = max(1, min(int(k or self.settings.k), 50))
        query = f"{context} {q}".strip() if context else q
        cross = is_arabic(q) != (self.corpus_language == "ar")
        got = self.retriever.retrieve(query, k, cross_lingual=cross)
        t1 = time.perf_counter()
        composed = self.answerer.compose(
            q, got, self.store.document_text, self.embedder.embed_passages if cross else None
        )
        confidence = answer_confidence(composed)
        abstain = composed is None or confidence < self.settings.answer.abstain_below
        if abstain:
            text, citations = (ABSTAIN_AR if is_arabic(q) else ABSTAIN_EN), []
        else:
            text, citations = composed.text, composed.citations
        t2 = time.perf_counter()
        return Answer(
            question=q, answer=text, abstained=abstain, citations=citations,
            passages=got.passages, id=id, confidence=round(confidence, 4),
            timing_ms={"embed": got.embed_ms, "search": got.search_ms, "retrieve": (t1 - t0) * 1000,
                       "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000},
        )

    def conversation(self) -> "Conversation":
        from qa.chat import Conversation

        return Conversation(self)

    # -- what the faces show --------------------------------------------------------
    def documents(self) -> list[StoredDocument]:
        return self.store.documents()

    def document_text(self, doc_id: str) -> str:
        return self.store.document_text(doc_id)

    def info(self) -> dict:
        m = self.store.manifest
        return {
            "home": str(self.settings.home), "embedder": m.embedder_id, "dim": m.dim,
            "documents": len(m.documents), "chunks": m.n_chunks, "faiss": m.faiss_kind,
            "built_at": m.built_at, "sources": m.sources, "skipped": m.skipped,
            "chunking": m.chunking,
        }

    def reindex(self, sources: list[Path] | None = None, rebuild: bool = False,
                progress: bool | None = None) -> BuildReport:
        """Update the index and reload it in place."""
        sources = sources or [Path(s) for s in self.store.manifest.sources] or [SHIPPED_DOCUMENTS]
        report = build_index(self.settings.home, sources, self.embedder, self.settings.index,
                             rebuild=rebuild, progress=progress)
        old = self.store
        self._attach(IndexStore.open(self.settings.home, self.embedder.id))
        old.close()
        return report


def _majority_language(store: IndexStore) -> str:
    langs = [d.language for d in store.documents()]
    return max(set(langs), key=langs.count) if langs else "ar"


def embedder_for_index(home: Path) -> str | None:
    """The embedder spec an existing index was built with (to load it without guessing)."""
    from index.manifest import MANIFEST_NAME, Manifest

    gen = live_generation(home)
    if gen is None:
        return None
    return embedder_spec_of(Manifest.read(gen / MANIFEST_NAME).embedder_id)
