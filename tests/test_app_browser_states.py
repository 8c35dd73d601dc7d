"""The app a reader keeps open, in real headless Chromium: dark and light themes that
read (contrast measured on the page), the phone layout (sources right under the
answer, nothing wider than the screen), one interface language at a time, the
evaluation tab on a small suite, conversations kept across a reload, and the copy
button on every answer.

Screenshots: tests/artifacts/*.png always; ui/screenshots/*.png (the README's) when
ISNAD_UPDATE_SCREENSHOT=1 or when they are missing."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.app_server import app_engine, running_app  # noqa: F401  (app_engine: a fixture)
from tests.browser_setup import chromium_path, in_ci
from tests.test_app_style import AA, contrast

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SHOTS = REPO / "ui" / "screenshots"
MAX_SHOT = 300 * 1024
TIMEOUT_MS = 60_000
EVAL_TIMEOUT_MS = 600_000  # a loaded CI machine: the first run loads the embedder
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

Q_TREATY = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"
Q_BERLIK = "ما هي مناورات بيرليك 2025؟"
LONG_URL = "https://example.org/" + "very-long-path-segment/" * 12 + "?query=" + "x" * 80

if chromium_path() is None and not in_ci():
    pytest.skip("/usr/bin/chromium is missing (install: python tests/browser_setup.py)", allow_module_level=True)


@pytest.fixture(scope="module")
def url(browser, app_engine, suite_cache):  # noqa: F811
    saved = os.environ.get("ISNAD_EVALS_CACHE")
    os.environ["ISNAD_EVALS_CACHE"] = str(suite_cache)  # the eval tab reuses the session's index
    try:
        with running_app(app_engine) as (_app, u):
            yield u
    finally:
        if saved is None:
            os.environ.pop("ISNAD_EVALS_CACHE", None)
        else:
            os.environ["ISNAD_EVALS_CACHE"] = saved


def open_page(browser, url, viewport=DESKTOP, color_scheme="light"):
    context = browser.new_context(viewport=viewport, locale="ar", color_scheme=color_scheme,
                                  permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("#isnad-input textarea")
    pg.wait_for_function("document.querySelector('#isnad-conversations') !== null")
    return context, pg


def ask(pg, question: str) -> None:
    sel = "#isnad-chat .isnad-answer, #isnad-chat .isnad-abstain, #isnad-chat .isnad-error"
    before = pg.locator(sel).count()
    box = pg.locator("#isnad-input textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function("([s, n]) => document.querySelectorAll(s).length > n", arg=[sel, before])


def shot(pg, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.evaluate("document.activeElement && document.activeElement.blur()")
    pg.wait_for_timeout(300)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000  # something rendered
    target = SHOTS / f"{name}.png"
    if (os.environ.get("ISNAD_UPDATE_SCREENSHOT") == "1" or not target.exists()) and path.stat().st_size < MAX_SHOT:
        SHOTS.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
    return path


def rgb_hex(css: str) -> str:
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


MARK_COLOURS = """() => { const m = document.querySelector('#isnad-sources mark'); const s = getComputedStyle(m);
  return [s.color, s.backgroundColor, document.body.classList.contains('dark')]; }"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_highlighted_quote_reads_in_both_themes(browser, url, scheme):
    context, pg = open_page(browser, url, DESKTOP, scheme)
    try:
        ask(pg, Q_TREATY)
        pg.wait_for_selector("#isnad-sources mark")
        fg, bg, dark = pg.evaluate(MARK_COLOURS)
        assert dark is (scheme == "dark")  # the system preference is followed
        ratio = contrast(rgb_hex(fg), rgb_hex(bg))
        print(f"{scheme}: text {fg} on highlight {bg}: {ratio:.2f}:1")
        assert ratio >= AA, (scheme, fg, bg, ratio)
        shot(pg, f"desktop-{scheme}")
        # the visible toggle flips the theme, and the quote still reads
        pg.locator("#isnad-theme").click()
        pg.wait_for_function("d => document.body.classList.contains('dark') === d", arg=scheme != "dark")
        fg2, bg2, _ = pg.evaluate(MARK_COLOURS)
        assert bg2 != bg and contrast(rgb_hex(fg2), rgb_hex(bg2)) >= AA
        pg.reload()  # the choice is remembered in this browser
        pg.wait_for_selector("#isnad-input textarea")
        pg.wait_for_function("d => document.body.classList.contains('dark') === d", arg=scheme != "dark")
        assert not pg.errors
    finally:
        context.close()


