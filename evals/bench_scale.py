"""The scale run of `isnad bench`: exact (faiss.IndexFlatIP) versus approximate (HNSW,
and IVF for comparison) search over synthetic L2-normalized vectors.

The data sets are evals.bench_vectors' (gaussian, clustered).

Latency is single-query (one question at a time, as a user asks, searched on one thread
as Isnad's IndexStore does; the exact curve also on all FAISS threads), k = 10; recall@10 is
|approximate top-10 ∩ exact top-10| / 10, averaged over the queries.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable

import numpy as np

from evals.bench_vectors import DIM, E5_MEAN_NORM, make_data
from evals.metrics import percentile, stat

K = 10


# -- measurements -----------------------------------------------------------------------------
def _search_fn(threads: str):
    """How one query is searched: "one" = on the calling thread only, as Isnad's
    IndexStore.dense_search does; "all" = FAISS's default OpenMP threads."""
    if threads == "one":
        from index import search_single_thread

        return search_single_thread
    return lambda index, q, k: index.search(q, k)


def single_query_ms(index, queries: np.ndarray, k: int = K, threads: str = "one") -> np.ndarray:
    """Latency of each query searched alone (ms)."""
    search = _search_fn(threads)
    out = np.empty(len(queries))
    for i in range(len(queries)):
        q = queries[i : i + 1]
        t0 = time.perf_counter()
        search(index, q, k)
        out[i] = (time.perf_counter() - t0) * 1000
    return out


def latency_passes(index, queries: np.ndarray, repeats: int, k: int = K, threads: str = "one") -> dict:
    """p50/p95 of single-query latency, per pass; the summary is over passes."""
    index.search(queries[: min(5, len(queries))], k)  # warm caches / page in
    p50s, p95s = [], []
    for _ in range(max(1, repeats)):
        ms = single_query_ms(index, queries, k, threads)
        p50s.append(percentile(ms, 50))
        p95s.append(percentile(ms, 95))
    return {"p50_ms": p50s, "p95_ms": p95s, "queries": int(len(queries))}


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    hits = 0
    for a, b in zip(found[:, :k], truth[:, :k]):
        hits += len(set(a.tolist()) & set(b.tolist()))
    return hits / (k * len(truth))


def hnsw_bytes(index) -> int:
    """Bytes held by an IndexHNSWFlat: the vectors plus the graph."""
    import faiss

    index = faiss.downcast_index(index)
    h = index.hnsw
    graph = h.neighbors.size() * 4 + h.offsets.size() * 8 + h.levels.size() * 4
    return int(index.ntotal * index.d * 4 + graph)


def ivf_bytes(index) -> int:
    import faiss

    index = faiss.downcast_index(index)
    invlists = index.invlists
    codes = sum(invlists.list_size(i) for i in range(index.nlist))
    return int(codes * (index.code_size + 8) + index.nlist * index.d * 4)


def rss_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return None


