"""Passage embedding as a Ray Data job (`isnad index --ray [ADDRESS]`).

Embedding is what a big corpus costs; on a Ray cluster it runs on every node. The
job maps batches of passages through an actor pool, each actor holding one embedder
made from the same spec (`make_embedder`), so the vectors are the ones the
in-process embedder gives. Questions are still embedded in-process: `RayEmbedder`
has the wrapped embedder's id, dimension and query path, and only sends passages
to Ray. Ray is an optional extra (`pip install 'isnad[ray]'`).
"""
from __future__ import annotations

import os

import numpy as np

from index.embedders import Embedder, EmbedderError, embedder_spec_of

BATCH = 64  # passages per Ray batch: large enough that Ray's per-batch cost is small


class _EmbedBatch:
    """One Ray actor: loads the embedder once, embeds the batches it is given."""

    def __init__(self, spec: str) -> None:
        from index.embedders import make_embedder

        self.embedder = make_embedder(spec)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        return {"i": batch["i"], "vector": list(self.embedder.embed_passages(texts))}


class RayEmbedder:
    """An Embedder whose passages are embedded by a Ray Data job (local Ray when
    `address` is None). `prefers_one_batch`: the builder hands it every missing
    passage at once, so the job is one dataset, not one per small batch."""

    prefers_one_batch = True

    def __init__(self, local: Embedder, address: str | None = None, actors: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise EmbedderError("--ray needs Ray: pip install 'isnad[ray]'") from exc
        self._local = local
        self.id, self.dim = local.id, local.dim
        self._spec = embedder_spec_of(local.id)
        self.address = address
        if not ray.is_initialized():
            os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
            try:
                ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = address or "a local Ray"
                raise EmbedderError(f"cannot start or reach {where}: {str(exc).splitlines()[0][:200]}") from exc
        ray.data.DataContext.get_current().enable_progress_bars = False
        # One single-threaded actor per CPU of the cluster (Ray gives each actor one CPU).
        self._actors = actors or int(os.environ.get("ISNAD_RAY_ACTORS", "0")) or \
            max(1, int(ray.cluster_resources().get("CPU", 1)))

    def embed_query(self, text: str) -> np.ndarray:
        return self._local.embed_query(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import ray

        items = [{"i": i, "text": t} for i, t in enumerate(texts)]
        ds = ray.data.from_items(items).map_batches(
            _EmbedBatch, fn_constructor_args=(self._spec,), batch_size=BATCH,
            concurrency=self._actors, num_cpus=1, batch_format="numpy",
        )
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row in ds.iter_rows():
            out[int(row["i"])] = np.asarray(row["vector"], dtype=np.float32)
        return out

    @staticmethod
    def shutdown() -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