POSITIONS = """() => {
  const y = e => e.getBoundingClientRect().top + window.scrollY;
  const answer = [...document.querySelectorAll('#isnad-chat .isnad-answer')].pop();
  const chat = document.querySelector('#isnad-chat');
  return {chat_bottom: chat.getBoundingClientRect().bottom + window.scrollY, answer: y(answer),
          sources: y(document.querySelector('#isnad-sources')),
          examples: y(document.querySelector('#isnad-examples')),
          scroll_width: document.documentElement.scrollWidth, client_width: document.documentElement.clientWidth};
}"""


def test_phone_layout_sources_under_the_answer_and_nothing_overflows(browser, url):
    context, pg = open_page(browser, url, PHONE)
    try:
        ask(pg, Q_TREATY + " " + LONG_URL)  # a long Latin string in the question and the panel
        pg.wait_for_selector("#isnad-sources .isnad-card")
        pos = pg.evaluate(POSITIONS)
        print("390x844 positions:", pos)
        # the sources follow the chat (only the question box between them), the examples after
        assert 0 <= pos["sources"] - pos["chat_bottom"] < 200, pos
        assert pos["examples"] > pos["sources"], pos
        assert pos["scroll_width"] <= pos["client_width"], pos
        for sel in ("#isnad-sources", "#isnad-chat .isnad-q", "#isnad-sources .isnad-sources-q"):
            over = pg.evaluate("s => [...document.querySelectorAll(s)].map(e => e.scrollWidth - e.clientWidth)", sel)
            assert over and max(over) <= 1, (sel, over)
        # a tap on [1] brings that source into view
        pg.locator("#isnad-chat .isnad-ref").first.click()
        card = pg.locator("#isnad-sources article.isnad-card.cited").first
        pg.wait_for_function("""() => { const r = document.querySelector('#isnad-sources article.isnad-card.cited')
            .getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }""")
        assert card.is_visible()
        shot(pg, "phone-sources")
        # the document viewer fits the phone too
        card.locator(".isnad-open").click()
        pg.locator("#isnad-doc-mark").wait_for(state="visible")
        assert pg.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        over = pg.evaluate("(() => { const e = document.querySelector('#isnad-doc .isnad-doc-text');"
                           " return e.scrollWidth - e.clientWidth; })()")
        assert over <= 1
        shot(pg, "phone-viewer")
        assert not pg.errors
    finally:
        context.close()


def test_one_language_at_a_time(browser, url):
    context, pg = open_page(browser, url, DESKTOP)
    try:
        assert pg.evaluate("document.documentElement.lang") == "ar"
        assert pg.locator("#isnad-send").inner_text().strip() == "اسأل"
        assert "Use via API" not in pg.locator("body").inner_text()  # no English footer
        pg.locator("#isnad-lang").get_by_text("English").click()
        pg.wait_for_function("document.documentElement.dir === 'ltr'")
        pg.wait_for_function("document.querySelector('#isnad-send')?.innerText.trim() === 'Ask'")
        assert pg.evaluate("document.documentElement.lang") == "en"
        ask(pg, "What is the capital of Australia?")  # off-corpus: an English refusal
        box = pg.locator("#isnad-chat .isnad-abstain").last
        assert "No answer in the documents" in box.inner_text()
        text = box.locator(".isnad-abstain-text")
        assert text.get_attribute("dir") == "ltr" and text.inner_text().strip().endswith(".")
        assert pg.evaluate("getComputedStyle(document.querySelector('#isnad-chat .isnad-abstain-text')).direction") == "ltr"
        ask(pg, Q_BERLIK)  # an Arabic answer in the English interface: RTL, English labels around it
        assert pg.locator("#isnad-chat .isnad-answer").last.get_attribute("dir") == "rtl"
        pg.wait_for_selector("#isnad-sources mark")
        panel = pg.locator("#isnad-sources").inner_text()
        assert "Sources:" in panel and "المصادر:" not in panel
        score = pg.locator("#isnad-sources .isnad-score").first
        assert "Retrieval score" in score.get_attribute("title")  # the number is explained
        visible = pg.locator("#isnad-head, #isnad-new, #isnad-export, #isnad-send, [role=tab], "
                             "#isnad-settings, #isnad-conversations label").all_inner_texts()
        assert not re.search("[\u0600-\u06ff]", " ".join(visible)), visible
        shot(pg, "desktop-english")
        pg.reload()  # the choice is kept
        pg.wait_for_function("document.querySelector('#isnad-send')?.innerText.trim() === 'Ask'")
        pg.locator("#isnad-lang").get_by_text("العربية").click()
        pg.wait_for_function("document.querySelector('#isnad-send')?.innerText.trim() === 'اسأل'")
        assert pg.evaluate("document.documentElement.dir") == "rtl"
        assert not pg.errors
    finally:
        context.close()


