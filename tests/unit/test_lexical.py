"""index.lexical: which words of a question become keywords."""
from __future__ import annotations

import pytest

from corpus.normalize import normalize
from index.lexical import STOPWORDS, ArabicAnalyzer
from qa.coverage import idf_coverage

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("typed, meant", [
    ("في أي منصب شغل في الجريدة؟ ال", "في أي منصب شغل في الجريدة؟"),  # a stray bare article
    ("بأي اسم عرف سليمان القانوني عند الغرب؟", "اسم عرف سليمان القانوني عند الغرب؟"),
    ("ما الأندية اللتي لعب فيها؟", "ما الأندية التي لعب فيها؟"),  # double-lam relative pronoun
    ("من الرجل اللذي قاد الجيش؟", "من الرجل الذي قاد الجيش؟"),
    ("لمادا انسحب الجيش؟", "لماذا انسحب الجيش؟"),  # ذ typed as د
    ("بماذا اشتهر ابن خلدون؟", "اشتهر ابن خلدون؟"),
])
def test_mistyped_function_words_are_no_keywords(typed, meant):
    a = ArabicAnalyzer()
    assert a.analyze(typed) == a.analyze(meant)


def test_a_stray_article_no_longer_lowers_what_a_passage_covers_of_the_question():
    a = ArabicAnalyzer()
    question = a.analyze("في أي منصب شغل في الجريدة؟ ال").stems
    passage = a.analyze("شغل منصب رئيس تحرير الجريدة").stems
    assert idf_coverage(question, passage, {}) == 1.0


def test_content_words_that_look_like_them_stay_keywords():
    a = ArabicAnalyzer()
    assert a.analyze("الألم في الباي").words == ["الالم", "الباي"]
    assert a.analyze("علي بن أبي طالب").words[0] == "علي"  # the name, not the preposition


def test_every_stop_word_is_written_as_normalized_text_reads():
    # A stop word is compared with normalized words: one written otherwise never matches.
    assert sorted(w for w in STOPWORDS if normalize(w) != w) == []
