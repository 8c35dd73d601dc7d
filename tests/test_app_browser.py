"""The app in a real headless browser (Debian's /usr/bin/chromium through Playwright):
RTL layout, an Arabic question answered with a highlighted citation, the document
viewer, markup in a question shown as text and never run, friendly errors, a
screenshot (tests/artifacts/app.png; ui/screenshot.png for the README when
ISNAD_UPDATE_SCREENSHOT=1 or when it is missing).

Without /usr/bin/chromium these tests skip, except under CI=true where a missing
browser is a failure (`python tests/browser_setup.py` installs it with apt)."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.app_server import XSS, app_engine, running_app  # noqa: F401  (app_engine: a fixture)
from tests.browser_setup import chromium_path, in_ci

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
README_SHOT = REPO / "ui" / "screenshot.png"
MAX_README_SHOT = 300 * 1024
TIMEOUT_MS = 30_000

Q_TREATY = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"
Q_BERLIK = "ما هي مناورات بيرليك 2025؟"
Q_SMART = "ما المقصود بالقوة الذكية التركية؟"
Q_SAMARKAND = "من شارك في اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟"


def squash(text: str) -> str:
    return " ".join((text or "").split())


MISSING = "/usr/bin/chromium is missing (install: python tests/browser_setup.py)"
if chromium_path() is None and not in_ci():
    pytest.skip(MISSING, allow_module_level=True)


@pytest.fixture(scope="module")
def url(browser, app_engine):  # noqa: F811
    with running_app(app_engine) as (_app, u):
        yield u


@pytest.fixture
def page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ar",
                                  permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    outside: list[str] = []  # requests leaving the app (fonts, CDNs, analytics): none allowed
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else outside.append(r.url))
    pg.goto(url)
    pg.wait_for_selector("#isnad-input textarea")
    pg.errors, pg.outside = errors, outside
    yield pg
    context.close()


def ask(pg, question: str, n_answers_before: int | None = None) -> None:
    """Type a question, press Enter, wait for the next assistant bubble."""
    before = pg.locator("#isnad-chat .isnad-answer, #isnad-chat .isnad-abstain, #isnad-chat .isnad-error").count() \
        if n_answers_before is None else n_answers_before
    box = pg.locator("#isnad-input textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(
        "n => document.querySelectorAll('#isnad-chat .isnad-answer, #isnad-chat .isnad-abstain,"
        " #isnad-chat .isnad-error').length > n", arg=before)


def test_arabic_question_answer_and_highlighted_citation(page, app_engine):  # noqa: F811
    pg = page
    assert pg.evaluate("document.documentElement.dir") == "rtl"
    assert pg.locator("#isnad-input textarea").get_attribute("dir") == "rtl"
    ask(pg, Q_TREATY)
    answer = pg.locator("#isnad-chat .isnad-answer").last
    assert answer.get_attribute("dir") == "rtl"
    assert re.search(r"\[1\]", answer.inner_text())
    assert pg.locator("#isnad-chat .isnad-ref").count() >= 1
    # the sources panel: RTL, the cited quote in <mark>, exactly as the engine cites it
    pg.wait_for_selector("#isnad-sources mark")
    assert pg.locator("#isnad-sources .isnad-sources").get_attribute("dir") == "rtl"
    expected = app_engine.ask(Q_TREATY).citations
    marks = [squash(t) for t in pg.locator("#isnad-sources mark").all_inner_texts()]
    assert marks == [squash(c.quote) for c in expected]
    titles = pg.locator("#isnad-sources .isnad-title").all_inner_texts()
    assert titles == [c.title for c in expected]
    # the text direction where it matters: chat bubbles and the panel really lay out RTL
    assert pg.evaluate("getComputedStyle(document.querySelector('#isnad-chat .isnad-answer')).direction") == "rtl"
    assert pg.evaluate("getComputedStyle(document.querySelector('#isnad-sources .isnad-passage')).direction") == "rtl"
    assert not pg.errors
    assert not pg.outside, f"the page fetched from outside the app: {pg.outside}"


def test_follow_up_and_clicking_a_marker(page):
    pg = page
    ask(pg, Q_TREATY)
    ask(pg, "ومتى وقعت؟")
    assert "سؤال متابعة" in pg.locator("#isnad-chat .isnad-foot").last.inner_text()
    # clicking [1] in the first answer brings that answer's sources back
    pg.locator("#isnad-chat .isnad-ref-0-1").first.click()
    pg.wait_for_selector("#isnad-src-0-1")
    assert squash(Q_TREATY) in squash(pg.locator("#isnad-sources .isnad-sources-q").inner_text())
    # new conversation: the chat and the sources empty out
    pg.locator("#isnad-new").click()
    pg.wait_for_function("document.querySelectorAll('#isnad-chat .isnad-answer').length === 0")
    assert pg.locator("#isnad-sources .isnad-empty").count() == 1


def test_document_viewer_opens_at_the_cited_place(page, app_engine):  # noqa: F811
    pg = page
    ask(pg, Q_SMART)
    pg.locator("#isnad-sources .isnad-open").first.click()
    mark = pg.locator("#isnad-doc-mark")
    mark.wait_for(state="visible")
    quote = app_engine.ask(Q_SMART).citations[0].quote
    assert squash("".join(pg.locator("#isnad-doc mark").all_inner_texts())) == squash(quote)
    pg.wait_for_function(
        "() => { const r = document.querySelector('#isnad-doc-mark').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }")  # scrolled into view
    assert pg.locator("#isnad-doc .isnad-doc-text").get_attribute("dir") == "rtl"
    pg.keyboard.press("Escape")
    pg.locator("#isnad-modal").wait_for(state="hidden")
    # the documents tab: catalog + index status, and "view" opens a document
    pg.get_by_role("tab", name="الوثائق").click()
    rows = pg.locator("#isnad-docs tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(app_engine.documents())
    assert str(app_engine.info()["chunks"]) in pg.locator(".isnad-status").inner_text()
    rows.nth(1).locator(".isnad-open").click()
    pg.locator("#isnad-modal").wait_for(state="visible")
    assert squash(app_engine.documents()[1].title) in squash(pg.locator("#isnad-modal-head").inner_text())
    pg.locator("#isnad-modal-close").click()
    pg.locator("#isnad-modal").wait_for(state="hidden")


def test_markup_in_a_question_is_text_and_never_runs(page):
    pg = page
    question = "ما هي مناورات بيرليك؟ " + XSS
    ask(pg, question)
    pg.wait_for_timeout(500)
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    user = pg.locator("#isnad-chat .isnad-q").last
    assert XSS in user.inner_text()
    assert pg.locator("#isnad-chat img[src='x'], #isnad-chat script").count() == 0
    assert pg.locator("#isnad-sources script, #isnad-sources img[src='x']").count() == 0
    assert XSS in pg.locator("#isnad-sources .isnad-sources-q").inner_text()


def test_errors_are_friendly_messages_in_the_chat(page):
    pg = page
    ask(pg, "")
    err = pg.locator("#isnad-chat .isnad-error").last
    assert "فارغ" in err.inner_text() and "Traceback" not in err.inner_text()
    ask(pg, "س " * 1100)
    assert "طويل" in pg.locator("#isnad-chat .isnad-error").last.inner_text()


def test_examples_and_show_all(page):
    pg = page
    pg.get_by_role("button", name=Q_BERLIK).click()
    pg.wait_for_selector("#isnad-chat .isnad-answer")
    pg.wait_for_selector("#isnad-sources mark")
    assert squash(Q_BERLIK) in squash(pg.locator("#isnad-chat .isnad-q").last.inner_text())
    n_cited = pg.locator("#isnad-sources article.isnad-card.cited").count()
    assert n_cited >= 1
    # "copy the answer with its sources" puts plain text on the clipboard
    pg.locator("#isnad-sources .isnad-copy").click()
    pg.wait_for_selector("#isnad-sources .isnad-copy.done")
    copied = pg.evaluate("navigator.clipboard.readText()")
    assert Q_BERLIK in copied and "[1]" in copied
    assert "<mark" not in copied and "&lt;" not in copied and "&quot;" not in copied  # text, not HTML
    pg.locator("#isnad-settings").get_by_role("button").first.click()  # the settings fold open
    pg.locator("#isnad-show-all input[type=checkbox]").check()
    pg.wait_for_function(
        "n => document.querySelectorAll('#isnad-sources article.isnad-card').length > n", arg=n_cited)
    # really on screen, inside the panel (a long panel once wrapped out of the viewport)
    width = pg.viewport_size["width"]
    panel = pg.locator("#isnad-sources").bounding_box()
    assert 0 <= panel["x"] and panel["x"] + panel["width"] <= width
    for i in (0, n_cited):
        box = pg.locator("#isnad-sources article.isnad-card").nth(i).bounding_box()
        assert panel["x"] - 1 <= box["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"] + 1
    pg.locator("#isnad-show-all input[type=checkbox]").uncheck()
    pg.wait_for_function(
        "n => document.querySelectorAll('#isnad-sources article.isnad-card').length === n", arg=n_cited)
    assert not pg.errors


class AbstainingEngine:
    """The shipped engine, except that every answer is an abstention."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def ask(self, question, k=None, context="", id=None, **_options):
        from dataclasses import replace

        from qa.engine import ABSTAIN_AR

        return replace(self._engine.ask(question, k=k, context=context, id=id),
                       answer=ABSTAIN_AR, abstained=True, citations=[])

    def conversation(self):
        from qa.chat import Conversation

        return Conversation(self)


