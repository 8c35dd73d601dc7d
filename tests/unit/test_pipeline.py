"""The qa pipeline end to end over a tiny real index (FakeEmbedder, no model):
question -> retrieve -> choose sentences -> compose -> Answer, and the LangChain
retriever over the same engine."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from index.builder import IndexParams, build_index
from index.store import IndexStore
from qa.engine import Isnad
from qa.langchain_retriever import IsnadRetriever
from qa.question import QuestionError
from qa.retriever import HybridRetriever
from qa.settings import RetrievalParams, Settings
from tests.conftest import FakeEmbedder

pytestmark = pytest.mark.unit

DOCS = {
    "tashkent.txt": "معاهدة طشقند\nوقّعت أذربيجان وأوزبكستان معاهدة الشراكة الاستراتيجية في أغسطس 2024 "
                    "بحضور الرئيسين في العاصمة طشقند. وتشمل المعاهدة التعاون في مجالات الطاقة والنقل.\n",
    "samarkand.txt": "اجتماع سمرقند\nاجتمع وزراء الدفاع في مدينة سمرقند الأوزبكية لبحث التعاون العسكري "
                     "بين دول آسيا الوسطى. وناقش الوزراء تدريبات مشتركة في العام المقبل.\n",
    "corridor.md": "# الممر الأوسط\n\nيربط الممر الأوسط بين الصين وأوروبا عبر بحر قزوين ويمر بالقوقاز. "
                   "ويختصر الممر زمن نقل البضائع إلى نحو خمسة عشر يوما.\n",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Isnad:
    root = tmp_path_factory.mktemp("tiny-docs")
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    home = tmp_path_factory.mktemp("tiny-home")
    embedder = FakeEmbedder()
    build_index(home, [root], embedder, IndexParams(), progress=False)
    settings = Settings.from_env(home=home, embedder=embedder.id, environ={})
    # FakeEmbedder's similarities are noise: the sentence-vector re-rank (which only adds
    # dense evidence) is tested on its own below, and with the real model in test_languages.
    settings = settings.with_(retrieval=replace(settings.retrieval, sentence_dense_weight=0.0))
    return Isnad(settings, IndexStore.open(home, embedder.id), embedder)


def test_the_passage_that_holds_the_words_comes_first(engine):
    got = HybridRetriever(engine.store, engine.embedder, RetrievalParams()).retrieve(
        "اجتماع وزراء الدفاع في سمرقند", 3)
    assert got.passages[0].doc_id == "samarkand.txt"
    assert [p.score for p in got.passages] == sorted((p.score for p in got.passages), reverse=True)
    assert set(got.sentences) == {p.chunk_id for p in got.passages}  # evidence for the answerer


def test_ask_quotes_the_document_exactly(engine):
    answer = engine.ask("متى وقعت أذربيجان وأوزبكستان معاهدة الشراكة الاستراتيجية؟")
    assert answer.abstained == (answer.citations == [])
    top = answer.passages[0]
    assert top.doc_id == "tashkent.txt"
    for c in answer.citations:
        assert engine.document_text(c.doc_id)[c.start:c.end] == c.quote
    assert set(answer.timing_ms) >= {"retrieve", "answer", "total"}


def test_k_and_bad_input(engine):
    assert len(engine.ask("الممر الأوسط بين الصين وأوروبا", k=1).passages) == 1
    with pytest.raises(QuestionError):
        engine.ask("  \u200f ")


def test_retrieve_gives_the_passages_of_ask(engine):
    for q in ("ما هو الممر الأوسط؟", "Where did the defence ministers meet in Samarkand?"):
        asked = [p.chunk_id for p in engine.ask(q, k=3).passages]
        assert [p.chunk_id for p in engine.retrieve(q, k=3).passages] == asked
        docs = IsnadRetriever(engine=engine, k=3).invoke(q)
        assert [d.metadata["chunk_id"] for d in docs] == asked
        assert all(d.page_content and "page" in d.metadata for d in docs)


def test_a_conversation_over_the_engine(engine):
    conv = engine.conversation()
    conv.ask("ما هو الممر الأوسط؟")
    conv.ask("ومتى يصل؟")
    assert conv.turns[-1].context == "ما هو الممر الأوسط؟"


def test_the_tiny_home_is_not_the_users(engine):
    assert Path.home() / ".local" / "share" / "isnad" != engine.settings.home


def test_a_passage_rises_by_its_best_sentence_vector_without_embedding_now(engine):
    # Three passages tied after fusion; the question's vector is the stored vector of the
    # second sentence of the corridor passage (FakeEmbedder: same text, same vector).
    store = engine.store
    ids = [cid for cid, _ in store.dense_search(FakeEmbedder.vector("x"), 50)]
    chunks = store.chunks(ids)
    sentences = store.sentences(ids)
    corridor = next(c for c in chunks.values() if c.doc_id == "corridor.md")
    target = sentences[corridor.id][-1]
    text = corridor.text[target.start - corridor.start : target.end - corridor.start]
    qvec = FakeEmbedder.vector(text)
    tied = [(cid, 0.5) for cid in sorted(ids, key=lambda c: c == corridor.id)]  # corridor last
    embedder = FakeEmbedder()
    on = HybridRetriever(store, embedder, RetrievalParams(sentence_dense_weight=0.7))
    ranked, looked_up, vectors = on._rerank_by_sentence_vectors(tied, ids, sentences, chunks, qvec, set(), 0.5)
    assert text in looked_up and text in vectors  # handed on, so the answerer asks the store once
    assert ranked[0][0] == corridor.id and ranked[0][1] > 0.5
    assert embedder.calls == 0 and embedder.queries == []  # the build stored the vectors
    off = HybridRetriever(store, embedder, RetrievalParams(sentence_dense_weight=0.0))
    assert off._rerank_by_sentence_vectors(tied, ids, sentences, chunks, qvec, set(), 0.5)[0] == tied
