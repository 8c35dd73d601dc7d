"""A user's own documents end to end, through the installed `isnad` command: the
fixture folder (PDFs from Chromium, LibreOffice and reportlab, a .docx with headings
and a table, an HTML news page with menu and footer, Markdown, .txt) is indexed with
`isnad index --docs` and asked the questions of tests/fixtures/questions.jsonl."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.test_cli import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
QUESTIONS = [json.loads(line) for line in (FIXTURES / "questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
# Page furniture and markup that must never reach a passage.
NOT_CONTENT = ["الرئيسية", "اتصل بنا", "جميع الحقوق محفوظة", "سياسة الخصوصية", "أخبار ذات صلة",
               "تقرير ميناء الرمال السنوي", "نشرة الواحة الزراعية", "file:", "ﬁle:", "صفحة 1",
               "**", "](", "# ", "`", "<strong>", "<p>"]


@pytest.fixture(scope="module")
def user_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("user-docs-home")
    docs = tmp_path_factory.mktemp("my-documents") / "docs"
    shutil.copytree(FIXTURES / "user_docs", docs)
    r = run("index", "--docs", str(docs), home=home)
    assert r.returncode == 0, r.stderr
    return home


@pytest.fixture(scope="module")
def answers(user_home):
    batch = "\n".join(json.dumps({"id": q["id"], "question": q["question"]}, ensure_ascii=False)
                      for q in QUESTIONS)
    r = run("ask", "--batch", "-", "--json", home=user_home, stdin=batch)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [a["id"] for a in out] == [q["id"] for q in QUESTIONS]
    return out


# Misses of the answer selection (qa/answerer.py) still known: none. (A sentence that
# names its subject by a common noun, «تنتج المحطة ...», now counts the subject named
# before it; table rows are quotable; a year «عام 2021» is no answer to «كم».)
ANSWERER_MISSES: set[str] = set()


@pytest.mark.slow
@pytest.mark.parametrize("q", [
    pytest.param(q, id=q["id"], marks=[pytest.mark.xfail(strict=True, reason="answerer sentence choice")]
                 if q["id"] in ANSWERER_MISSES else [])
    for q in QUESTIONS])
def test_first_quote_holds_the_fact_from_the_right_document_and_page(answers, q):
    a = next(a for a in answers if a["id"] == q["id"])
    # the document holding the fact is always the first passage
    assert a["passages"][0]["doc_id"] == q["doc_id"]
    assert a["citations"], a["answer"]
    c = a["citations"][0]
    assert (c["doc_id"], c["page"]) == (q["doc_id"], q["page"])
    assert q["fact"] in c["quote"], c["quote"]


@pytest.mark.slow
def test_no_presentation_forms_furniture_or_markup_in_any_passage_or_quote(answers):
    for a in answers:
        for item in a["passages"] + a["citations"]:
            for field in ("text", "quote"):
                text = item.get(field, "")
                assert not PRESENTATION.search(text), (a["id"], text)
                for bad in NOT_CONTENT:
                    assert bad not in text, (a["id"], bad, text)


@pytest.mark.slow
def test_offsets_and_pages_are_exact_against_the_stored_text(answers, user_home):
    from index.store import IndexStore

    store = IndexStore.open(user_home)
    try:
        for a in answers:
            for c in a["citations"]:
                assert store.document_text(c["doc_id"])[c["start"]:c["end"]] == c["quote"]
            for p in a["passages"]:
                assert store.document_text(p["doc_id"])[p["start"]:p["end"]] == p["text"]
                if p["doc_id"].endswith(".pdf"):
                    assert p["page"] in (1, 2)
                else:
                    assert p["page"] is None
        titles = {d.doc_id: d.title for d in store.documents()}
    finally:
        store.close()
    assert titles["chromium-lake.pdf"] == "بحيرة القمر الزرقاء"  # not «lake.html»
    assert titles["reportlab-oasis.pdf"] == "مزارع النخيل في واحة الندى"  # not "untitled"
    assert titles["museum-news.html"] == "افتتاح متحف الخط العربي في مدينة النور"  # not «news.html»


@pytest.mark.slow
def test_cli_shows_the_page_of_a_pdf_citation(user_home):
    r = run("ask", "كم موظفا يعمل في ميناء الرمال؟", home=user_home)
    assert r.returncode == 0, r.stderr
    assert "3400" in r.stdout
    assert re.search(r"^\[1\] .*ص 2 \(libreoffice-port\.pdf\)$", r.stdout, re.M), r.stdout


@pytest.mark.slow
def test_index_docs_says_what_it_replaces_and_docs_lists_the_index(shipped_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(shipped_home, home)  # an index of the shipped corpus, as after a first `ask`
    docs = tmp_path / "mine"
    shutil.copytree(FIXTURES / "user_docs", docs)
    r = run("index", "--docs", str(docs), home=home)
    assert r.returncode == 0, r.stderr
    assert "5 documents of the shipped corpus removed" in r.stderr
    assert "7 added" in r.stdout and "5 removed" in r.stdout, r.stdout
    (docs / "date-festival.txt").unlink()
    r = run("index", "--docs", str(docs), home=home)
    assert r.returncode == 0 and "1 removed" in r.stdout and "removed:" not in r.stderr, (r.stdout, r.stderr)
    r = run("docs", home=home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "6 documents"
    row = next(line.split("\t") for line in lines if line.startswith("libreoffice-port.pdf\t"))
    assert row[1] == "pdf" and row[2].startswith("2 p., ") and row[3] == "ميناء الرمال في عام 2024"
    assert not any(line.startswith("date-festival.txt") for line in lines)
    r = run("docs", home=tmp_path / "empty")
    assert r.returncode == 2 and r.stderr.startswith("isnad: error: no index"), r.stderr
