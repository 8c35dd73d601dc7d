"""`isnad ARGS...` parked at one stage of an index build, so that tests/test_reliability.py
can SIGKILL it exactly there. The hook lives here, not in the builder: it wraps the
builder's steps in this process only (monkeypatching), then runs the real command line.

    python tests/paused_build.py STAGE ARGS...

Stages, in build order: embedding (after the first batch is embedded), sqlite (all rows
written, not committed), faiss (vectors written to their temporary file, not renamed),
manifest (manifest written, CURRENT not switched), switch (CURRENT switched, the old
generation not yet removed), publish (a Qdrant generation or update written, not yet
made live: before the manifest point and the switch, or a server update's flip).
The process says "isnad-test: paused at STAGE" on stderr.
"""
from __future__ import annotations

import functools
import sys
import time

STAGES = ("embedding", "sqlite", "faiss", "manifest", "switch", "publish")


def pause(stage: str) -> None:
    print(f"isnad-test: paused at {stage}", file=sys.stderr, flush=True)
    time.sleep(3600)


def _after(fn, stage: str):
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        pause(stage)
        return out

    return wrapped


def install(stage: str) -> None:
    import faiss

    import index.builder as builder

    if stage == "embedding":
        builder.EmbeddingCache.put_many = _after(builder.EmbeddingCache.put_many, stage)
    elif stage == "sqlite":
        builder.add_sentence_vectors = _after(builder.add_sentence_vectors, stage)
    elif stage == "faiss":
        faiss.write_index = _after(faiss.write_index, stage)
    elif stage == "manifest":
        switch = builder.switch_to

        def paused_switch(*args, **kwargs):
            pause(stage)
            return switch(*args, **kwargs)

        builder.switch_to = paused_switch
    elif stage == "switch":
        builder.switch_to = _after(builder.switch_to, stage)
    elif stage == "publish":
        from index.qdrant_backend import EdgeBackend
        from index.qdrant_server import ClientBackend

        for cls in (EdgeBackend, ClientBackend):
            go_live = cls.go_live

            def paused_publish(self, meta, name, go_live=go_live):
                pause(stage)
                return go_live(self, meta, name)

            cls.go_live = paused_publish
    else:
        raise SystemExit(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")


if __name__ == "__main__":
    install(sys.argv[1])
    from ui.cli import main

    sys.exit(main(sys.argv[2:]))
