"""Uploading documents into the app: names that never leave the data directory, the
server's own size limit (HTTP 413 from Gradio's upload route, posted without the
page), and in headless Chromium: upload a document, ask a question answered from it,
remove it."""
from __future__ import annotations

import shutil

import pytest

from index.added import AddError, add_documents, documents_dir, safe_name
from tests.app_server import running_app
from tests.browser_setup import chromium_path, in_ci

QUESTION = "من أسس مدينة زمرد؟"
FACT = "سليم القرطبي"
ZUMURRUD = "مدينة زمرد\n\nأسست مدينة زمرد الخيالية عام 1742 على ضفاف نهر الفضة، وكان مؤسسها التاجر سليم القرطبي.\n"


@pytest.mark.parametrize("name, safe", [
    ("../../evil.txt", "evil.txt"), ("..\\..\\evil.md", "evil.md"), ("/etc/evil.html", "evil.html"),
    (".hidden.txt", "hidden.txt"), ("a\x00b\n.pdf", "ab.pdf"), ("تقرير.docx", "تقرير.docx"),
])
def test_safe_name_keeps_only_a_plain_file_name(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["..", "../", ".txt", "notes.odt", "evil", "x.exe"])
def test_safe_name_refuses_what_is_no_document_name(name):
    with pytest.raises(AddError):
        safe_name(name)


def test_an_upload_named_to_escape_lands_inside_the_data_directory(tmp_path, fake_embedder):
    home, src = tmp_path / "data" / "home", tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("نص قصير عن الزراعة في السهول.", encoding="utf-8")
    upload = tmp_path / "upload.bin"
    upload.write_text(ZUMURRUD, encoding="utf-8")
    from index.builder import build_index

    build_index(home, [src], fake_embedder)
    report = add_documents(home, [(upload, "../../evil.txt")], fake_embedder)
    assert report.doc_ids == ["added/evil.txt"] and "added/evil.txt" in report.build.added
    assert (documents_dir(home) / "evil.txt").read_text(encoding="utf-8") == ZUMURRUD
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "data" / "evil.txt").exists()
    assert sorted(p.name for p in documents_dir(home).iterdir()) == ["evil.txt"]


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path, fake_embedder):
    from index.builder import IndexParams

    big = tmp_path / "big.txt"
    big.write_text("كلمة " * 300_000, encoding="utf-8")
    with pytest.raises(AddError, match=r"big\.txt: too large \(2\.\d MB; the limit is 1 MB\)"):
        add_documents(tmp_path / "home", [(big, big.name)], fake_embedder, IndexParams(max_upload_bytes=2**20))
    assert not (tmp_path / "home").exists()


@pytest.fixture(scope="module")
def upload_engine(shipped_home, tmp_path_factory):
    """An engine over a copy of the shipped index (the shared one must not change), with
    a 1 MB upload limit (the test posts just over it)."""
    from dataclasses import replace

    from qa.engine import Isnad
    from qa.settings import Settings

    home = tmp_path_factory.mktemp("upload") / "home"
    shutil.copytree(shipped_home, home)
    settings = Settings.from_env(home=home)
    settings = replace(settings, index=replace(settings.index, max_upload_bytes=2**20))
    return Isnad.open(settings, build_if_missing=False)


@pytest.mark.slow
def test_the_server_refuses_a_too_large_upload(upload_engine):
    import httpx

    limit = upload_engine.settings.index.max_upload_bytes
    with running_app(upload_engine) as (_app, url):
        small = httpx.post(url + "gradio_api/upload", files={"files": ("a.txt", b"x" * 1000)}, timeout=60)
        assert small.status_code == 200, small.text
        big = httpx.post(url + "gradio_api/upload", files={"files": ("big.txt", b"x" * (limit + 1))}, timeout=120)
        assert big.status_code == 413, (big.status_code, big.text[:200])
    assert not documents_dir(upload_engine.settings.home).exists()


MISSING = "/usr/bin/chromium is missing (install: python tests/browser_setup.py)"


@pytest.mark.slow
@pytest.mark.browser
def test_upload_ask_remove_in_the_browser(upload_engine, tmp_path, request):
    if chromium_path() is None:
        if in_ci():
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    doc = tmp_path / "zumurrud.txt"
    doc.write_text(ZUMURRUD, encoding="utf-8")
    answers = "#isnad-chat .isnad-answer, #isnad-chat .isnad-abstain"
    browser = request.getfixturevalue("browser")  # after the skip check above
    with running_app(upload_engine) as (_app, url):
        pg = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ar")
        pg.set_default_timeout(60_000)
        pg.goto(url)
        pg.get_by_role("tab", name="الوثائق").click()
        before = upload_engine.info()["documents"]
        assert _shown_document_counts(pg) == (before, before)
        pg.locator("#isnad-upload input[type=file]").set_input_files(str(doc))
        pg.locator("#isnad-upload").get_by_text("zumurrud.txt").first.wait_for()
        pg.locator("#isnad-add").click()
        pg.wait_for_selector("#isnad-upload-status .isnad-upload-status")
        assert "added/zumurrud.txt" in pg.locator("#isnad-upload-status").inner_text()
        assert "added/zumurrud.txt" in pg.locator("#isnad-docs").inner_text()
        # the status panel and the header count the new document without a reload
        pg.wait_for_function(_PANEL_COUNT_JS, arg=str(before + 1))
        assert _shown_document_counts(pg) == (before + 1, before + 1)

        pg.get_by_role("tab", name="المحادثة").click()
        box = pg.locator("#isnad-input textarea")
        box.fill(QUESTION)
        box.press("Enter")
        pg.wait_for_function(f"document.querySelectorAll('{answers}').length > 0")
        assert FACT in pg.locator("#isnad-chat .isnad-answer").last.inner_text()
        pg.wait_for_selector("#isnad-sources mark")
        assert "added/zumurrud.txt" in pg.locator("#isnad-sources").inner_text()

        pg.get_by_role("tab", name="الوثائق").click()
        pg.locator("#isnad-remove-choice input").click()
        pg.get_by_role("option", name="added/zumurrud.txt").click()
        pg.locator("#isnad-remove").click()
        pg.wait_for_function("document.querySelector('#isnad-upload-status').innerText.includes('حُذفت')")
        assert "added/zumurrud.txt" not in pg.locator("#isnad-docs").inner_text()
        assert not (documents_dir(upload_engine.settings.home) / "zumurrud.txt").exists()
        pg.wait_for_function(_PANEL_COUNT_JS, arg=str(before))
        assert _shown_document_counts(pg) == (before, before)

        pg.get_by_role("tab", name="المحادثة").click()
        box.fill(QUESTION)
        box.press("Enter")
        pg.wait_for_function(f"document.querySelectorAll('{answers}').length > 1")
        assert FACT not in pg.locator(answers.split(", ")[0] + ", " + answers.split(", ")[1]).last.inner_text()
        assert "added/zumurrud.txt" not in pg.locator("#isnad-sources").inner_text()
        pg.close()


# The status panel's first cell is the number of documents (ui.app_viewer._STATUS_KEYS).
_PANEL_COUNT_JS = "n => document.querySelector('#isnad-status-panel .isnad-stat .v').innerText.trim() === n"


def _shown_document_counts(pg) -> tuple[int, int]:
    """(documents in the status panel, the first number in the header's line)."""
    import re

    panel = pg.locator("#isnad-status-panel .isnad-stat .v").first.inner_text().strip()
    header = pg.locator("#isnad-head .stat").inner_text()
    return int(panel), int(re.search(r"\d+", header).group())
