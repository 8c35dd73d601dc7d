"""Trustworthy answers (issue 13, part A): which lines may be quoted, which clause of a
long sentence is quoted, what kind of answer a question asks for, dialect stop words,
the held-out near-miss suites, and the answerability model's file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus.sentences import Span, split_sentences
from evals import benchmarks
from evals.questions import EvalQuestion
from index.lexical import ArabicAnalyzer
from qa.answerability import FEATURES, MODEL_FILE, answer_kind, holds_kind, load_model
from qa.clauses import best_window, quotable

REPO = Path(__file__).resolve().parents[1]

ARTICLE = """مقدمة الدراسة:

تسعى تركيا إلى توظيف أدوات القوة الذكية في آسيا الوسطى عبر التعليم والثقافة والاقتصاد والدبلوماسية.

الكلمات المفتاحية: تفعيل ادوات ، القوة الذكية التركية ، دول اسيا الوسطى .

المصدر: مركز الدراسات العربية الاوراسية تمت المشاهدة في ٢٠٢٥/٣/١٤ على الرابط

<https://eurasiaar.org/regoin/turkmenistan>

إعداد: هنا داود

المصادر باللغة العربية :

- ١- نور الدين، محمد . ١٩٩٧ . تركيا في الزمن المتحول قلق الهوية وصراع الخيارات . بيروت : رياض الريس
- ٩- ترك برس . علاقات تاريخية وحلف استراتيجي . اين تقف تركيا مما يجري في كازاخستان . مقالة منشورة
"""


def _span_of(text: str, needle: str) -> Span:
    for s in split_sentences(text):
        if needle in text[s.start : s.end]:
            return s
    raise AssertionError(needle)


def test_keywords_source_heading_and_reference_lines_are_never_quoted():
    assert quotable(ARTICLE, _span_of(ARTICLE, "تسعى تركيا"))
    for needle in ("الكلمات المفتاحية", "المصدر: مركز", "مقدمة الدراسة", "المصادر باللغة", "نور الدين",
                   "ترك برس"):
        assert not quotable(ARTICLE, _span_of(ARTICLE, needle)), needle


def test_a_byline_is_quotable_only_for_a_who_wrote_it_question():
    span = _span_of(ARTICLE, "إعداد: هنا داود")
    assert not quotable(ARTICLE, span)
    assert quotable(ARTICLE, span, author_question=True)


def test_a_source_line_whose_link_is_on_the_next_line_is_not_quoted():
    text = "وصل عدد السكان إلى عشرة ملايين نسمة في البلاد حسب التقديرات الرسمية\n<https://example.org/x>\n"
    assert not quotable(text, _span_of(text, "عدد السكان"))
    plain = "وصل عدد السكان إلى عشرة ملايين نسمة في البلاد حسب التقديرات الرسمية.\nثم ازداد بعد ذلك بكثير."
    assert quotable(plain, _span_of(plain, "عدد السكان"))


def test_the_window_of_a_long_sentence_covers_the_question_with_exact_offsets():
    analyzer = ArabicAnalyzer()
    filler = "، ".join(f"وتناولت الجلسة رقم {i} قضايا التعاون الاقتصادي والتجاري بين البلدين" for i in range(12))
    text = "مقدمة. " + filler + "، ووقعت معاهدة التحالف في مدينة سمرقند عام 2024 بحضور الرئيسين."
    sentence = _span_of(text, "وتناولت")
    assert sentence.end - sentence.start > 400
    q = analyzer.analyze("متى وقعت معاهدة التحالف")
    window = best_window(text, sentence, set(q.stems), {}, lambda w: next(iter(analyzer.analyze(w).stems), None),
                         400)
    quote = text[window.start : window.end]
    assert window.end - window.start <= 400 and sentence.start <= window.start < window.end <= sentence.end
    assert "معاهدة التحالف" in quote and "2024" in quote
    assert quote == quote.strip() and (window.end == sentence.end or text[window.end] == " ")


@pytest.mark.parametrize("question, kind", [
    ("كم عدد سكان البرازيل؟", "number"), ("ما عدد الدول الأعضاء؟", "number"),
    ("متى وقعت المعاهدة؟", "date"), ("في أي عام تأسست المنظمة؟", "date"), ("امتى اتوقعت المعاهدة", "date"),
    ("من هو رئيس أوزبكستان؟", "who"), ("مين اللي وقع المعاهدة", "who"),
    ("ما أهمية الممر الأوسط؟", ""), ("ما الهدف من المعاهدة؟", ""),
])
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    from corpus.normalize import normalize

    assert answer_kind(normalize(question)) == kind


def test_a_figure_that_only_echoes_the_question_is_not_an_answer():
    from corpus.normalize import normalize

    q = normalize("كم بلغ حجم التبادل التجاري عام 2020؟")
    assert not holds_kind("number", normalize("تسارعت العلاقات التجارية منذ عام 2020"), q)
    assert holds_kind("number", normalize("بلغ حجم التبادل 3 مليارات دولار عام 2020"), q)
    assert holds_kind("number", normalize("بلغ عدد الأعضاء ستة دول"), normalize("كم عدد الأعضاء؟"))
    when = normalize("متى وقعت المعاهدة في 2024؟")
    assert not holds_kind("date", normalize("وقعت المعاهدة في 2024 بين البلدين"), when)
    assert holds_kind("date", normalize("وقعت المعاهدة في أغسطس 2024"), when)
    assert not holds_kind("date", normalize("وقعت المعاهدة الشهر الماضي"), normalize("متى وقعت المعاهدة؟"))


def test_dialect_function_words_are_stop_words_and_misspellings_still_normalize():
    a = ArabicAnalyzer()
    got = a.analyze("شو اللي صار امتى ووين وليش مين عايز بدها إيش ايه ازاي فين معاهدة")
    assert len(got.words) == 2 and got.stems == a.analyze("صار معاهدة").stems
    pairs = [("مدينة", "مدينه"), ("إلى المستشفى", "الي المستشفي"), ("أذربيجان", "اذربيجان"),
             ("مؤتمر", "موتمر"), ("سمرقند", "سمرقند")]
    for right, wrong in pairs:
        assert a.analyze(right).stems == a.analyze(wrong).stems, (right, wrong)


# -- held-out near-miss suites ----------------------------------------------------------------
def test_every_second_paragraph_of_each_article_is_held_out():
    paras = [benchmarks.Paragraph(f"p{i}.txt", title, f"text {i}") for i, title in
             enumerate(["A", "A", "A", "B", "B", "C"])]
    qs = [EvalQuestion(id=f"q{i}", question="؟", gold_docs=(p.doc_id,), answers=("x",))
          for i, p in enumerate(paras)]
    held = benchmarks.hold_out_alternate(benchmarks.BenchmarkCorpus("t", "", paras, qs), "t-heldout")
    assert [p.doc_id for p in held.paragraphs] == ["p0.txt", "p2.txt", "p3.txt", "p5.txt"]
    near = {q.id for q in held.questions if not q.answerable}
    assert near == {"q1", "q4"}
    assert all(q.kind == "near-miss" and q.gold_docs == () for q in held.questions if not q.answerable)
    assert held.stats["near_misses"] == 2 and held.stats["answerable"] == 4


def test_near_miss_figures_are_reported():
    from evals.metrics import QuestionRecord, answer_metrics

    recs = [QuestionRecord(id="a", question="", answerable=True, abstained=False, quote_has_answer=True),
            QuestionRecord(id="b", question="", answerable=True, abstained=False, quote_has_answer=False),
            QuestionRecord(id="c", question="", answerable=True, abstained=True),
            QuestionRecord(id="d", question="", answerable=False, abstained=True),
            QuestionRecord(id="e", question="", answerable=False, abstained=False)]
    m = answer_metrics(recs)
    assert m["answerable_refused"] == round(1 / 3, 4)
    assert m["quote_contains_gold_answered"] == 0.5
    assert m["abstention_recall"] == 0.5


# -- the model file ---------------------------------------------------------------------------
def test_the_answerability_model_is_plain_json_matching_the_features():
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    assert len(data["coef"]) == len(data["mean"]) == len(data["scale"]) == len(FEATURES)
    m = load_model()
    p = m.probability(np.asarray(data["mean"], float))
    assert 0.0 < p < 1.0 and 0.0 < m.threshold < 1.0


def test_training_refuses_a_reporting_suite():
    run = subprocess.run([sys.executable, "-m", "evals.train_answerability", "--suite", "xquad-ar-heldout"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "reporting" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_heading_line_is_not_quoted_or_merged():
    text = "التحالف الأذربيجاني ضمن الإطار الثقافي التركي\nتستند العلاقة بين البلدين إلى إرث ثقافي مشترك."
    assert not quotable(text, _span_of(text, "التحالف"))
    assert quotable(text, _span_of(text, "تستند"))


# -- the shipped corpus, as a user asks -----------------------------------------------------
@pytest.mark.slow
def test_shipped_corpus_examples(shipped_engine):
    brazil = shipped_engine.ask("ما هو عدد سكان البرازيل؟")
    assert brazil.abstained and not brazil.citations
    tools = shipped_engine.ask("ما أدوات القوة الذكية التركية في آسيا الوسطى؟")
    assert not tools.abstained
    assert "الكلمات المفتاحية" not in tools.citations[0].quote
    treaty = shipped_engine.ask("متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟")
    assert not treaty.abstained
    assert "2024" in treaty.citations[0].quote or "٢٠٢٤" in treaty.citations[0].quote
    assert "الشهر الماضي" not in treaty.citations[0].quote
    for ans in (tools, treaty):
        for c in ans.citations:
            assert shipped_engine.document_text(c.doc_id)[c.start : c.end] == c.quote
            assert len(c.quote) <= 400


# -- the slot a question asks to fill (qa.slots) --------------------------------------------
def _slot_and_words(question: str, sentence: str):
    from corpus.normalize import normalize
    from qa.slots import read_slot

    analyzer = ArabicAnalyzer()
    stem = lambda w: next(iter(analyzer.analyze(w).stems), None)  # noqa: E731
    words = normalize(sentence).replace("?", " ").split()
    return read_slot(normalize(question), stem), words, [stem(w) for w in words]


@pytest.mark.parametrize("question, sentence, ok", [
    # a count next to the focus; the model number that only echoes the question is none
    ("كم عدد طائرات TB2 التي اشترتها قيرغيزستان؟", "بدأت قيرغيزستان شراء مسيرات TB2 التركية", False),
    ("كم عدد طائرات TB2 التي اشترتها قيرغيزستان؟", "اشترت قيرغيزستان ثلاث طائرات TB2 من تركيا", True),
    # an amount wants a figure with a unit, near the focus («ميزانية»)
    ("ما قيمة ميزانية الدفاع الأوزبكية لعام 2025؟", "بلغت الصادرات التركية مليار و ٨٤٥ مليون دولار", False),
    ("ما قيمة ميزانية الدفاع الأوزبكية لعام 2025؟", "بلغت ميزانية الدفاع الأوزبكية 2,1 مليار دولار عام 2025", True),
    # a date that is not the year the question names
    ("متى انضمت تركمانستان إلى حلف الناتو؟", "تركمانستان تلتزم بالحياد الدائم", False),
    ("متى انضمت تركمانستان إلى الحلف عام 2009؟", "انضمت تركمانستان إلى الحلف عام 2009", False),
    ("متى انضمت تركمانستان إلى الحلف؟", "انضمت تركمانستان إلى الحلف في مارس ١٩٩٥", True),
    # what the light stemmer leaves apart is still the focus: a plural ending, a broken plural
    ("كم قارة حكمها العثمانيون؟", "امتدت أراضيها على ثلاث قارات", True),
    ("الى كم منطقة تقسم محافظات اليابان؟", "يمكن تقسيم هذه المحافظات إلى ثماني مناطق", True),
    ("كم نهرا يصب في هولندا؟", "تتشكل أراضيها من مصبات ثلاثة أنهار أوروبية", True),
    # a four-digit figure before the thing counted is a count, not a year
    ("كم مركبة قتالية أنتجت في أوزبكستان؟", "تمخضت عن انتاج ١٠٠٠ مركبة قتالية مدرعة", True),
    ("كم مركبة قتالية أنتجت في أوزبكستان؟", "بدأ انتاج المركبات القتالية عام ١٩٩٨", False),
    # «أحد عشر»: a number word; a typo's stray letter («م عدد») is no focus
    ("ما عدد اللاعبين في الفريق؟", "يتكون الفريق من أحد عشر لاعبا", True),
    ("م عدد مستخدمي البيتكوين؟", "هناك مابين 2.9 إلى 5.8 مليون مستخدم", True),
    ("لكم عدد من اللعبات بقي الفريق خارج المنطقة؟", "بقي الفريق خارج المنطقة لـ ثلاثة لعبات", True),
    # the dual of the thing counted is its count (two); its plural is none
    ("كم فريقا كان لدى المدينة في الدوري؟", "كان هناك فريقين بدوري النخبة في المدينة", True),
    ("كم دولة وقعت الاتفاقية؟", "وقعت الاتفاقية دولتان من آسيا الوسطى", True),
    ("كم دولة وقعت الاتفاقية؟", "وقعت الاتفاقية دول آسيا الوسطى", False),
    # the neighbouring fact about the same entities holds no figure near the thing counted
    ("كم عدد الجنود الروس الذين شاركوا في التدريبات؟", "شاركت جيوش روسيا وكازاخستان في التدريبات", False),
])
def test_the_slot_is_filled_only_by_a_filler_of_its_kind_near_its_focus(question, sentence, ok):
    from qa.slots import filled

    slot, words, stems = _slot_and_words(question, sentence)
    assert filled(slot, words, stems) is ok


def test_years_and_nationality_adjectives_the_quote_lacks():
    from qa.slots import nisbas_absent, years_absent

    slot, words, _ = _slot_and_words("كم بلغ حجم التبادل التجاري بين أذربيجان وأوزبكستان عام 2023؟",
                                     "ارتفع حجم التبادل التجاري بين البلدين إلى مليار دولار عام ٢٠٢٢")
    assert years_absent(slot, set(words)) == 1.0
    _, words_2023, _ = _slot_and_words("؟", "بلغ حجم التبادل التجاري مليار دولار عام ٢٠٢٣")
    assert years_absent(slot, set(words_2023)) == 0.0
    _, no_year, _ = _slot_and_words("؟", "بلغ حجم التبادل التجاري مليار دولار في ذلك الموسم")
    assert years_absent(slot, set(no_year)) == 0.0
    who, uz, _ = _slot_and_words("من هو وزير الدفاع الكازاخستاني؟", "ترأسه وزير الدفاع الأوزبكي الفريق خولمحمدوف")
    assert nisbas_absent(who, uz) == 1.0
    _, kz, _ = _slot_and_words("؟", "حضر وزير الدفاع الكازاخستاني روسلان جاكسيليكوف")
    assert nisbas_absent(who, kz) == 0.0


# -- near-miss and its answerable twin, through the real command -----------------------------
TINY_DOC = """جامعة النور في مدينة سمرقند

