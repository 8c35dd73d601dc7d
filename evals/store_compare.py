"""Query latency of each store over one index, in one run (issue 15's ratio to FAISS).

    python -m evals.store_compare HOME [--stores faiss,qdrant-edge,qdrant:local] [--questions N]

HOME holds a built index (e.g. an eval suite's home, <cache>/xquad-ar). Each Qdrant
store is published from it first. The engine answers the same questions on every
store, the stores taking turns question by question (so a busy machine slows them
alike); reported: p50/p95 of the whole answer and of retrieval's search part (store
calls, not the question's embedding), and each as a ratio to FAISS.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.store_compare")
    p.add_argument("home")
    p.add_argument("--stores", default="faiss,qdrant-edge,qdrant:local")
    p.add_argument("--questions", type=int, default=300)
    p.add_argument("--file", help="JSONL questions (default: the home's evals questions, else the fixed set)")
    args = p.parse_args(argv)
    from qa.engine import Isnad
    from qa.settings import Settings

    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    qfile = Path(args.file) if args.file else Path(__file__).parent / "questions" / "corpus.jsonl"
    questions = [json.loads(line)["question"] for line in qfile.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    questions = (questions * (args.questions // max(1, len(questions)) + 1))[: args.questions]
    engines = {s: Isnad.open(Settings.from_env(home=args.home, store=s), build_if_missing=False) for s in stores}
    for e in engines.values():  # warm: memos, first loads
        for q in questions[:10]:
            e.ask(q)
    total: dict[str, list[float]] = {s: [] for s in stores}
    search: dict[str, list[float]] = {s: [] for s in stores}
    for q in questions:
        for s, e in engines.items():
            t = e.ask(q).timing_ms
            total[s].append(t["total"] - t["embed"])
            search[s].append(t["search"])
    out = {}
    for s in stores:
        tq, sq = statistics.quantiles(total[s], n=100), statistics.quantiles(search[s], n=100)
        out[s] = {"answer_minus_embed_p50_ms": round(tq[49], 2), "answer_minus_embed_p95_ms": round(tq[94], 2),
                  "search_p50_ms": round(sq[49], 2), "search_p95_ms": round(sq[94], 2)}
    base = out.get("faiss")
    if base:
        for s in stores:
            out[s]["search_p50_ratio"] = round(out[s]["search_p50_ms"] / base["search_p50_ms"], 2)
            out[s]["answer_minus_embed_p50_ratio"] = round(
                out[s]["answer_minus_embed_p50_ms"] / base["answer_minus_embed_p50_ms"], 2)
    import os

    print(json.dumps({"questions": len(questions), "load_average": os.getloadavg()[0], "stores": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
