"""Answerability on near-misses (issue 13, point 1): evidence a near-miss lacks.

- another nation's fact: the question names a nation its cited passage never names, and
  the quote names another one (qa.slots.nation_mismatch, a veto);
- the quote's lead over the next sentence (sentence_gap) and the best passage's cosine lead
  (dense_gap), measured for training (weight 0 in the shipped model: no gain in parity CV);
- through the installed `isnad ask` on a small built index: the other nation's minister is
  refused, the one the document names is answered, with exact offsets.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.normalize import normalize
from qa.answerability import FEATURES, answerability, features, vetoed
from qa.answerer import ExtractiveAnswerer
from qa.settings import AnswerParams
from qa.slots import nation_mismatch, nation_swapped, nations, read_slot
from tests.unit.helpers import Docs, stem
from tests.unit.test_abstention import ANSWER, Q, evidence


def named(ev) -> dict[str, float]:
    return dict(zip(FEATURES, features(ev)))


@pytest.mark.parametrize("text, expected", [
    ("أمين مجلس الأمن الكازاخستاني", {"كازاخ"}),
    ("بين تركيا وطاجيكستان", {"ترك", "طاجيك"}),
    ("ميزانية وزارة الدفاع التركمانية", {"تركمان"}),  # not Turkey: the longest nation stem wins
    ("الحكومة الانكليزية والفرع الانجليزي", {"انجليز"}),  # two spellings, one nation
    ("من روسيا، وطائرات من الصين", {"روس", "صين"}),
    ("تركز الدراسة على الترك والتركيز", {"ترك"}),  # «التركيز» (focus) is no nation
    ("وقعت المعاهدة في مدينة سمرقند", set()),
    ("بلجيكيا وبلجيكا وأمريكا", {"بلجيك", "امريك"}),
    ("ما اسم هولندا بالانجليزية؟", {"هولند"}),  # «in English»: a language, not a nation
])
def test_nations_a_text_names(text, expected):
    assert set(nations(normalize(text))) == expected


def test_another_nations_fact_is_a_mismatch_only_where_the_passage_is_silent():
    q = normalize("من هو أمين مجلس الأمن الكازاخستاني الذي حضر الاجتماع؟")
    quote = normalize("قرأ أمين مجلس الأمن الأوزبكي فيكتور محمودوف الرسالة.")
    assert nation_mismatch(q, quote, quote)
    # the passage names Kazakhstan elsewhere: the quote may speak of it by context
    passage = quote + " " + normalize("وحضر الاجتماع وفد من كازاخستان.")
    assert not nation_mismatch(q, quote, passage)
    # the quote names the nation asked: no mismatch; a question naming no nation: none
    assert not nation_mismatch(normalize("من هو أمين مجلس الأمن الأوزبكي؟"), quote, quote)
    assert not nation_mismatch(normalize("من هو أمين مجلس الأمن؟"), quote, quote)


def test_a_quote_about_another_nation_is_refused_whatever_the_model_says():
    q = "من هو أمين مجلس الأمن الكازاخستاني الذي حضر اجتماع سمرقند؟"
    other = "وحضر اجتماع سمرقند أمين مجلس الأمن الأوزبكي فيكتور محمودوف."
    same = "وحضر اجتماع سمرقند أمين مجلس الأمن الكازاخستاني غيزات نورداوليتوف."
    near, twin = evidence(q, other, passage_text=other), evidence(q, same, passage_text=same)
    assert named(near)["nation_mismatch"] == 1.0 and vetoed(features(near))
    assert answerability(near) == 0.0
    assert named(twin)["nation_mismatch"] == 0.0 and not vetoed(features(twin))
    assert answerability(twin) > 0.0


@pytest.mark.parametrize("question, quote, swapped", [
    # the asked minister is another nation's in the quote, whatever else it names
    ("ما اسم وزير الطاقة الأذربيجاني الذي شارك في المفاوضات؟",
     "أعلن وزير الطاقة الأوزبكي لازيز قدرتوف الانضمام إلى كونسورتيوم شاه دنيز الأذربيجاني.", True),
    ("ما اسم وزير الطاقة الأذربيجاني الذي شارك في المفاوضات؟",
     "شارك وزير الطاقة الأذربيجاني برويز شاهبازوف ووزير الطاقة الأوزبكي في المفاوضات.", False),
    ("من هو قائد القوات الجوية الكازاخستانية؟", "شاركت طائرات القوات الجوية الأوزبكية في المناورات.", True),
    # a country's name or a people is no adjective; a language is no nation's thing
    ("ما الدولة التي تقع شمال شرق لبنان؟", "لبنان دولة عربية واقعة في الشرق الأوسط.", False),
    ("أي منطقة تتكلم اللغة الفرنسية؟", "المنطقة الناطقة باللغة الهولندية في الشمال.", False),
    ("من هو وزير الدفاع الروسي؟", "وزير الدفاع في الحكومة الجديدة.", False),
])
def test_another_nations_thing_named_in_the_quote(question, quote, swapped):
    assert nation_swapped(normalize(question), normalize(quote), stem) is swapped


def test_a_count_the_quote_does_not_hold_is_refused_whatever_the_model_says():
    # «how many soldiers»: the quote about the same exercise names armies, no figure
    def with_slot(question, quote):  # the slot and the quote's words, as the answerer hands them on
        words = tuple(re.findall(r"[\w%٪]+", normalize(quote)))
        return evidence(question, quote, slot=read_slot(normalize(question), stem),
                        quote_words=(words, tuple(stem(w) for w in words)))

    q = "كم عدد الجنود الروس الذين شاركوا في تدريبات الأخوة الراسخة؟"
    near = with_slot(q, "أطلقت المنظمة تدريبات الأخوة الراسخة بمشاركة جيوش روسيا وكازاخستان وطاجيكستان.")
    twin = with_slot(q, "شارك في تدريبات الأخوة الراسخة 1500 جندي روسي إلى جانب قوات طاجيكية.")
    assert named(near)["count_unfilled"] == 1.0 and vetoed(features(near)) and answerability(near) == 0.0
    assert named(twin)["count_unfilled"] == 0.0 and not vetoed(features(twin)) and answerability(twin) > 0.0
    # a date or a name is not a count: left to the model; nor a quote that never names what
    # is counted (the answer may be phrased otherwise)
    when = with_slot("متى بدأت تدريبات الأخوة الراسخة؟", "أطلقت المنظمة تدريبات الأخوة الراسخة في طاجيكستان.")
    assert named(when)["count_unfilled"] == 0.0
    elsewhere = with_slot(q, "أطلقت المنظمة تدريبات الأخوة الراسخة في طاجيكستان.")
    assert named(elsewhere)["count_unfilled"] == 0.0
    # a figure elsewhere in the quote may be the answer, its subject phrased otherwise
    far = with_slot("كم قللت إدارة الجامعة من مقتنياتها في الشركات استجابة للضغوط؟",
                    "رفضت إدارة الجامعة مرارا سحب الاستثمارات، قائلة إن مصروفات التشغيل يجب ألا تخضع "
                    "لتقييدات غير واقعية أو للتورط، ومع ذلك قامت الجامعة في النهاية بتخفيض ما تملكه "
                    "في تلك البلاد بمبلغ 230 مليون دولار.")
    assert named(far)["count_unfilled"] == 0.0
    # an amount asked, a figure given without a money unit (a table row in tonnes): no veto
    row = with_slot("كم بلغت صادرات شركة الفجر للأسمنت بالطن في عام 2024؟",
                    "السنة: 2024 — الصادرات بالطن: 585000")
    assert named(row)["count_unfilled"] == 0.0
    # «عدد» in a question that asks for someone is no count asked
    who = with_slot("من سجل أعلى عدد من الأهداف للفريق هذا الموسم؟", "سجل اللاعبون الأهداف للفريق في الموسم.")
    assert named(who)["count_unfilled"] == 0.0


def test_a_model_codes_digits_are_no_count():
    # «HQ-9», «Su-30SM»: the digits name a model; the quote lists imports, counts none
    question = "كم عدد مروحيات Mi-35M التي استوردتها أوزبكستان من روسيا؟"
    text = ("تستورد أوزبكستان مروحيات Mi-35M ومقاتلات Su-30SM من روسيا، وأنظمة HQ-9 من الصين. "
            "وتعتمد كذلك على مصانعها المحلية في صيانة الطائرات.")
    docs = Docs(imports=text)
    got = docs.retrieved(question, [("imports", 1.0)])
    ev = ExtractiveAnswerer(AnswerParams(max_quote_sentences=1), stem=stem).compose(question, got, docs.text).evidence
    assert "HQ-9" in ev.quote and named(ev)["count_unfilled"] == 1.0
    counted = Docs(imports=text.replace("مروحيات Mi-35M", "12 مروحية Mi-35M"))
    got = counted.retrieved(question, [("imports", 1.0)])
    ev = ExtractiveAnswerer(AnswerParams(max_quote_sentences=1), stem=stem).compose(question, got, counted.text).evidence
    assert named(ev)["count_unfilled"] == 0.0


def test_the_quotes_lead_over_the_next_sentence_is_measured():
    # computed for training (python -m evals.train_answerability); weight 0 in the shipped model
    ahead = evidence(Q, ANSWER, sentence_score=1.2, second_score=0.4)
    level = evidence(Q, ANSWER, sentence_score=1.2, second_score=1.19)
    assert named(ahead)["sentence_gap"] == pytest.approx(0.8)
    assert named(level)["sentence_gap"] == pytest.approx(0.01)


def test_the_answerer_hands_on_the_lead_and_the_passage():
    river = ("يمر نهر سيحون عبر أربع دول في آسيا الوسطى قبل أن يصب في بحر آرال. "
             "ويبلغ طول نهر سيحون نحو 2200 كيلومتر من منابعه في جبال تيان شان.")
    lake = "تقع بحيرة إيسيك كول في شرق قيرغيزستان وهي من أعمق بحيرات العالم الجبلية."
    docs = Docs(river=river, lake=lake)
    got = dataclasses.replace(docs.retrieved(Q, [("river", 1.0), ("lake", 0.4)]),
                              dense={"river#0": 0.9, "lake#0": 0.8})
    composed = ExtractiveAnswerer(AnswerParams(max_quote_sentences=1), stem=stem).compose(Q, got, docs.text)
    ev = composed.evidence
    # the passage as the reader sees it under its title (the subject named above it)
    assert ev.passage_text.startswith("River") and ev.passage_text.endswith(river) and ev.quote in river
    assert ev.passage_dense == (0.9, 0.8)
    f = named(ev)
    assert f["dense_gap"] == pytest.approx(0.1)
    assert f["sentence_gap"] == pytest.approx(ev.sentence_score - ev.second_score) and f["sentence_gap"] > 0


def test_a_nation_named_in_the_title_is_named_by_the_passage():
    # «أمين مجلس الأمن» under a document titled for Kazakhstan: the passage's own text
    # never names it, its title does; the quote naming Russia is not another nation's fact.
    question = "من هو أمين مجلس الأمن الكازاخستاني؟"
    text = ("عين الرئيس أمينا جديدا لمجلس الأمن هو السيد أسانوف بعد زيارة رسمية إلى روسيا. "
            "وكان أسانوف قد شغل منصب المدعي العام قبل ذلك لعدة سنوات.")
    for title, vetoes in (("كازاخستان", False), ("اوكرانيا", True)):
        docs = Docs(**{title: text})
        got = docs.retrieved(question, [(title, 1.0)])
        ev = ExtractiveAnswerer(AnswerParams(max_quote_sentences=1), stem=stem).compose(question, got, docs.text).evidence
        assert named(ev)["nation_mismatch"] == (1.0 if vetoes else 0.0), title


COUNCIL_DOC = """اجتماع سمرقند لأمناء مجالس الأمن