تأسست جامعة النور في مدينة سمرقند عام ١٩٩٨ بمبادرة من وزارة التعليم العالي الأوزبكية.
وبلغ عدد الطلاب المسجلين في جامعة النور ١٢٤٠٠ طالب عام ٢٠٢٣ بحسب التقرير السنوي للجامعة.
وتضم الجامعة كليات للطب والهندسة والاقتصاد، وتقدم برامج مشتركة مع جامعات تركية وكازاخستانية.
ويرأس الجامعة منذ عام ٢٠٢١ البروفيسور رستم كريموف الذي عمل سابقاً في جامعة طشقند التقنية.
"""


@pytest.mark.slow
def test_a_figure_for_another_year_abstains_and_its_twin_answers(tmp_path):
    """The documents give the number of students for 2023: asked for 2019 (a year they never
    name), `isnad ask` abstains; asked for 2023, it answers with the sentence holding it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "nour.txt").write_text(TINY_DOC, encoding="utf-8")
    isnad = str(Path(sys.executable).with_name("isnad"))
    env = {**__import__("os").environ, "ISNAD_HOME": str(tmp_path / "home")}
    built = subprocess.run([isnad, "index", "--docs", str(docs)], capture_output=True, text=True, env=env,
                           timeout=600)
    assert built.returncode == 0, built.stderr

    def ask(q):
        r = subprocess.run([isnad, "ask", q, "--json"], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    near = ask("كم بلغ عدد الطلاب المسجلين في جامعة النور عام 2019؟")
    assert near["abstained"] and not near["citations"]
    twin = ask("كم بلغ عدد الطلاب المسجلين في جامعة النور عام 2023؟")
    assert not twin["abstained"], twin
    quote = twin["citations"][0]["quote"]
    assert "١٢٤٠٠" in quote
    assert TINY_DOC[twin["citations"][0]["start"] : twin["citations"][0]["end"]] == quote


def test_the_threshold_counts_what_the_vetoes_refuse():
    from evals.train_answerability import threshold_for

    prob = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
    assert threshold_for(prob, y, 1 / 9) == pytest.approx(0.2)  # one answerable question may be refused
    veto = np.zeros(10, bool)
    veto[0] = True  # a veto already refuses one: the model may refuse none
    assert threshold_for(prob, y, 1 / 9, veto) == pytest.approx(0.1)


def test_training_refuses_the_fixed_reporting_set():
    run = subprocess.run([sys.executable, "-m", "evals.train_answerability", "--own", "evals/questions/corpus.jsonl"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "reporting" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_own_training_questions_are_valid_and_not_the_reporting_set():
    own = [json.loads(line) for line in (REPO / "evals/questions/train.jsonl").read_text(encoding="utf-8").splitlines()]
    fixed = {json.loads(line)["question"] for line in
             (REPO / "evals/questions/corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    assert len(own) >= 40 and not {q["question"] for q in own} & fixed
    cats = {c: sum(q["category"] == c for q in own) for c in ("near-miss", "off-corpus", "factoid")}
    assert cats["near-miss"] >= 15 and cats["off-corpus"] >= 5 and cats["factoid"] >= 15
    docs = REPO / "corpus/documents"
    for q in own:
        if q["answerable"]:
            assert q["evidence"] in (docs / q["doc_id"]).read_text(encoding="utf-8") and q["answer"] in q["evidence"]
        else:
            assert q["evidence"] is None and q["doc_id"] is None
