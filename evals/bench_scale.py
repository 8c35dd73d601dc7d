"""The scale run of `isnad bench`: exact (faiss.IndexFlatIP) versus approximate (HNSW,
and IVF for comparison) search over synthetic L2-normalized vectors.

Two data sets, both of dimension 384 (the default embedder's):
- "gaussian": i.i.d. standard normal vectors, normalized. No structure at all, the
  hardest case for any approximate index (every point is about equally far from all).
- "clustered": a Gaussian mixture shaped like real sentence embeddings. Measured on
  1,117 multilingual-e5-small chunk vectors (shipped corpus, XQuAD-ar, ARCD): they share
  a large common mean (norm 0.877; two random chunks have cosine 0.77) and the rest of
  their variance is strongly anisotropic (effective dimension, the participation
  ratio of the covariance spectrum, ~94 of 384). The mixture reproduces that: mean of norm 0.877, covariance
  with that spectrum (random orientation), split between `n_clusters` cluster centres
  (`centre_share` of the variance) and the spread inside each cluster (the rest).
  centre_share = 0.7 reproduces, on 1,117 synthetic points, the real vectors' mean
  nearest-neighbour cosine (0.90) and random-pair cosine (0.77).
Queries are fresh draws from the same distribution (never points of the base set).

Latency is single-query (one question at a time, as a user asks, searched on one thread
as Isnad's IndexStore does; the exact curve also on all FAISS threads), k = 10; recall@10 is
|approximate top-10 ∩ exact top-10| / 10, averaged over the queries.
"""
from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable

import numpy as np

DIM = 384
K = 10


# -- data ----------------------------------------------------------------------------------
def _normalize_rows(x: np.ndarray, block: int = 65536) -> np.ndarray:
    for i in range(0, len(x), block):
        part = x[i : i + block]
        part /= np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)
    return x


def gaussian(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 65536):
        x[i : i + 65536] = rng.standard_normal((min(65536, n - i), dim), dtype=np.float32)
    return _normalize_rows(x)


E5_MEAN_NORM = 0.877  # norm of the mean of real e5 chunk vectors (measured, see above)
# Covariance eigenvalues of those vectors at a few ranks (measured; log-log interpolated
# in between; the last is where the finite sample runs out of rank, kept small).
E5_SPECTRUM = ((1, 0.01224), (2, 0.008504), (3, 0.007316), (5, 0.00469), (10, 0.002976),
               (20, 0.001949), (50, 0.001128), (100, 0.000657), (150, 0.00042), (200, 0.000278),
               (300, 0.000111), (384, 0.00002))


def e5_like_spectrum(dim: int = DIM) -> np.ndarray:
    """Covariance eigenvalues shaped like real e5 vectors', totalling 1 - mean_norm^2."""
    ranks = np.log([r for r, _ in E5_SPECTRUM])
    vals = np.log([v for _, v in E5_SPECTRUM])
    lam = np.exp(np.interp(np.log(np.arange(1, dim + 1) * (384 / dim)), ranks, vals))
    return lam * (1.0 - E5_MEAN_NORM**2) / lam.sum()


def _e5_frame(dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random mean direction and orthonormal basis for the covariance."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    mean = rng.standard_normal(dim)
    mean *= E5_MEAN_NORM / np.linalg.norm(mean)
    return mean.astype(np.float32), basis.astype(np.float32)


@functools.lru_cache(maxsize=4)
def _mixture(dim: int, frame_seed: int, n_clusters: int, centre_share: float) -> tuple[np.ndarray, np.ndarray]:
    """(cluster centres, shape matrix): g @ shape has the e5-like covariance."""
    mean, basis = _e5_frame(dim, frame_seed)
    sd = np.sqrt(e5_like_spectrum(dim)).astype(np.float32)
    shape = (basis * sd).T  # row-vector g @ shape has covariance basis diag(lam) basis^T
    crng = np.random.default_rng(frame_seed + 1)
    centres = mean + np.float32(np.sqrt(centre_share)) * (
        crng.standard_normal((n_clusters, dim), dtype=np.float32) @ shape)
    return centres, shape


def clustered(n: int, dim: int = DIM, seed: int = 0, n_clusters: int = 1000, centre_share: float = 0.7,
              frame_seed: int = 12345) -> np.ndarray:
    """The e5-shaped Gaussian mixture. Centres depend on `frame_seed` only, so base and
    query sets drawn with different `seed`s come from the same mixture."""
    centres, shape = _mixture(dim, frame_seed, n_clusters, centre_share)
    within = np.float32(np.sqrt(1.0 - centre_share))
    rng = np.random.default_rng(seed)
    x = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 65536):
        m = min(65536, n - i)
        which = rng.integers(0, n_clusters, m)
        x[i : i + m] = centres[which] + within * (rng.standard_normal((m, dim), dtype=np.float32) @ shape)
    return _normalize_rows(x)


def make_data(kind: str, n: int, n_queries: int, dim: int = DIM, seed: int = 0,
              n_clusters: int = 1000, centre_share: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    if kind == "gaussian":
        return gaussian(n, dim, seed), gaussian(n_queries, dim, seed + 1_000_003)
    if kind == "clustered":
        return (clustered(n, dim, seed, n_clusters, centre_share),
                clustered(n_queries, dim, seed + 1_000_003, n_clusters, centre_share))
    raise ValueError(f"unknown synthetic data kind {kind!r}")


# -- measurements -----------------------------------------------------------------------------
def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


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
            gen_s = time.perf_counter() - t0
            run: dict = {"kind": kind, "n": n, "generate_seconds": gen_s}
            # Exact: the reference (ground truth) and the latency to beat.
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
            if kind == kinds[0] and n == max(sizes):
                del flat
                gc.collect()
                curve = exact_curve(base, queries[:lat_queries], [s for s in curve_sizes if s <= n] + [n],
                                    repeats, log)
                out["exact_curve"] = curve
                out["threshold"] = threshold_from_curve(curve, budget_ms)
            else:
                del flat
                gc.collect()
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
