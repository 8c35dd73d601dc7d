"""The Isnad engine: load the index and the embedder once, answer many questions.

One question flows one way through modules with one job each:

    qa.question   clean the text, bound it, know its language      -> Question
    qa.retriever  dense + lexical candidates, fused and re-ranked   -> Retrieved
    qa.answerer   choose the sentence(s) and compose the quote      -> Composed
    qa.abstention answer or abstain by the confidence               -> Verdict
    qa.pages      page numbers on citations and passages            -> Answer

With a language model (qa.generative), the model then writes the answer from the
same passages, checked against them. This module only wires the steps and keeps the
loaded index current.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
import numpy as np

from corpus.language import guess_language
from index import (
    Embedder,
    IndexBackend,
    backend_for,
    IndexProblem,
    SearchIndex,
    StoredDocument,
    ensure_index,
    live_generation_name,
    live_signature,
    make_embedder,
    open_index,
)
from qa.abstention import ABSTAIN_AR, ABSTAIN_EN, decide  # noqa: F401 (ABSTAIN_*: public texts)
from qa.answerer import ExtractiveAnswerer
from qa.chat import Conversation
from qa.concepts import arabic_equivalents
from qa.pages import stream_with_pages, with_pages
from qa.question import Question, QuestionError, clean_k, clean_question, read_question  # noqa: F401 (re-exported)
from qa.retriever import HybridRetriever, Retrieved
from qa.settings import GenerativeParams, Settings
from qa.transliteration import NameMatcher
from qa.types import Answer, Passage

log = logging.getLogger("isnad.engine")
LANGUAGE_MEMO_CHUNKS = 100_000  # passage languages an engine keeps per loaded index


@dataclass(frozen=True)
class _Loaded:
    """One loaded generation and what reads it, swapped as one when a new one goes live
    (a question in flight keeps the one it started with)."""

    store: SearchIndex
    retriever: HybridRetriever
    answerer: ExtractiveAnswerer
    corpus_language: str
    names: NameMatcher  # Latin-script names -> their Arabic spellings in this index
    # chunk_id -> the passage's language, judged once (counting its letters is not free,
    # and every question judges its top passages)
    languages: dict[str, str]


class Isnad:
    """Loaded once per process; `ask` is safe to call from several threads. A new
    index built meanwhile (by `isnad index` in another process) is picked up between
    questions: the live index's signature is looked at (one stat) at most every settings.refresh_seconds.

    With a language model (settings.generative, or `chat_model`: any LangChain chat
    model), answers are written by the model and checked by qa.generative; the
    extractive answer is the fallback. `self.llm` is None when that mode is off."""

    def __init__(self, settings: Settings, store: SearchIndex, embedder: Embedder,
                 chat_model=None, backend: IndexBackend | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        # The kind of store (settings.store): what a newer index is looked for and opened with.
        self.backend = backend or backend_for(settings.store)
        self.llm = None
        if chat_model is not None or settings.generative.enabled:
            from qa.generative import make_generative

            self.llm = make_generative(settings.generative, chat_model)
        self._refresh_lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._signature = live_signature(settings.home, self.backend)
        self._attach(store)

    def _attach(self, store: SearchIndex) -> None:
        analyzer = store.analyzer
        dates = {d.doc_id: d.date for d in store.documents()}
        answerer = ExtractiveAnswerer(
            self.settings.answer, stem=lambda w: next(iter(analyzer.analyze(w).stems), None),
            doc_date=dates.get, n_chunks=store.manifest.n_chunks)
        self._loaded = _Loaded(store, HybridRetriever(store, self.embedder, self.settings.retrieval),
                               answerer, _majority_language(store), NameMatcher(store.vocabulary), {})

    store = property(lambda self: self._loaded.store)
    retriever = property(lambda self: self._loaded.retriever)
    answerer = property(lambda self: self._loaded.answerer)
    corpus_language = property(lambda self: self._loaded.corpus_language)

    def refresh(self, force: bool = False) -> bool:
        """Switch to the live generation if a build made a new one live since this
        engine loaded (checked at most every settings.refresh_seconds unless `force`).
        True when it switched; an index that fails to load is logged, the old one kept."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.refresh_seconds:
            return False
        self._checked_at = now
        signature = live_signature(self.settings.home, self.backend)
        if signature == self._signature and not force:
            return False
        with self._refresh_lock:
            old = self._loaded.store
            if live_generation_name(self.settings.home, self.backend) == old.generation:
                self._signature = signature
                return False
            try:
                store = open_index(self.settings.home, self.embedder.id, self.backend)
            except IndexProblem as exc:
                self._signature = signature  # tried once: again only when the live index changes
                log.warning("a new index is live but does not load (%s); still answering from %s",
                            exc, old.generation)
                return False
            self._signature = signature
            self._attach(store)  # the old store closes once no question reads it any more
            log.info("switched to the new index %s (%d documents)", store.generation,
                     len(store.manifest.documents))
            return True

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
        # Repairs a missing live pointer; builds only what the home records (index.home).
        backend = backend_for(settings.store)
        ensure_index(settings.home, embedder, settings.index, build=build_if_missing, backend=backend,
                     progress=progress, stage=on_stage)
        store = open_index(settings.home, expected_embedder_id=embedder.id, backend=backend)
        return cls(settings, store, embedder, chat_model=chat_model, backend=backend)

    # -- answers ----------------------------------------------------------------------
    def ask(self, question: str, k: int | None = None, context: str = "", id: object = None,
            *, history: list[tuple[str, str]] | None = None, generative: bool | None = None) -> Answer:
        """Answer one question. `context` (earlier turns of a chat) widens the keyword
        search and the query, never the quoted evidence. With a language model
        (`generative` None or True), the model writes the answer from the passages and
        `history` [(question, answer text), ...]; it is checked, else the extractive
        answer comes back with a notice. Raises QuestionError."""
        self.refresh()
        answer, got = self._extractive(question, k, context, id)
        llm = self._llm(generative, answer, got)
        if llm is not None:
            answer = llm.answer(answer, got.passages, self._evidence(got), history or [])
        return with_pages(answer, self.store.page_of)

    def ask_stream(self, question: str, k: int | None = None, context: str = "", id: object = None,
                   *, history: list[tuple[str, str]] | None = None,
                   generative: bool | None = None) -> Iterator[str | Answer]:
        """Like `ask`, as a stream: str drafts (the answer so far, as the model writes it,
        unchecked), then always exactly one final Answer (checked, or the extractive
        fallback with a notice). Without a model: just the Answer. Raises QuestionError
        (before yielding anything)."""
        self.refresh()
        answer, got = self._extractive(question, k, context, id)
        llm = self._llm(generative, answer, got)
        if llm is None:
            return iter([with_pages(answer, self.store.page_of)])
        stream = llm.stream(answer, got.passages, self._evidence(got), history or [])
        return stream_with_pages(stream, self.store.page_of)

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
        one."""
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

    def retrieve(self, question: str, k: int | None = None, context: str = "") -> Retrieved:
        """The passages `ask` would answer from (pages not set), for callers that want
        retrieval alone (qa.langchain_retriever). Raises QuestionError."""
        self.refresh()
        return self._retrieve(self._loaded, read_question(question), clean_k(k, self.settings.k), context)

    def _retrieve(self, loaded: "_Loaded", question: Question, k: int, context: str) -> Retrieved:
        """Hybrid retrieval for a cleaned question; `context` (earlier chat turns) widens
        the query. Latin-script names also search for their Arabic spelling in the corpus,
        and an English question's common words their Arabic equivalents (qa.concepts)."""
        context = context if isinstance(context, str) else ""
        query = f"{context} {question.text}".strip() if context else question.text
        spellings = loaded.names.expand(question.text) if question.language != "ar" else ""
        if question.language == "en" and self.settings.retrieval.concept_terms:
            # ... and its common words their Arabic equivalents (founded -> تأسس)
            spellings = f"{spellings} {arabic_equivalents(question.text)}".strip()
        return loaded.retriever.retrieve(query, k, question_language=question.language, names=spellings)

    def _extractive(self, question: str, k: int | None, context: str, id: object) -> tuple[Answer, Retrieved]:
        """question -> Question -> Retrieved -> Composed -> Verdict -> Answer (no pages yet)."""
        t0 = time.perf_counter()
        q = read_question(question)
        loaded = self._loaded  # one generation for the whole question
        got = self._retrieve(loaded, q, clean_k(k, self.settings.k), context)
        t1 = time.perf_counter()
        depth = self.settings.answer.passages_considered_cross_lingual
        cross = _cross_lingual(q.language, [_language(loaded.languages, p) for p in got.passages[:depth]])
        composed = loaded.answerer.compose(
            q.text, got, loaded.store.document_text,
            (lambda texts: self._sentence_vectors(loaded.store, texts)) if cross else None,
            lambda texts: got.stored_sentence_vectors(loaded.store, texts),
        )
        verdict = decide(q.text, composed, self.settings.answer, cross)
        t2 = time.perf_counter()
        return Answer(
            question=q.text, answer=verdict.text, abstained=verdict.abstained, citations=verdict.citations,
            passages=got.passages, id=id, confidence=round(verdict.confidence, 4),
            timing_ms={"embed": got.embed_ms, "search": got.search_ms, "retrieve": (t1 - t0) * 1000,
                       "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000},
        ), got

    def _sentence_vectors(self, store: SearchIndex, texts: list[str]) -> np.ndarray:
        """Vectors of these sentences: stored at build time, else embedded now."""
        stored = store.sentence_vectors(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in stored))
        if missing:
            stored.update(zip(missing, self.embedder.embed_passages(missing)))
        return np.stack([stored[t] for t in texts]) if texts else np.zeros((0, self.embedder.dim), np.float32)

    def conversation(self) -> Conversation:
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


def _cross_lingual(asked_in: str, languages: list[str]) -> bool:
    """Cross-lingual is a property of the question and the passages it may be answered
    from (their `languages`, best first), not of the corpus: then sentences are chosen by
    similarity (in any language). One passage in another language (an English abstract
    beside Arabic text) does not make the question cross-lingual: the first passage's
    language, or most of them."""
    other = [lang != asked_in for lang in languages]
    return bool(other) and (other[0] or 2 * sum(other) > len(other))


def _language(memo: dict[str, str], passage: Passage) -> str:
    """The passage's language, memoized by chunk id (one loaded index: a chunk's text is fixed)."""
    lang = memo.get(passage.chunk_id)
    if lang is None:
        if len(memo) > LANGUAGE_MEMO_CHUNKS:
            memo.clear()
        lang = memo[passage.chunk_id] = guess_language(passage.text)
    return lang


def _majority_language(store: SearchIndex) -> str:
    langs = [d.language for d in store.documents()]
    return max(set(langs), key=langs.count) if langs else "ar"

