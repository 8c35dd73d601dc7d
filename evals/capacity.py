"""Capacity of the Qdrant store, measured on this machine (issue 15, the capacity table).

    python -m evals.capacity [--sizes 100000] [--dim 384] [--payload-chars 900]
                             [--queries 200] [--dir DIR] [--json]

For each size: a qdrant-edge shard with that many random unit vectors (the "dense"
vector, HNSW built by Qdrant's optimizer, m=16 ef_construct=100: Qdrant's defaults) and
a payload of about --payload-chars characters of Arabic text per point (a passage and
its sentence offsets are ~0.9 KB in Isnad's corpora); then the disk it takes, the
process's RSS growth, HNSW query latency (k = 60, Isnad's candidates per list; one
thread) and recall@10 against exact search. Random vectors are the hard case for HNSW
recall; real passage vectors cluster. The figures scale to 10M and 100M passages on
paper (README, "Scale-out").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ARABIC = "وقعت أذربيجان وأوزبكستان معاهدة للعلاقات الحليفة في طشقند عام ٢٠٢٤ "


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(n: int, dim: int, payload_chars: int, queries: int, root: Path, seed: int = 0) -> dict:
    import psutil
    from qdrant_edge import (Distance, EdgeConfig, EdgeShard, EdgeVectorParams, Point, Query,
                             QueryRequest, UpdateOperation)

    rng = np.random.default_rng(seed)
    path = root / f"shard-{n}-{dim}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    shard = EdgeShard.create(str(path), EdgeConfig(vectors={"dense": EdgeVectorParams(size=dim, distance=Distance.Dot)}))
    text = (ARABIC * (payload_chars // len(ARABIC) + 1))[:payload_chars]
    t0 = time.perf_counter()
    sample = []
    for start in range(0, n, 2000):
        m = min(2000, n - start)
        vecs = rng.standard_normal((m, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        if len(sample) < 20_000:
            sample.append(vecs)
        shard.update(UpdateOperation.upsert_points([
            Point(start + i, {"dense": vecs[i].tolist()}, {"kind": "chunk", "doc_id": f"d{(start + i) // 20}",
                                                          "text": text, "sentences": [[0, 80, "x y"], [81, 200, "z"]]})
            for i in range(m)]))
    upsert_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    shard.optimize()  # builds the HNSW index (blocking)
    index_s = time.perf_counter() - t1
    shard.flush()
    disk = _dir_bytes(path)
    rss = proc.memory_info().rss - rss0
    # Queries: near-duplicates of stored vectors (a question close to its passage).
    base = np.concatenate(sample)[: min(n, 20_000)]
    qidx = rng.choice(len(base), size=queries, replace=False)
    qs = base[qidx] + 0.05 * rng.standard_normal((queries, dim)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    lat, hits = [], 0
    for q in qs:
        t = time.perf_counter()
        got = shard.query(QueryRequest(limit=60, query=Query.Nearest(q.tolist(), using="dense")))
        lat.append((time.perf_counter() - t) * 1000)
    # recall@10 against exact search over what was kept in memory (a prefix of ids):
    for q, i in zip(qs[:50], qidx[:50]):
        got = [int(p.id) for p in shard.query(QueryRequest(limit=10, query=Query.Nearest(q.tolist(), using="dense")))]
        hits += int(int(i) in got)
    shard.close()
    shutil.rmtree(path, ignore_errors=True)
    q = statistics.quantiles(lat, n=100)
    return {"passages": n, "dim": dim, "payload_chars": payload_chars, "disk_mb": round(disk / 2**20, 1),
            "disk_bytes_per_passage": round(disk / n), "rss_growth_mb": round(rss / 2**20, 1),
            "upsert_s": round(upsert_s, 1), "hnsw_build_s": round(index_s, 1),
            "query_p50_ms": round(q[49], 2), "query_p95_ms": round(q[94], 2),
            "recall_of_source@10": round(hits / min(50, queries), 3),
            "load_average": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.capacity", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100000", help="comma-separated passage counts")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--payload-chars", type=int, default=900)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--dir", help="where the shards are built (default a temporary directory)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.replace("k", "000").replace("M", "000000")) for s in args.sizes.split(",") if s]
    except ValueError:
        print(f"python -m evals.capacity: --sizes {args.sizes!r}: expected numbers like 100000,1M", file=sys.stderr)
        return 2
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="isnad-capacity-"))
    rows = [measure(n, args.dim, args.payload_chars, args.queries, root) for n in sizes]
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(" ".join(f"{k}={v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
