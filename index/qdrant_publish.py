"""Publishing a built index into Qdrant, so that questions need nothing but Qdrant.

The FAISS/SQLite generation that `isnad index` builds in the data directory is the
staging area (it decides what changed, chunks, embeds through the cache, analyzes
sentences); `publish` then writes what a question reads into Qdrant:

    chunk points      id = chunks.id; vectors "dense" (the passage vector) and "lex"
                      (sparse: hashed stems and words, BM25 term weights; the IDF is the
                      collection's modifier); payload: text, offsets, section, title,
                      the sentences (start, end, stems)
    document points   title, source, date, language, format, text, page starts
    statistics        document frequencies of stems and words, in hash buckets (IDF
                      weights for sentence coverage; the names the app matches)
    sentence points   vector "sentence": the build-time vectors of quotable sentences
    the manifest      what the index was built with, and the staging generation

A first build or a rebuild fills a new generation and switches it live in one step.
An update (number `gen`, one more than the live one) replaces the changed and removed
documents' points and the statistics: on qdrant-edge in a copy of the live shard that
is then switched live; on a server in the live collection itself, with its points
invisible until one upsert of the manifest point flips the live number (the scheme
is in index.qdrant_server). Either way atomic as a whole. The manifest point is
written last: a generation without it is never made live.
"""
from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.qdrant_backend import PointData, chunk_point_id, point_uuid, versioned_uuid

K1, B = 1.2, 0.75  # SQLite FTS5's bm25() constants, which the FAISS store ranks with
BUCKETS = 256  # statistics points per column (a large vocabulary spreads over them)
BATCH = 256
META_ID = point_uuid("meta", "manifest")


