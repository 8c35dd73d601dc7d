"""The data directory remembers what it indexes; a running app follows new indexes;
hostile files stay contained (issue 17).

- A missing or empty CURRENT is repaired from the generations (never replaced by the
  shipped corpus); `ask` during a first `isnad index --docs` waits for it, and after
  that build is killed builds the user's folder; `--rebuild` after a damaged manifest
  rebuilds the user's folder; other folders replace the recorded ones with a message.
- Symbolic links out of the folder, loops and broken links are skipped by name.
- Non-UTF-8 file names are indexed with an escaped doc_id; names with a newline or
  U+202E are printed escaped.
- Per-document limits (text, .docx expansion); no single document ends a build.
- `isnad serve` follows a new index between questions (gradio_client), and a refused
  question is one log line.
- NFD text answers like NFC text.
- A full disk is one line naming the data directory and the space needed.

Subprocess tests reuse the two-document `base` home of tests/test_reliability.py
(its embedding cache makes every build here embed little or nothing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import unicodedata
from pathlib import Path

import pytest

from corpus.files import discover, doc_id_of, printable
from corpus.loaders import SHIPPED_DOCUMENTS, load_document
from index.builder import IndexParams, build_index
from index.generations import CURRENT_NAME, index_root, live_generation
from index.home import home_state
from index.manifest import MANIFEST_NAME
from index.space import DiskFullError
from index.store import IndexStore
from tests.conftest import FakeEmbedder
from tests.test_reliability import (  # noqa: F401  (base, embedder: fixtures)
    DOC_A,
    DOC_B,
    ISNAD,
    Q_TREATY,
    Paused,
    _env,
    base,
    copy_docs,
    embedder,
    fresh_copy,
    generations,
    run_isnad,
    stderr_lines,
)

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not ISNAD.exists(), reason="the isnad console script is not installed")
AR = "هذه وثيقة عربية قصيرة عن التعاون الدفاعي بين الدول. وقعت الدول اتفاقاً للتدريب المشترك.\n"


def doc_ids(home: Path, embedder) -> set[str]:
    store = IndexStore.open(home, embedder.id)
    try:
        return {d.doc_id for d in store.documents()}
    finally:
        store.close()


# ------------------------------------------------------- 1. the home knows its sources
@pytest.mark.slow
@pytest.mark.parametrize("damage", ["empty", "missing"])
def test_missing_or_empty_current_is_repaired_from_the_generations(damage, base, tmp_path, embedder):
    env = fresh_copy(base, tmp_path, with_index=True)
    live = live_generation(env.home)
    current = index_root(env.home) / CURRENT_NAME
    current.write_text("") if damage == "empty" else current.unlink()

    proc = run_isnad(env.home, "ask", Q_TREATY, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "shipped corpus" not in proc.stderr and "first run" not in proc.stderr, proc.stderr
    assert f"was {damage}: repaired" in proc.stderr, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and {c["doc_id"] for c in answer["citations"]} <= {DOC_A, DOC_B}
    assert live_generation(env.home) == live and generations(env.home) == [live.name]
    assert doc_ids(env.home, embedder) == {DOC_A, DOC_B}


@pytest.mark.slow
def test_ask_during_a_first_build_waits_and_never_builds_the_shipped_corpus(base, tmp_path, embedder):
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    build = Paused(home, base.docs, "faiss")
    build.wait_for("isnad-test: paused at faiss")
    ask = subprocess.Popen(
        [str(ISNAD), "--home", str(home), "ask", Q_TREATY, "--json"], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True, encoding="utf-8",
    )
    err_lines: list[str] = []
    waiting = threading.Event()

    def pump() -> None:
        for line in ask.stderr:
            err_lines.append(line)
            if "waiting for another build" in line:
                waiting.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert waiting.wait(180), f"ask did not wait for the build in progress: {err_lines}"
    assert ask.poll() is None
    build.kill()  # the first build dies: ask must build the user's folder, not the shipped corpus
    out = ask.stdout.read()
    ask.wait(timeout=600)
    reader.join(timeout=30)
    err = "".join(err_lines)
    assert ask.returncode == 0, err
    assert "shipped corpus" not in err and str(base.docs) in err, err
    answer = json.loads(out)
    assert not answer["abstained"] and {c["doc_id"] for c in answer["citations"]} <= {DOC_A, DOC_B}
    assert doc_ids(home, embedder) == {DOC_A, DOC_B}


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_rebuild_after_a_damaged_manifest_rebuilds_the_users_folder(damage, base, tmp_path, embedder):
    env = fresh_copy(base, tmp_path, with_index=True)
    manifest = live_generation(env.home) / MANIFEST_NAME
    manifest.write_text(manifest.read_text()[:40]) if damage == "truncated" else manifest.unlink()
    proc = run_isnad(env.home, "index", "--rebuild")
    assert proc.returncode == 0, proc.stderr
    assert "2 added" in proc.stdout and "shipped" not in proc.stderr, (proc.stdout, proc.stderr)
    assert doc_ids(env.home, embedder) == {DOC_A, DOC_B}


@pytest.mark.slow
def test_indexing_other_folders_says_that_they_replace_the_recorded_ones(base, tmp_path, embedder):
    env = fresh_copy(base, tmp_path, with_index=True)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(base.docs / DOC_B, other / "treaty.txt")
    proc = run_isnad(env.home, "index", "--docs", str(other))
    assert proc.returncode == 0, proc.stderr
    assert f"2 documents of {base.docs} removed: the index now holds {other.resolve()} instead" in proc.stderr, \
        proc.stderr
    assert doc_ids(env.home, embedder) == {"treaty.txt"}
    proc = run_isnad(env.home, "index")  # a plain update keeps to the folder now recorded
    assert proc.returncode == 0 and "index up to date" in proc.stdout, proc.stdout + proc.stderr
    assert home_state(env.home).sources == [other.resolve()]


def test_a_fresh_home_is_fresh_and_a_users_home_records_its_folder(tmp_path):
    assert home_state(tmp_path / "new").fresh
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(AR, encoding="utf-8")
    build_index(tmp_path / "home", [docs], FakeEmbedder(), progress=False)
    state = home_state(tmp_path / "home")
    assert not state.fresh and state.sources == [docs.resolve()] and not state.shipped
    # the record survives a damaged manifest: the home still knows what it indexes
    (live_generation(tmp_path / "home") / MANIFEST_NAME).write_text("{", encoding="utf-8")
    assert home_state(tmp_path / "home").sources == [docs.resolve()]


def test_only_index_knows_generations_and_manifests():
    """ui/ and qa/ ask index/ what a home holds; they never glob generations or read manifests."""
    for path in [*(REPO / "ui").glob("*.py"), *(REPO / "qa").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for needle in ("gen-*", "manifest.json", "Manifest.read", "MANIFEST_NAME", ".glob("):
            assert needle not in text, (path.name, needle)


# --------------------------------------------------------- 2. links stay in the folder
@pytest.mark.slow
def test_symlinks_out_of_the_folder_loops_and_broken_links_are_skipped_by_name(base, tmp_path, embedder):
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy2(base.docs / DOC_B, docs / DOC_B)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy2(base.docs / DOC_A, outside / "far.txt")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "elsewhere").symlink_to(outside)
    (docs / "loop").symlink_to(docs)
    (docs / "self.txt").symlink_to(docs / "self.txt")
    (docs / "gone.txt").symlink_to(tmp_path / "nowhere.txt")

    proc = run_isnad(home, "index", "--docs", str(docs))
    assert proc.returncode == 0, proc.stderr
    lines = stderr_lines(proc)
    for name, why in [("passwd.txt", "outside the indexed folder"), ("elsewhere", "outside the indexed folder"),
                      ("loop", "already indexed"), ("self.txt", "loop"), ("gone.txt", "broken symbolic link")]:
        assert any(line.startswith(f"isnad: skipped {name}: ") and why in line for line in lines), (name, lines)
    assert doc_ids(home, embedder) == {DOC_B}
    store = IndexStore.open(home, embedder.id)
    assert not store.lexical_search(["root"], ["root"], 5), "the password file was indexed"
    store.close()

    proc = run_isnad(home, "index", "--docs", str(docs), "--follow-symlinks")
    assert proc.returncode == 0, proc.stderr
    assert "elsewhere/far.txt" in doc_ids(home, embedder)


# ------------------------------------------------------------------ 3. any file name
@pytest.mark.slow
def test_any_file_name_is_indexed_and_printed_safely(base, tmp_path, embedder):
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    docs = tmp_path / "docs"
    docs.mkdir()
    bad_bytes = os.fsencode(str(docs)) + b"/\xff\xfe-report.txt"
    with open(bad_bytes, "wb") as f:
        f.write((base.docs / DOC_A).read_bytes())
    evil = "treaty\n[9] forged line \u202etxt.exe.txt"
    shutil.copy2(base.docs / DOC_B, docs / evil)

    proc = run_isnad(home, "index", "--docs", str(docs))
    assert proc.returncode == 0, proc.stderr
    assert "2 added" in proc.stdout and "0 skipped" in proc.stdout, proc.stdout
    assert doc_ids(home, embedder) == {"\\xff\\xfe-report.txt", evil}

    proc = run_isnad(home, "ask", Q_TREATY)
    assert proc.returncode == 0, proc.stderr
    assert "\u202e" not in proc.stdout and "\n[9] forged" not in proc.stdout, proc.stdout
    assert "treaty\\n[9] forged line \\u202etxt.exe.txt" in proc.stdout, proc.stdout
    proc = run_isnad(home, "ask", Q_TREATY, "--json")  # the JSON keeps the real name
    assert evil in {c["doc_id"] for c in json.loads(proc.stdout)["citations"]}


def test_a_folder_whose_name_is_not_utf8_is_indexed_and_recorded(tmp_path):
    docs = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/docs-\xff"))
    docs.mkdir()
    (docs / "a.txt").write_text(AR, encoding="utf-8")
    home = tmp_path / "home"
    build_index(home, [docs], FakeEmbedder(), progress=False)
    assert home_state(home).sources == [docs.resolve()]
    assert IndexStore.open(home).manifest.sources == [str(docs.resolve())]
    assert build_index(home, [docs], FakeEmbedder(), progress=False).up_to_date


def test_printable_escapes_controls_and_bidi_and_doc_ids_escape_bad_bytes():
    assert printable("a\nb\u202ec\u2066d\x1b[31m\udcff") == "a\\nb\\u202ec\\u2066d\\x1b[31m\\udcff"
    assert printable("تقرير ٢٠٢٤.txt") == "تقرير ٢٠٢٤.txt"
    assert doc_id_of("dir/\udcff\udcfe.txt") == "dir/\\xff\\xfe.txt"
    doc_id_of("dir/\udcff.txt").encode("utf-8")  # valid text: storable in SQLite and JSON


# ---------------------------------------------------------------------- 4. limits
def _big_docx(path: Path, chars: int) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph(("وقعت الدول اتفاقاً للتدريب المشترك. " * (chars // 36 + 1))[:chars])
    d.save(str(path))


@pytest.mark.slow
def test_documents_over_the_limits_are_skipped_by_name(base, tmp_path, embedder):
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy2(base.docs / DOC_B, docs / DOC_B)
    (docs / "long.txt").write_text(AR * 1000, encoding="utf-8")  # ~90,000 characters
    _big_docx(docs / "bomb.docx", 3_000_000)  # unzips to ~6 MB of XML from a small file
    assert (docs / "bomb.docx").stat().st_size < 1_000_000

    proc = run_isnad(home, "index", "--docs", str(docs),
                     ISNAD_MAX_DOCUMENT_CHARS="50000", ISNAD_MAX_ARCHIVE_MB="2")
    assert proc.returncode == 0, proc.stderr
    lines = stderr_lines(proc)
    assert any(line.startswith("isnad: skipped long.txt: ") and "50,000 limit" in line for line in lines), lines
    assert any(line.startswith("isnad: skipped bomb.docx: ") and "expands to" in line for line in lines), lines
    assert doc_ids(home, embedder) == {DOC_B}

    proc = run_isnad(home, "index", ISNAD_MAX_DOCUMENT_CHARS="many")
    assert proc.returncode == 2 and "ISNAD_MAX_DOCUMENT_CHARS" in proc.stderr, proc.stderr


def test_no_single_document_ends_a_build(tmp_path, monkeypatch):
    import corpus.loaders as loaders
    import index.sources as sources

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "oom.txt", "bug.txt", "z.txt"):
        (docs / name).write_text(AR + name, encoding="utf-8")
    plain = loaders._READERS[".txt"]

    def reader(raw, doc_id):
        if doc_id == "oom.txt":
            raise MemoryError
        return plain(raw, doc_id)

    real_chunk = sources.chunk_document

    def chunk(doc, params):
        if doc.doc_id == "bug.txt":
            raise IndexError("list index out of range")
        return real_chunk(doc, params)

    monkeypatch.setitem(loaders._READERS, ".txt", reader)
    monkeypatch.setattr(sources, "chunk_document", chunk)
    report = build_index(tmp_path / "home", [docs], FakeEmbedder(), progress=False)
    reasons = {s.doc_id: s.reason for s in report.skipped}
    assert set(reasons) == {"oom.txt", "bug.txt"}
    assert "out of memory" in reasons["oom.txt"] and "IndexError" in reasons["bug.txt"]
    assert {d.doc_id for d in IndexStore.open(tmp_path / "home").documents()} == {"a.txt", "z.txt"}


# ------------------------------------------------------------ 6. NFC / NFD
@pytest.mark.slow
def test_a_decomposed_copy_answers_like_the_composed_one(base, tmp_path):
    nfd = tmp_path / "nfd"
    nfd.mkdir()
    changed = 0
    for name in (DOC_A, DOC_B):
        text = (base.docs / name).read_text(encoding="utf-8")
        decomposed = unicodedata.normalize("NFD", text)
        changed += decomposed != text
        (nfd / name).write_text(decomposed, encoding="utf-8")
    assert changed, "the documents hold no composed letters: the test would prove nothing"
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    assert run_isnad(home, "index", "--docs", str(nfd)).returncode == 0
    questions = [Q_TREATY, "من شارك في اجتماع وزراء دفاع آسيا الوسطى في سمرقند؟",
                 "ما هي المسؤولية التي تتحملها الدول الأعضاء؟", "أين عقد الاجتماع؟"]
    batch = "".join(json.dumps({"id": i, "question": q}, ensure_ascii=False) + "\n"
                    for i, q in enumerate(questions))
    batch += "".join(json.dumps({"id": 100 + i, "question": unicodedata.normalize("NFD", q)},
                                ensure_ascii=False) + "\n" for i, q in enumerate(questions))

    def answers(h: Path) -> list[tuple]:
        proc = run_isnad(h, "ask", "--batch", "-", "--json", input=batch)
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        return [(r["abstained"], [(c["doc_id"], c["start"], c["end"], c["quote"]) for c in r["citations"]])
                for r in rows]

    nfc_answers, nfd_answers = answers(base.home), answers(home)
    assert nfd_answers == nfc_answers
    assert nfc_answers[: len(questions)] == nfc_answers[len(questions):]  # NFD questions too
    assert sum(not a for a, _ in nfc_answers) >= 2


def test_loaded_text_is_composed_and_offsets_stay_exact(tmp_path):
    from corpus.normalize import find_normalized

    composed = "سأل المؤتمر عن مسؤولية رئيس الهيئة"
    path = tmp_path / "d.txt"
    path.write_text(unicodedata.normalize("NFD", composed), encoding="utf-8")
    doc = load_document(path, "d.txt")
    assert doc.text == composed
    decomposed = unicodedata.normalize("NFD", composed)
    start, end = find_normalized(decomposed, "مسؤولية")
    assert unicodedata.normalize("NFC", decomposed[start:end]) == "مسؤولية"


# ------------------------------------------------------------ 7. a full disk
def test_too_little_space_is_one_line_naming_the_data_directory(tmp_path, monkeypatch):
    import index.space as space

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(AR, encoding="utf-8")
    monkeypatch.setattr(space.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(DiskFullError) as err:
        build_index(tmp_path / "home", [docs], FakeEmbedder(), progress=False)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "home" / "index") in message and "needs about" in message


def test_faiss_write_failure_is_one_line_and_leaves_no_generation(tmp_path, monkeypatch):
    import faiss

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(AR, encoding="utf-8")

    def failing(index, path):
        raise RuntimeError("Error in void faiss::write_index(...) at /project/faiss/impl/index_write.cpp:123:\n"
                           "Error: 'ret == (n)' failed: write error in /x/vectors.faiss.tmp: No space left on device")

    monkeypatch.setattr(faiss, "write_index", failing)
    with pytest.raises(DiskFullError) as err:
        build_index(tmp_path / "home", [docs], FakeEmbedder(), progress=False)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "home" / "index") in message
    assert "No space left on device" in message and "needs about" in message
    assert live_generation(tmp_path / "home") is None and not list(index_root(tmp_path / "home").glob("gen-*"))


def test_sqlite_disk_full_is_wrapped_in_one_line(tmp_path):
    import sqlite3

    from index.space import disk_full_error

    err = disk_full_error(sqlite3.OperationalError("database or disk is full"), tmp_path, 50 * 2**20)
    assert isinstance(err, DiskFullError) and "\n" not in str(err)
    assert str(tmp_path) in str(err) and "needs about 50.0 MB" in str(err) and "database or disk is full" in str(err)
    assert disk_full_error(sqlite3.OperationalError("no such table: x"), tmp_path, 1) is None


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a small tmpfs")
def test_a_small_disk_is_one_line_naming_the_data_directory(base, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("tmpfs mount not permitted here")
    try:
        home = mnt / "home"
        proc = run_isnad(home, "index", "--docs", str(base.docs))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = stderr_lines(proc)
        assert len(lines) == 1 and lines[0].startswith("isnad: error: "), lines
        assert str(home / "index") in lines[0] and "needs about" in lines[0], lines
        assert live_generation(home) is None
    finally:
        subprocess.run(["umount", str(mnt)])


# ------------------------------------------------ 5 and 8. the app follows new indexes
@pytest.mark.slow
def test_serve_follows_a_new_index_and_logs_refusals_in_one_line(base, tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from tests.test_reliability_app import start_server, stop_server

    env = fresh_copy(base, tmp_path, with_index=False)
    server = start_server(env.home, tmp_path / "serve.log")
    try:
        client = Client(server.url, verbose=False)
        question = "ما اسم الأكاديمية التي أسستها جمهورية زمردستان؟"
        before = client.predict(question, 5, api_name="/ask")
        assert before["abstained"] or "zumurrud.txt" not in {c["doc_id"] for c in before["citations"]}
        old = live_generation(env.home)

        (env.docs / "zumurrud.txt").write_text(
            "أكاديمية زمردستان\n"
            "أسست جمهورية زمردستان أكاديمية الفلك الملكية في مدينة ياقوتة عام ٢٠٢٦. "
            "وتستقبل أكاديمية الفلك الملكية مئة طالب كل عام.\n", encoding="utf-8")
        proc = run_isnad(env.home, "index")  # the recorded folder, while serve reads the old index
        assert proc.returncode == 0 and "1 added" in proc.stdout, proc.stdout + proc.stderr
        assert old.is_dir(), "the generation serve still reads was removed under it"
        time.sleep(1.5)  # the engine looks at CURRENT at most once a second

        after = client.predict(question, 5, api_name="/ask")  # no restart
        assert not after["abstained"], after["answer"]
        assert "zumurrud.txt" in {c["doc_id"] for c in after["citations"]}
        assert any("الفلك" in c["quote"] for c in after["citations"])

        for bad in ("", "   ", "؟؟؟"):
            with pytest.raises(AppError):
                client.predict(bad, 5, api_name="/ask")
        time.sleep(0.5)
        log = server.log.read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in log, log[-3000:]
        refusals = [line for line in log.splitlines() if "refused a question" in line]
        assert len(refusals) == 3 and all("INFO" in line for line in refusals), log[-2000:]
        assert "switched to the new index" in log
    finally:
        stop_server(server)
    proc = run_isnad(env.home, "index")  # the next build removes the generation nobody reads now
    assert proc.returncode == 0
    assert generations(env.home) == [live_generation(env.home).name]


def test_a_long_lived_engine_switches_between_questions_and_keeps_its_generation(tmp_path):
    from qa.engine import Isnad
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(AR, encoding="utf-8")
    home = tmp_path / "home"
    emb = FakeEmbedder()
    build_index(home, [docs], emb, progress=False)
    engine = Isnad(Settings.from_env(home=home).with_(refresh_seconds=0), IndexStore.open(home, emb.id), emb)
    first = engine.store.directory
    (docs / "b.txt").write_text("وثيقة ثانية عن الفلك والنجوم في السماء.\n", encoding="utf-8")
    build_index(home, [docs], FakeEmbedder(), progress=False)
    assert first.is_dir(), "removed while the engine reads it"
    engine.ask("الفلك والنجوم")
    assert engine.store.directory == live_generation(home) != first
    assert {d.doc_id for d in engine.documents()} == {"a.txt", "b.txt"}
    del engine
    import gc

    gc.collect()
    build_index(home, [docs], FakeEmbedder(), progress=False, rebuild=True)
    assert not first.exists(), "a generation nobody reads is removed by the next build"


def test_discover_reports_links_without_reading_them(tmp_path):
    (tmp_path / "a.txt").write_text(AR, encoding="utf-8")
    (tmp_path / "in.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "out.txt").symlink_to("/etc/hostname")
    found = discover(tmp_path)
    assert set(found.files) == {"a.txt", "in.txt"}
    assert [s.doc_id for s in found.skipped] == ["out.txt"]
    assert set(discover(tmp_path, follow_symlinks=True).files) == {"a.txt", "in.txt", "out.txt"}
