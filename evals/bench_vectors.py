"""Synthetic L2-normalized vectors for the scale run of `isnad bench` (evals.bench_scale).

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
"""
from __future__ import annotations

import functools

import numpy as np

DIM = 384


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
