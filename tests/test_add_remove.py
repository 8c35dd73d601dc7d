"""`isnad add` / `isnad remove` through the installed console script: a single document
(a LibreOffice PDF, a .txt) joins the live index, is answerable with its citation,
survives `isnad index --rebuild`, and leaves with `isnad remove`; bad input exits 2
with one line and changes neither the index nor the managed folder."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_cli import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
QUESTION = "من أسس مدينة زمرد؟"
FACT = "سليم القرطبي"
ZUMURRUD = "مدينة زمرد\n\nأسست مدينة زمرد الخيالية عام 1742 على ضفاف نهر الفضة، وكان مؤسسها التاجر سليم القرطبي.\n"


def state(home: Path) -> tuple[str, list[str]]:
    """(the live generation, the managed folder's files)."""
    docs = home / "documents"
    return ((home / "index" / "CURRENT").read_text(), sorted(p.name for p in docs.iterdir()) if docs.exists() else [])


def ask_json(question: str, home: Path) -> dict:
    r = run("ask", question, "--json", home=home)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.slow
def test_add_ask_rebuild_remove(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "user_docs" / "date-festival.txt", src)
    assert run("index", "--docs", str(src), home=home).returncode == 0
    (tmp_path / "zumurrud.txt").write_text(ZUMURRUD, encoding="utf-8")
    assert FACT not in json.dumps(ask_json(QUESTION, home), ensure_ascii=False)

    r = run("add", str(tmp_path / "zumurrud.txt"), str(FIXTURES / "user_docs" / "libreoffice-port.pdf"), home=home)
    assert r.returncode == 0, r.stderr
    assert "added added/zumurrud.txt" in r.stdout and "added added/libreoffice-port.pdf" in r.stdout
    assert "2 added, 0 changed, 0 removed, 1 unchanged" in r.stdout, r.stdout
    d = ask_json(QUESTION, home)
    assert FACT in d["passages"][0]["text"] and d["citations"][0]["doc_id"] == "added/zumurrud.txt", d
    d = ask_json("كم موظفا يعمل في ميناء الرمال؟", home)
    assert d["citations"][0]["doc_id"] == "added/libreoffice-port.pdf" and d["citations"][0]["page"] == 2, d

    # update and rebuild keep the added documents (the managed folder is indexed by every build)
    r = run("index", "--rebuild", home=home)
    assert r.returncode == 0 and "3 added" in r.stdout, (r.stdout, r.stderr)
    # adding the same name again replaces it
    (tmp_path / "zumurrud.txt").write_text(ZUMURRUD.replace("1742", "1743"), encoding="utf-8")
    r = run("add", str(tmp_path / "zumurrud.txt"), home=home)
    assert r.returncode == 0 and "0 added, 1 changed" in r.stdout, r.stdout

    r = run("remove", "added/zumurrud.txt", home=home)
    assert r.returncode == 0, r.stderr
    assert "removed added/zumurrud.txt" in r.stdout and "1 removed, 2 unchanged" in r.stdout, r.stdout
    assert state(home)[1] == ["libreoffice-port.pdf"]
    d = ask_json(QUESTION, home)
    assert all(c["doc_id"] != "added/zumurrud.txt" for c in d["citations"])
    assert FACT not in json.dumps(d, ensure_ascii=False)
    r = run("docs", home=home)
    assert r.stdout.splitlines()[-1] == "2 documents", r.stdout


@pytest.mark.slow
def test_bad_input_exits_2_and_changes_nothing(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "user_docs" / "date-festival.txt", src)
    assert run("index", "--docs", str(src), home=home).returncode == 0
    good = tmp_path / "good.txt"
    good.write_text(ZUMURRUD, encoding="utf-8")
    assert run("add", str(good), home=home).returncode == 0
    before = state(home)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    (tmp_path / "notes.odt").write_bytes(b"x")
    cases = [
        (("add", str(tmp_path / "missing.txt")), "missing.txt: no such file"),
        (("add", str(tmp_path / "notes.odt")), "unsupported type"),
        (("add", str(tmp_path)), "not a file"),
        (("add", str(good), str(broken)), "broken.pdf"),  # one bad file: none is added
        (("remove", "added/nothing.txt"), "no such document"),
        (("remove", "date-festival.txt"), f"a document of {src}"),
        (("remove", "added/../index/CURRENT"), "no such document"),
    ]
    for args, message in cases:
        r = run(*args, home=home)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("isnad: error: ") and message in lines[0], (args, r.stderr)
        assert state(home) == before, args
    assert (src / "date-festival.txt").exists()