def test_conversations_survive_a_reload_switch_export_and_copy(browser, url, app_engine):  # noqa: F811
    context, pg = open_page(browser, url, DESKTOP)
    try:
        ask(pg, Q_TREATY)
        ask(pg, "ومتى وقعت؟")
        pg.locator("#isnad-new").click()
        pg.wait_for_function("document.querySelectorAll('#isnad-chat .isnad-answer').length === 0")
        ask(pg, Q_BERLIK)
        pg.reload()
        pg.wait_for_selector("#isnad-input textarea")
        # the current conversation is back, with its sources; nothing was stored on the server
        pg.wait_for_function("document.querySelectorAll('#isnad-chat .isnad-answer').length === 1")
        assert Q_BERLIK in pg.locator("#isnad-chat .isnad-q").last.inner_text()
        pg.wait_for_selector("#isnad-sources mark")
        stored = pg.evaluate("Object.keys(localStorage)")
        assert "isnad-conversations" in stored
        # switch to the first conversation
        pg.locator("#isnad-conversations input").click()
        pg.get_by_role("option", name=re.compile("معاهدة التحالف")).click()
        pg.wait_for_function("document.querySelectorAll('#isnad-chat .isnad-answer').length === 2")
        assert "سؤال متابعة" in pg.locator("#isnad-chat .isnad-foot").last.inner_text()
        # copy the answer with its numbered sources, from the message itself
        pg.locator("#isnad-chat .isnad-msg-copy").first.click()
        pg.wait_for_selector("#isnad-chat .isnad-msg-copy.done")
        copied = pg.evaluate("navigator.clipboard.readText()")
        expected = app_engine.ask(Q_TREATY)
        assert copied.startswith("س: " + Q_TREATY) and "\n[1] " in copied
        assert " ".join(expected.citations[0].quote.split()) in copied
        assert "<" not in copied and "&" not in copied
        # export as Markdown, saved by the browser
        with pg.expect_download() as dl:
            pg.locator("#isnad-export").click()
        md = Path(dl.value.path()).read_text(encoding="utf-8")
        assert md.startswith("# محادثة إسناد") and f"**السؤال:** {Q_TREATY}" in md and "   > " in md
        assert md.count("**السؤال:**") == 2
        assert not pg.errors
    finally:
        context.close()


def test_evaluation_tab_runs_a_small_suite_and_compares(browser, url, app_engine):  # noqa: F811
    (Path(app_engine.settings.home) / "app-evals" / "last.json").unlink(missing_ok=True)
    context, pg = open_page(browser, url, DESKTOP)
    try:
        pg.get_by_role("tab", name="التقييم").click()
        pg.locator("#isnad-eval-limit input").fill("4")
        pg.locator("#isnad-eval-limit input").blur()
        pg.locator("#isnad-eval-run").click()  # the first run: no earlier one to compare with
        pg.wait_for_selector("#isnad-eval-result .isnad-eval", timeout=EVAL_TIMEOUT_MS)
        result = pg.locator("#isnad-eval-result").inner_text()
        assert "corpus: 4" in result and "لا تشغيل سابق" in result
        pg.locator("#isnad-eval-run").click()  # the second: compared with the first
        pg.wait_for_function("() => document.querySelector('#isnad-eval-result')?.innerText.includes('التشغيل السابق')",
                             timeout=EVAL_TIMEOUT_MS)
        result = pg.locator("#isnad-eval-result").inner_text()
        for label in ("R@1", "R@5", "MRR@10", "quote ⊇ gold", "التشغيل السابق"):
            assert label in result, label
        pg.locator("#isnad-eval-plot img").wait_for(state="visible")
        shot(pg, "desktop-eval", full_page=True)
        links = pg.locator("#isnad-eval-result .isnad-eval-ask")
        if links.count():  # a failure opens its question in the chat
            q = links.first.get_attribute("data-ask")
            links.first.click()
            pg.wait_for_function("q => [...document.querySelectorAll('#isnad-chat .isnad-q')]"
                                 ".some(e => e.innerText.includes(q))", arg=q.strip()[:30])
        assert not pg.errors
    finally:
        context.close()