def term_index(column: str, term: str) -> int:
    """A term's dimension in the sparse vector: 31 bits of a hash of column and term."""
    digest = hashlib.blake2b(f"{column}\x1f{term}".encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def bucket_of(term: str) -> int:
    return term_index("bucket", term) % BUCKETS


def tokens(text: str) -> list[str]:
    """As FTS5's unicode61 tokenizer splits the stored columns (case-folded)."""
    return [t.lower() for t in text.split() if t]


def sparse_query(stems: list[str], words: list[str], word_weight: float) -> tuple[list[int], list[float]]:
    """The query side: each distinct stem weighs 1, each distinct word `word_weight`."""
    weights: dict[int, float] = {}
    for column, terms, w in (("stems", stems, 1.0), ("words", words, word_weight)):
        for t in dict.fromkeys(x.lower() for x in terms if x and x.strip()):
            i = term_index(column, t)
            weights[i] = weights.get(i, 0.0) + w
    return list(weights), list(weights.values())


def _bm25_vectors(rows: list[tuple[int, str, str]], avg: dict | None = None):
    """Sparse BM25 document vectors per chunk, document frequencies per column, and the
    average lengths used (`avg`, kept from the full build on an update, as Qdrant's own
    BM25 keeps its avg_len: unchanged chunks then need no rewrite)."""
    toks = {cid: {"stems": tokens(s or ""), "words": tokens(w or "")} for cid, s, w in rows}
    avg = avg or {c: max(1e-9, sum(len(t[c]) for t in toks.values()) / max(1, len(toks)))
                  for c in ("stems", "words")}
    df: dict[str, Counter] = {"stems": Counter(), "words": Counter()}
    out = {}
    for cid, cols in toks.items():
        weights: dict[int, float] = {}
        for column, terms in cols.items():
            tf = Counter(terms)
            df[column].update(tf.keys())
            norm = K1 * (1 - B + B * len(terms) / avg[column])
            for t, n in tf.items():
                i = term_index(column, t)
                weights[i] = weights.get(i, 0.0) + n * (K1 + 1) / (n + norm)
        out[cid] = (list(weights), [float(v) for v in weights.values()])
    return out, df, avg


def _chunk_points(db: sqlite3.Connection, ids: list[int] | None, sparse: dict, gen: int) -> list[PointData]:
    where = "" if ids is None else f" WHERE c.id IN ({','.join('?' * len(ids))})"
    rows = db.execute(
        "SELECT c.id, c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.section, c.text, c.vector, d.title "
        "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id" + where, ids or []).fetchall()
    sents: dict[int, list] = {}
    sql = "SELECT chunk, start, end, stems FROM sentences" + ("" if ids is None else
                                                               f" WHERE chunk IN ({','.join('?' * len(ids))})")
    for chunk, start, end, stems in db.execute(sql + " ORDER BY chunk, start", ids or []):
        sents.setdefault(chunk, []).append([start, end, stems])
    out = []
    for cid, chunk_id, doc_id, ordinal, start, end, section, text, blob, title in rows:
        out.append(PointData(
            id=chunk_point_id(cid, gen), dense=np.frombuffer(blob, dtype=np.float32).tolist(),
            sparse=sparse.get(cid, ([], [])),
            payload={"kind": "chunk", "gen": gen, "chunk_id": chunk_id, "doc_id": doc_id, "ordinal": ordinal,
                     "start": start, "end": end, "section": section or "", "text": text, "title": title,
                     "sentences": sents.get(cid, [])}))
    return out


def doc_point_id(doc_id: str, gen: int) -> str:
    return versioned_uuid("doc", doc_id, gen)


def stat_point_id(column: str, bucket: int, gen: int) -> str:
    return versioned_uuid(f"df-{column}", str(bucket), gen)


def _document_points(db: sqlite3.Connection, doc_ids: list[str] | None, gen: int) -> list[PointData]:
    where = "" if doc_ids is None else f" WHERE doc_id IN ({','.join('?' * len(doc_ids))})"
    pages: dict[str, list[int]] = {}
    try:
        for doc_id, start in db.execute("SELECT doc_id, start FROM pages" + where + " ORDER BY doc_id, page",
                                        doc_ids or []):
            pages.setdefault(doc_id, []).append(start)
    except sqlite3.OperationalError:
        pass
    rows = db.execute("SELECT doc_id, title, source, date, language, format, n_chunks, text FROM documents"
                      + where, doc_ids or []).fetchall()
    return [PointData(id=doc_point_id(r[0], gen), payload={
        "kind": "doc", "gen": gen, "doc_id": r[0], "title": r[1], "source": r[2], "date": r[3], "language": r[4],
        "format": r[5], "n_chunks": r[6], "text": r[7], "pages": pages.get(r[0], [])}) for r in rows]


def _sentence_points(db: sqlite3.Connection) -> list[PointData]:
    try:
        rows = db.execute("SELECT text_sha, vector FROM sentence_vectors").fetchall()
    except sqlite3.OperationalError:
        return []
    return [PointData(id=point_uuid("sentence", sha), payload={"kind": "sentence"},
                      sentence=np.frombuffer(blob, dtype=np.float32).tolist()) for sha, blob in rows]


def _stat_points(df: dict[str, Counter], gen: int) -> list[PointData]:
    out = []
    for column, counts in df.items():
        buckets: list[dict[str, int]] = [{} for _ in range(BUCKETS)]
        for term, n in counts.items():
            buckets[bucket_of(term)][term] = n
        out += [PointData(id=stat_point_id(column, b, gen),
                          payload={"kind": "df", "gen": gen, "column": column, "terms": terms})
                for b, terms in enumerate(buckets)]
    return out


def publish(staging: Path, backend, manifest_json: str, previous: dict | None,
            changed: list[str], removed: list[str]) -> str:
    """Write the staging generation `staging` (its chunks.sqlite) into a new Qdrant
    generation and make it live; returns its name. `previous` (the live manifest point's
    payload, None for a first build or a rebuild) lets an update touch only the
    `changed` (added or changed) and `removed` documents, atomically as a whole."""
    name = f"gen-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
    if backend.kind == "qdrant":
        name = f"{backend.alias}-{name}"
    db = sqlite3.connect(f"file:{staging / 'chunks.sqlite'}?mode=ro", uri=True)
    try:
        manifest = json.loads(manifest_json)
        fts = db.execute("SELECT rowid, stems, words FROM chunks_fts").fetchall()
        live = backend.live_name()
        incremental = previous is not None and live is not None and "avg_len" in previous
        sparse, df, avg = _bm25_vectors(fts, previous["avg_len"] if incremental else None)
        gen, doc_gens = 0, {}
        if incremental:
            gen = int(previous.get("gen", 0)) + 1
            doc_gens = {d: g for d, g in (previous.get("doc_gens") or {}).items()
                        if d not in set(changed) | set(removed)}
            name = backend.begin_update(live, name, gen)
            # What the update replaces: hidden at its flip (a server), or deleted now (a copy).
            backend.retire(gen, doc_ids=sorted(set(changed) | set(removed)))
            backend.retire(gen, kind="df")
            if changed:
                ids = [r[0] for r in db.execute(
                    f"SELECT id FROM chunks WHERE doc_id IN ({','.join('?' * len(changed))})", changed)]
                _upsert(backend, _chunk_points(db, ids, sparse, gen))
                _upsert(backend, _document_points(db, changed, gen))
                doc_gens.update({d: gen for d in changed})
        else:
            backend.create(name, int(manifest["dim"]))
            _upsert(backend, _chunk_points(db, None, sparse, gen))
            _upsert(backend, _document_points(db, None, gen))
        # Statistics are rewritten whole (they depend on every document; cheap next to the
        # chunks); sentence vectors are keyed by their text, so rewriting one changes nothing.
        _upsert(backend, _stat_points(df, gen))
        _upsert(backend, _sentence_points(db))
        backend.optimize()
        n_chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        documents = [list(r) for r in db.execute(
            "SELECT doc_id, title, source, date, language, format, n_chunks FROM documents ORDER BY doc_id")]
        meta = PointData(id=META_ID, payload={
            "kind": "meta", "manifest": manifest_json, "staging": staging.name, "n_chunks": n_chunks,
            "documents": documents, "gen": gen, "doc_gens": doc_gens,
            "generation": name, "buckets": BUCKETS, "k1": K1, "b": B, "avg_len": avg,
            "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    finally:
        db.close()
    backend.go_live(meta, name)
    if incremental:
        backend.finish_update(gen)
    # The generation that was live until now stays one more round: readers in other
    # processes move to the new one between questions (Engine.refresh).
    backend.drop_unused(keep={name, live} - {None})
    return backend.version_name(name, gen)


def _upsert(backend, points: list[PointData]) -> None:
    for i in range(0, len(points), BATCH):
        backend.upsert(points[i:i + BATCH])


def idf(df: int, n: int) -> float:
    """As the FAISS store computes it (index.store.IndexStore.idf)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
