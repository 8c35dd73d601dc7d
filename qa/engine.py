"""The Isnad engine: load the index and the embedder once, answer many questions."""
from __future__ import annotations

import copy
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from corpus.loaders import SHIPPED_DOCUMENTS
from index.builder import BuildReport, build_index
from index.embedders import Embedder, embedder_spec_of, make_embedder
from index.manifest import IndexMissingError
from index.store import IndexStore, StoredDocument, live_generation
from qa.answerability import answerability, load_model
from qa.answerer import ExtractiveAnswerer
from qa.retriever import HybridRetriever
from qa.settings import MAX_QUESTION_CHARS, GenerativeParams, Settings
from qa.types import Answer

ABSTAIN_AR = "لا تتضمن الوثائق المتاحة إجابة عن هذا السؤال."
ABSTAIN_EN = "The documents available do not contain an answer to this question."

# Bidi overrides/isolates and other format/control characters: never meaningful in a question.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")


# Raw input longer than this is refused unread (spaces and invisible marks that the
# cleaner would drop cannot make up the difference in any real question).
_RAW_LIMIT = 8 * MAX_QUESTION_CHARS


class QuestionError(ValueError):
    """A question that cannot be answered as given (empty, too long); the message says why."""


def clean_question(question: object) -> str:
    """The question as Isnad will read it, or QuestionError."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    if len(question) > _RAW_LIMIT:  # refuse huge input before scanning it character by character
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}"
        )
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
    """How sure Isnad is that the cited sentence answers the question, in [0, 1]: the
    answerability model (qa.answerability) on the quote's evidence; for a question in
    another language than the corpus (no keywords to compare), the sentence's
    similarity and its passage's."""
    if composed is None:
        return 0.0
    if composed.evidence is not None:
        return answerability(composed.evidence)
    dense = min(1.0, max(0.0, (composed.dense - 0.75) / 0.15))
    return 0.5 * composed.coverage + 0.5 * dense