def test_abstention_is_visibly_not_an_answer(browser, app_engine):  # noqa: F811
    with running_app(AbstainingEngine(app_engine)) as (_app, u):
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            pg.goto(u)
            pg.wait_for_selector("#isnad-input textarea")
            ask(pg, "كم عدد سكان البرازيل؟")
            box = pg.locator("#isnad-chat .isnad-abstain").last
            box.wait_for(state="visible")
            assert "لا تتضمن الوثائق المتاحة" in box.inner_text()
            assert box.get_attribute("dir") == "rtl"
            assert pg.locator("#isnad-chat .isnad-answer, #isnad-chat .isnad-ref").count() == 0
            bg = box.evaluate("e => getComputedStyle(e).backgroundColor")
            assert bg not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)")
            assert "لا مصادر" in pg.locator("#isnad-sources").inner_text()
            assert pg.locator("#isnad-sources mark").count() == 0
        finally:
            pg.close()


def test_generated_answer_streams_then_shows_the_checked_cited_answer(browser, app_engine):  # noqa: F811
    """With a (fake, slowed-down) language model: the checkbox shows, the draft streams in
    marked as unchecked, then the checked answer replaces it, with its quotes in <mark>."""
    import time

    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from tests.test_app import good_treaty_reply

    class SlowFake(GenericFakeChatModel):
        def _stream(self, *args, **kwargs):
            for chunk in super()._stream(*args, **kwargs):
                time.sleep(0.04)
                yield chunk

    reply = good_treaty_reply(app_engine)
    engine = app_engine.with_llm(chat_model=SlowFake(messages=iter([AIMessage(content=reply)])))
    expected = app_engine.with_llm(
        chat_model=GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))).ask(Q_TREATY, k=5)
    assert expected.model and expected.citations and not expected.notice
    with running_app(engine) as (_app, u):
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.set_default_timeout(TIMEOUT_MS)
        try:
            pg.goto(u)
            pg.wait_for_selector("#isnad-input textarea")
            toggle = pg.locator("#isnad-llm")
            toggle.wait_for(state="visible")
            assert engine.llm_label in toggle.inner_text()
            assert pg.locator("#isnad-llm input[type=checkbox]").is_checked()
            box = pg.locator("#isnad-input textarea")
            box.fill(Q_TREATY)
            box.press("Enter")
            draft = pg.locator("#isnad-chat .isnad-draft").last
            draft.wait_for(state="visible")  # the model's words, as it writes them
            assert "لم يُتحقق منها" in draft.inner_text()
            pg.wait_for_selector("#isnad-chat .isnad-answer")
            assert pg.locator("#isnad-chat .isnad-draft, #isnad-chat .isnad-pending").count() == 0
            answer = pg.locator("#isnad-chat .isnad-answer").last
            assert squash(answer.inner_text()) == squash(expected.answer)
            assert pg.locator("#isnad-chat .isnad-ref").count() == len(expected.citations)
            assert f"كتبه {engine.llm_label}" in pg.locator("#isnad-chat .isnad-by").last.inner_text()
            pg.wait_for_selector("#isnad-sources mark")
            marks = [squash(t) for t in pg.locator("#isnad-sources mark").all_inner_texts()]
            assert marks == [squash(c.quote) for c in expected.citations]
            pg.evaluate("document.activeElement && document.activeElement.blur()")
            ARTIFACTS.mkdir(exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / "app-llm.png"))
            assert not errors
        finally:
            pg.close()


def test_screenshot(page):
    """Two questions with their sources: tests/artifacts/app.png, and ui/screenshot.png
    (README) when ISNAD_UPDATE_SCREENSHOT=1 or when it is missing."""
    pg = page
    pg.get_by_role("button", name=Q_BERLIK).click()
    pg.wait_for_selector("#isnad-chat .isnad-answer")
    ask(pg, Q_SAMARKAND)
    pg.wait_for_function(
        "q => (document.querySelector('#isnad-sources .isnad-sources-q')||{}).textContent?.includes(q)",
        arg=Q_SAMARKAND)
    pg.wait_for_selector("#isnad-sources mark")
    pg.evaluate("document.activeElement && document.activeElement.blur()")
    pg.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "app.png"
    pg.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000  # something rendered
    if os.environ.get("ISNAD_UPDATE_SCREENSHOT") == "1" or not README_SHOT.exists():
        if shot.stat().st_size < MAX_README_SHOT:
            shutil.copyfile(shot, README_SHOT)
    assert not pg.errors