def exact_curve(base: np.ndarray, queries: np.ndarray, sizes: list[int], repeats: int,
                log: Callable[[str], None]) -> list[dict]:
    """Single-query latency of exact search as the index grows (one index, filled in
    steps): on one thread (what Isnad does) and on FAISS's default threads."""
    import faiss

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(base.shape[1]))  # Isnad's wrapping
    rows = []
    have = 0
    for n in sorted(set(s for s in sizes if s <= len(base))):
        index.add_with_ids(base[have:n], np.arange(have, n, dtype=np.int64))
        have = n
        nq = len(queries) if n <= 200_000 else max(20, len(queries) // 4)
        lat = latency_passes(index, queries[:nq], repeats, threads="one")
        lat_all = latency_passes(index, queries[:nq], repeats, threads="all")
        rows.append({"n": n, **lat, "all_threads": lat_all})
        log(f"  exact n={n:,}: p50 {np.median(lat['p50_ms']):.2f} ms on one thread, "
            f"{np.median(lat_all['p50_ms']):.2f} ms on {faiss.omp_get_max_threads()}")
    del index
    gc.collect()
    return rows


def threshold_from_curve(curve: list[dict], budget_ms: float) -> dict:
    """The largest size whose exact single-query p50 stays within `budget_ms`,
    interpolated linearly between the measured sizes (latency is linear in n)."""
    pts = [(r["n"], float(np.median(r["p50_ms"]))) for r in curve]
    if not pts:
        return {"budget_ms": budget_ms, "n": None, "note": "no measurements"}
    below = [(n, ms) for n, ms in pts if ms <= budget_ms]
    above = [(n, ms) for n, ms in pts if ms > budget_ms]
    if not above:
        return {"budget_ms": budget_ms, "n": None,
                "note": f"exact p50 within {budget_ms} ms up to the largest size measured ({pts[-1][0]:,})"}
    hi_n, hi_ms = above[0]
    lo = [p for p in below if p[0] < hi_n]
    if not lo:
        return {"budget_ms": budget_ms, "n": hi_n, "note": "already over budget at the smallest size"}
    lo_n, lo_ms = lo[-1]
    n = lo_n + (budget_ms - lo_ms) * (hi_n - lo_n) / max(hi_ms - lo_ms, 1e-9)
    return {"budget_ms": budget_ms, "n": int(n), "between": [lo_n, hi_n]}


def run_hnsw(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, m: int, ef_construction: int,
             ef_search: list[int], repeats: int, lat_queries: int, recall_target: float,
             latency_target_ms: float, log: Callable[[str], None]) -> dict:
    import faiss

    before = rss_bytes()
    index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    t0 = time.perf_counter()
    index.add(base)
    build_s = time.perf_counter() - t0
    after = rss_bytes()
    log(f"  hnsw M={m} efC={ef_construction}: built {len(base):,} in {build_s:.1f} s")
    sweep = []
    for ef in ef_search:
        index.hnsw.efSearch = ef
        _, found = index.search(queries, K)
        rec = recall_at_k(found, truth)
        lat = latency_passes(index, queries[:lat_queries], repeats)
        sweep.append({"ef_search": ef, "recall@10": rec, **lat})
        log(f"    efSearch={ef}: recall@10 {rec:.3f}, p50 {np.median(lat['p50_ms']):.2f} ms")
    out = {"M": m, "ef_construction": ef_construction, "build_seconds": [build_s],
           "index_bytes": hnsw_bytes(index),
           "rss_growth_bytes": (after - before) if before and after else None,
           "sweep": sweep}
    out["chosen"] = choose(sweep, "ef_search", recall_target, latency_target_ms)
    del index
    gc.collect()
    return out


def run_ivf(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, nlist: int, nprobe: list[int],
            repeats: int, lat_queries: int, recall_target: float, latency_target_ms: float,
            log: Callable[[str], None], train_size: int = 100_000) -> dict:
    import faiss

    before = rss_bytes()
    quantizer = faiss.IndexFlatIP(base.shape[1])
    index = faiss.IndexIVFFlat(quantizer, base.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    t0 = time.perf_counter()
    rng = np.random.default_rng(7)
    sample = base[np.sort(rng.choice(len(base), min(len(base), max(train_size, 40 * nlist)), replace=False))]
    index.train(sample)
    index.add(base)
    build_s = time.perf_counter() - t0
    after = rss_bytes()
    log(f"  ivf nlist={nlist}: built {len(base):,} in {build_s:.1f} s")
    sweep = []
    for p in nprobe:
        if p > nlist:
            continue
        index.nprobe = p
        _, found = index.search(queries, K)
        rec = recall_at_k(found, truth)
        lat = latency_passes(index, queries[:lat_queries], repeats)
        sweep.append({"nprobe": p, "recall@10": rec, **lat})
        log(f"    nprobe={p}: recall@10 {rec:.3f}, p50 {np.median(lat['p50_ms']):.2f} ms")
    out = {"nlist": nlist, "build_seconds": [build_s], "index_bytes": ivf_bytes(index),
           "rss_growth_bytes": (after - before) if before and after else None, "sweep": sweep}
    out["chosen"] = choose(sweep, "nprobe", recall_target, latency_target_ms)
    del index, quantizer
    gc.collect()
    return out


def choose(sweep: list[dict], knob: str, recall_target: float, latency_target_ms: float) -> dict:
    """The cheapest setting that reaches the recall target (else the best recall)."""
    if not sweep:
        return {}
    ok = [r for r in sweep if r["recall@10"] >= recall_target]
    row = min(ok, key=lambda r: np.median(r["p50_ms"])) if ok else max(sweep, key=lambda r: r["recall@10"])
    p50 = float(np.median(row["p50_ms"]))
    return {knob: row[knob], "recall@10": row["recall@10"], "p50_ms": p50,
            "p95_ms": float(np.median(row["p95_ms"])),
            "meets_recall": row["recall@10"] >= recall_target,
            "meets_latency": p50 <= latency_target_ms}


def scale_run(sizes: list[int], kinds: list[str], *, hnsw_m: int, hnsw_ef_construction: int,
              ef_search: list[int], ivf: bool, nprobe: list[int], repeats: int, n_queries: int,
              lat_queries: int, curve_sizes: list[int], budget_ms: float, recall_target: float,
              latency_target_ms: float, n_clusters: int, centre_share: float,
              log: Callable[[str], None]) -> dict:
    """Every (data kind, size) pair: exact, HNSW (and IVF); the exact latency curve on the
    first kind at the largest size."""
    import faiss

    out: dict = {"dim": DIM, "k": K, "queries_recall": n_queries, "queries_latency": lat_queries,
                 "query_threads": "one (index.search_single_thread, as Isnad searches)",
                 "faiss_threads": faiss.omp_get_max_threads(),
                 "data": {"gaussian": "i.i.d. N(0, I), L2-normalized",
                          "clustered": f"Gaussian mixture shaped like real e5 vectors: mean norm "
                                       f"{E5_MEAN_NORM}, covariance spectrum of real e5 chunk vectors, "
                                       f"{n_clusters} clusters holding {centre_share:.0%} of the variance, "
                                       "L2-normalized"},
                 "runs": []}
    for kind in kinds:
        for n in sorted(sizes):
            log(f"scale: {kind} {n:,} x {DIM}")
            t0 = time.perf_counter()
            base, queries = make_data(kind, n, n_queries, n_clusters=n_clusters, centre_share=centre_share)
            run: dict = {"kind": kind, "n": n, "generate_seconds": time.perf_counter() - t0}
            truth = _exact(run, base, queries, repeats, lat_queries, log)
            if kind == kinds[0] and n == max(sizes):
                curve = exact_curve(base, queries[:lat_queries], [s for s in curve_sizes if s <= n] + [n],
                                    repeats, log)
                out["exact_curve"] = curve
                out["threshold"] = threshold_from_curve(curve, budget_ms)
            run["hnsw"] = run_hnsw(base, queries, truth, hnsw_m, hnsw_ef_construction, ef_search,
                                   repeats, lat_queries, recall_target, latency_target_ms, log)
            if ivf:
                nlist = max(16, int(np.sqrt(n)) // 16 * 16)
                run["ivf"] = run_ivf(base, queries, truth, nlist, nprobe, repeats, lat_queries,
                                     recall_target, latency_target_ms, log)
            out["runs"].append(run)
            del base, queries, truth
            gc.collect()
    return out


def _exact(run: dict, base: np.ndarray, queries: np.ndarray, repeats: int, lat_queries: int,
           log: Callable[[str], None]) -> np.ndarray:
    """Exact search: the ground truth (returned) and the latency to beat (into `run`)."""
    import faiss

    n = len(base)
    flat = faiss.IndexFlatIP(DIM)
    t0 = time.perf_counter()
    flat.add(base)
    flat_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, truth = flat.search(queries, K)
    run["ground_truth_seconds"] = time.perf_counter() - t0
    nq_exact = lat_queries if n <= 200_000 else max(20, lat_queries // 4)
    run["exact"] = {"build_seconds": [flat_build], "index_bytes": int(flat.ntotal * DIM * 4),
                    "recall@10": 1.0, **latency_passes(flat, queries[:nq_exact], repeats)}
    log(f"  exact: p50 {np.median(run['exact']['p50_ms']):.2f} ms")
    del flat
    gc.collect()
    return truth


# -- the bench section ---------------------------------------------------------------------------
CURVE_SIZES = [1_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]


def run_section(opts, params, repeats: int, sizes: list[int], targets: dict, log) -> dict:
    """`isnad bench`'s scale section: the run the options describe, every figure
    summarized as median/min/max, and Isnad's configured operating point marked."""
    quick = bool(opts.quick)
    kinds_arg = opts.scale_kinds or ("clustered" if quick else "gaussian,clustered")
    sweep = {16, 32, 64, 128} if quick else {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024}
    n_queries = opts.scale_queries or (200 if quick else 500)
    lat_queries = opts.latency_queries or (100 if quick else 200)
    out = scale_run(
        sizes, [k.strip() for k in kinds_arg.split(",") if k.strip()],
        hnsw_m=opts.hnsw_m or params.hnsw_m,
        hnsw_ef_construction=opts.hnsw_ef_construction or params.hnsw_ef_construction,
        ef_search=opts.ef_search or sorted(sweep | {params.hnsw_ef_search}), ivf=not (opts.no_ivf or quick),
        nprobe=[1, 2, 4, 8, 16, 32, 64, 128, 256], repeats=repeats, n_queries=n_queries,
        lat_queries=min(lat_queries, n_queries), curve_sizes=CURVE_SIZES,
        budget_ms=targets["approx_1m_p50_ms"], recall_target=targets["approx_1m_recall"],
        latency_target_ms=targets["approx_1m_p50_ms"], n_clusters=1000, centre_share=0.7, log=log)
    out["isnad_index_params"] = {"approximate_threshold": params.approximate_threshold,
                                 "hnsw_m": params.hnsw_m, "hnsw_ef_construction": params.hnsw_ef_construction,
                                 "hnsw_ef_search": params.hnsw_ef_search}
    _summarize(out, params.hnsw_ef_search)
    return out


def _summarize(out: dict, configured_ef: int) -> None:
    """Per-pass figures into median/min/max, so every number reads the same way."""
    for run in out["runs"]:
        for name in ("exact", "hnsw", "ivf"):
            block = run.get(name)
            if not block:
                continue
            block["build_seconds"] = stat(block["build_seconds"])
            if "p50_ms" in block:
                block["p50_ms"], block["p95_ms"] = stat(block["p50_ms"]), stat(block["p95_ms"])
            for row in block.get("sweep", []):
                row["p50_ms"], row["p95_ms"] = stat(row["p50_ms"]), stat(row["p95_ms"])
                row["recall@10"] = round(row["recall@10"], 4)
            if name == "hnsw":  # the operating point Isnad is configured with
                mine = [r for r in block["sweep"] if r["ef_search"] == configured_ef]
                block["configured"] = mine[0] if mine else None
    for row in out.get("exact_curve", []):
        row["p50_ms"], row["p95_ms"] = stat(row["p50_ms"]), stat(row["p95_ms"])
        alt = row["all_threads"]
        alt["p50_ms"], alt["p95_ms"] = stat(alt["p50_ms"]), stat(alt["p95_ms"])