class Isnad:
    """Loaded once per process; `ask` is safe to call from several threads.

    With a language model (settings.generative, or `chat_model`: any LangChain chat
    model), answers are written by the model and checked by qa.generative; the
    extractive answer is the fallback. `self.llm` is None when that mode is off."""

    def __init__(self, settings: Settings, store: IndexStore, embedder: Embedder,
                 chat_model=None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.llm = None
        if chat_model is not None or settings.generative.enabled:
            from qa.generative import make_generative

            self.llm = make_generative(settings.generative, chat_model)
        self._attach(store)

    def _attach(self, store: IndexStore) -> None:
        self.store = store
        self.retriever = HybridRetriever(store, self.embedder, self.settings.retrieval)
        analyzer = store.analyzer
        dates = {d.doc_id: d.date for d in store.documents()}
        self.answerer = ExtractiveAnswerer(
            self.settings.answer, stem=lambda w: next(iter(analyzer.analyze(w).stems), None),
            doc_date=dates.get, n_chunks=store.manifest.n_chunks)
        self.corpus_language = _majority_language(store)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        build_if_missing: bool = True,
        progress: bool | None = None,
        on_stage: Callable[[str], None] | None = None,
        chat_model=None,
    ) -> "Isnad":
        """Load the index in settings.home; on a fresh home, first build the shipped corpus.
        `chat_model` (a LangChain chat model) turns generative answers on with it."""
        settings = settings or Settings.from_env()
        embedder = make_embedder(settings.embedder)
        if live_generation(settings.home) is None:
            if not build_if_missing:
                raise IndexMissingError(f"no index in {settings.home}; run `isnad index`")
            build_index(settings.home, [SHIPPED_DOCUMENTS], embedder, settings.index,
                        progress=progress, on_stage=on_stage)
        store = IndexStore.open(settings.home, expected_embedder_id=embedder.id)
        return cls(settings, store, embedder, chat_model=chat_model)

    # -- answers ----------------------------------------------------------------------
    def ask(self, question: str, k: int | None = None, context: str = "", id: object = None,
            *, history: list[tuple[str, str]] | None = None, generative: bool | None = None) -> Answer:
        """Answer one question. `context` (earlier turns of a chat) widens the keyword
        search and the query, never the quoted evidence. With a language model
        (`generative` None or True), the model writes the answer from the passages and
        `history` [(question, answer text), ...]; it is checked, else the extractive
        answer comes back with a notice. Raises QuestionError."""
        answer, got = self._extractive(question, k, context, id)
        llm = self._llm(generative, answer, got)
        if llm is None:
            return answer
        return llm.answer(answer, got.passages, self._evidence(got), history or [])

    def ask_stream(self, question: str, k: int | None = None, context: str = "", id: object = None,
                   *, history: list[tuple[str, str]] | None = None,
                   generative: bool | None = None) -> Iterator[str | Answer]:
        """Like `ask`, as a stream: str drafts (the answer so far, as the model writes it,
        unchecked), then always exactly one final Answer (checked, or the extractive
        fallback with a notice). Without a model: just the Answer. Raises QuestionError
        (before yielding anything)."""
        answer, got = self._extractive(question, k, context, id)
        llm = self._llm(generative, answer, got)
        if llm is None:
            return iter([answer])
        return llm.stream(answer, got.passages, self._evidence(got), history or [])

    def rewrite_followup(self, question: str, history: list[tuple[str, str]]) -> str | None:
        """A chat follow-up rewritten by the language model into a stand-alone question;
        None without a model, without history, or when the model fails."""
        if self.llm is None or not history or not self.settings.generative.rewrite_followups:
            return None
        from qa.generative import GenerativeError

        try:
            return clean_question(self.llm.rewrite(clean_question(question), history))
        except (GenerativeError, QuestionError):
            return None

    @property
    def llm_label(self) -> str:
        """"ollama:qwen2.5" when generative answers are available, else ""."""
        return self.llm.label if self.llm is not None else ""

    def with_llm(self, chat_model=None, params: GenerativeParams | None = None) -> "Isnad":
        """A sibling engine sharing this one's index and embedder, answering with another
        language model (`chat_model`, or one built from `params`); with neither, without
        one. (A later `reindex` of either engine does not reach the other.)"""
        other = copy.copy(self)
        params = params or self.settings.generative
        other.settings = self.settings.with_(generative=params)
        other.llm = None
        if chat_model is not None or params.enabled:
            from qa.generative import make_generative

            other.llm = make_generative(params, chat_model)
        return other

    def _llm(self, generative: bool | None, answer: Answer, got):
        """The language model to consult for this answer, if any: not without passages,
        and not when the extractive answer abstained unless the settings say so (the
        model may answer then, checked as always; if it cannot, the abstention stands)."""
        if generative is False or self.llm is None or not got.passages:
            return None
        if answer.abstained and not self.settings.generative.answer_when_abstained:
            return None
        return self.llm

    def _evidence(self, got):
        from qa.generative import Evidence

        store = self.store
        return Evidence(
            doc_text=store.document_text, stems=lambda text: store.analyzer.analyze(text).stems,
            idf=store.idf, sentences=got.sentences, embed=self.embedder.embed_passages,
            corpus_arabic=self.corpus_language == "ar", max_quote_chars=self.settings.answer.max_quote_chars,
        )

    def _extractive(self, question: str, k: int | None, context: str, id: object):
        t0 = time.perf_counter()
        q = clean_question(question)
        k = _clean_k(k, self.settings.k)
        context = context if isinstance(context, str) else ""
        query = f"{context} {q}".strip() if context else q
        cross = is_arabic(q) != (self.corpus_language == "ar")
        got = self.retriever.retrieve(query, k, cross_lingual=cross)
        t1 = time.perf_counter()
        composed = self.answerer.compose(
            q, got, self.store.document_text, self.embedder.embed_passages if cross else None
        )
        confidence = answer_confidence(composed)
        prm = self.settings.answer
        if cross or composed is None or composed.evidence is None:
            threshold = prm.abstain_below_cross_lingual
        else:
            threshold = prm.abstain_below if prm.abstain_below is not None else load_model().threshold
        abstain = composed is None or confidence < threshold
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
        ), got

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
            "chunking": m.chunking, "llm": self.llm_label,
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


def _clean_k(k: object, default: int) -> int:
    """k as a number of passages in 1..50 (QuestionError for something that is not one)."""
    if k is None or k == 0:
        return max(1, min(int(default), 50))
    try:
        value = int(k)
    except (TypeError, ValueError, OverflowError):
        raise QuestionError(f"k must be a whole number of passages, not {str(k)[:40]!r}") from None
    return max(1, min(value, 50))


def _majority_language(store: IndexStore) -> str:
    langs = [d.language for d in store.documents()]
    return max(set(langs), key=langs.count) if langs else "ar"


def embedder_for_index(home: Path) -> str | None:
    """The embedder spec an existing index was built with (to load it without guessing)."""
    from index.manifest import MANIFEST_NAME, IndexProblem, Manifest

    gen = live_generation(home)
    if gen is None:
        return None
    try:
        return embedder_spec_of(Manifest.read(gen / MANIFEST_NAME).embedder_id)
    except IndexProblem:  # damaged: loading reports it; `isnad index --rebuild` must still run
        return None
