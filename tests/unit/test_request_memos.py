"""What a warm question no longer recomputes (issue 13, latency) gives what recomputing
gave: stored sentence vectors, quotability, window normalization, passage languages."""
from __future__ import annotations

import re

import numpy as np
import pytest

from corpus.normalize import normalize
from corpus.sentences import split_sentences
from index.builder import IndexParams, build_index
from index.store import IndexStore
from qa.answerer import ExtractiveAnswerer
from qa.clauses import best_window, normalized_words
from qa.engine import _cross_lingual, _language
from qa.settings import AnswerParams
from qa.types import Passage
from tests.conftest import FakeEmbedder
from tests.unit.helpers import Docs, stem

pytestmark = pytest.mark.unit

# Decomposed hamza (ا + U+0654), harakat, tatweel, a presentation-form lam-alef, a ZWNJ,
# Arabic-Indic digits, a combining mark after a space, and Latin text that casefolds.
TRICKY = ("قرأ ا\u0654حمد  \u064eكتاب\u0640ا في \ufefb مكان\u200c ٢٠٢٤م، Straße İstanbul\u00a0ΣΑΣ x\u0301y \n\n"
          "ثم عاد إلى المدينة القديمة في العام الماضي.")


def test_a_windows_normalized_text_is_cut_from_its_words_normalized_once():
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", TRICKY)]
    norm, starts, ends = normalized_words(TRICKY, words)
    for i in range(len(words)):
        for j in range(i, len(words)):
            assert norm[starts[i]:ends[j]] == normalize(TRICKY[words[i][0]:words[j][1]])


def test_the_window_chosen_with_a_kind_bonus_is_the_best_one():
    # The kind bonus (a year for "when") decides between windows that cover the question alike.
    text = ("وقعت الدولتان اتفاقية للتعاون في مجالات كثيرة منها النقل والطاقة والتعليم والصحة "
            "والزراعة والسياحة والثقافة والرياضة والشباب " * 3 + "وقعت الدولتان الاتفاقية في عام 2024 بحضور الرئيسين.")
    span = split_sentences(text)[0]
    seen = []
    window = best_window(text, span, {stem("وقعت"), stem("الاتفاقية")}, {}, stem, 120,
                         lambda w: seen.append(w) or (1.0 if "2024" in w else 0.0))
    assert "2024" in text[window.start:window.end]
    assert all(w == normalize(w) for w in seen) and len(seen) > 1


def test_quotability_is_remembered_per_span_and_per_kind_of_question():
    article = "إعداد: هنا داود\nتسعى تركيا إلى تعزيز حضورها في آسيا الوسطى عبر التعاون الاقتصادي والثقافي.\n"
    docs = Docs(article=article)
    answerer = ExtractiveAnswerer(AnswerParams(), stem=stem, n_chunks=10)
    who = "من أعد هذا المقال عن تركيا؟"
    what = "ما الذي تسعى إليه تركيا في آسيا الوسطى؟"
    for _ in range(2):  # the second round answers from what the first remembered
        by_who = answerer.rank_sentences(who, docs.retrieved(who, [("article", 1.0)]), docs.text)
        by_what = answerer.rank_sentences(what, docs.retrieved(what, [("article", 1.0)]), docs.text)
        assert any(article[s.span.start:s.span.end].startswith("إعداد") for s in by_who)
        assert not any(article[s.span.start:s.span.end].startswith("إعداد") for s in by_what)


def test_a_passages_language_is_judged_once_per_chunk():
    memo: dict[str, str] = {}
    en = Passage("a.txt", "A", "a.txt#0", "The treaty was signed in Tashkent in August.", 0, 44, 1.0)
    ar = Passage("b.txt", "B", "b.txt#0", "وقعت المعاهدة في طشقند في أغسطس.", 0, 31, 0.9)
    assert [_language(memo, p) for p in (en, ar, en)] == ["en", "ar", "en"]
    assert memo == {"a.txt#0": "en", "b.txt#0": "ar"}
    assert _cross_lingual("ar", ["en", "ar"]) and not _cross_lingual("ar", ["ar", "en", "ar"])
    assert _cross_lingual("en", ["ar", "ar"]) and not _cross_lingual("en", [])


def test_stored_sentence_vectors_read_twice_are_the_same(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("وقعت أذربيجان وأوزبكستان معاهدة الشراكة في أغسطس 2024 في طشقند.\n"
                                "وتشمل المعاهدة التعاون في مجالات الطاقة والنقل والتعليم.\n", encoding="utf-8")
    embedder = FakeEmbedder()
    build_index(tmp_path / "home", [docs], embedder, IndexParams(), progress=False)
    store = IndexStore.open(tmp_path / "home", embedder.id)
    try:
        text = store.document_text("a.txt")
        sentences = [text[s.start:s.end] for s in split_sentences(text)]
        asked = [*sentences, "جملة لا توجد في الفهرس أبدا هنا"]
        first = store.sentence_vectors(asked)
        again = store.sentence_vectors(list(reversed(asked)))
        assert set(first) == set(again) == set(sentences)  # the unknown sentence: absent both times
        for t in sentences:
            assert np.array_equal(first[t], again[t])
            assert float(first[t] @ embedder.embed_passages([t])[0]) > 0.999
            assert not again[t].flags.writeable  # shared between questions: nobody may change it
    finally:
        store.close()