عقد أمناء مجالس الأمن في دول آسيا الوسطى اجتماعهم السنوي في مدينة سمرقند في شهر أيار.

وفي رسالة قرأها أمين مجلس الأمن الأوزبكي فيكتور محمودوف نيابة عن الرئيس، دعا المجتمعون إلى تعاون أوثق في حماية الحدود.

وناقش الاجتماع مكافحة تهريب المخدرات عبر الحدود الجبلية وتبادل المعلومات بين الأجهزة الأمنية.

واتفق المشاركون على عقد الاجتماع المقبل في العام التالي وتشكيل فريق عمل دائم لمتابعة القرارات.
"""


@pytest.mark.slow
def test_isnad_ask_refuses_another_nations_minister_and_answers_the_one_named(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "samarkand.txt").write_text(COUNCIL_DOC, encoding="utf-8")
    isnad = str(Path(sys.executable).with_name("isnad"))
    env = {**os.environ, "ISNAD_HOME": str(tmp_path / "home")}
    built = subprocess.run([isnad, "index", "--docs", str(docs)], capture_output=True, text=True, env=env, check=False,
                           timeout=600)
    assert built.returncode == 0, built.stderr

    def ask(q):
        r = subprocess.run([isnad, "ask", q, "--json"], capture_output=True, text=True, env=env, timeout=300,
                           check=False)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    near = ask("ما اسم أمين مجلس الأمن الكازاخستاني الذي قرأ رسالة الرئيس في اجتماع سمرقند؟")
    assert near["abstained"] and not near["citations"], near["answer"]
    twin = ask("ما اسم أمين مجلس الأمن الأوزبكي الذي قرأ رسالة الرئيس في اجتماع سمرقند؟")
    assert not twin["abstained"], twin
    cite = twin["citations"][0]
    assert "فيكتور محمودوف" in cite["quote"]
    assert COUNCIL_DOC[cite["start"] : cite["end"]] == cite["quote"]
