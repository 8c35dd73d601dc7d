"""The commands that build, list and change the index: `isnad index`, `docs`, `add`,
`remove` (each through the index facade), and what `isnad index --docs` replaces."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from corpus.errors import UsageError
from corpus.files import printable
from index import backend_for

def cmd_index(args, settings, stage) -> int:
    """`isnad index [--docs DIR]... [--rebuild] [--json]`: bring the index up to date and
    say what changed (--json: the builder's report as JSON, for programs such as the bench)."""
    from index import index_status, make_embedder, update_index

    docs = None
    if args.docs:
        docs = [Path(d).expanduser() for d in args.docs]
        for d in docs:
            if not d.is_dir():
                raise UsageError(f"{printable(str(d))}: not a directory")
    params = replace(settings.index, follow_symlinks=True) if args.follow_symlinks else settings.index
    embedder = make_embedder(settings.embedder)
    if getattr(args, "ray", None) is not None:  # passages embedded by a Ray Data job (index.ray_embed)
        from index import RayEmbedder

        embedder = RayEmbedder(embedder, address=args.ray or None)
    before = index_status(settings.home)
    report = update_index(settings.home, docs, embedder, params, rebuild=args.rebuild, stage=stage,
                          backend=backend_for(settings.store))
    # What left the index, counted against what it held (also when it was rebuilt from new folders).
    gone = before.live_documents - set(report.added + report.changed + report.unchanged) | set(report.removed)
    note = replaced_note(before.live_sources, gone, index_status(settings.home).sources)
    if note:
        print(f"isnad: {printable(note)}", file=sys.stderr)
    for s in report.skipped:
        print(f"isnad: skipped {printable(s.reason)}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({**asdict(report), "gone": sorted(gone), "up_to_date": report.up_to_date},
                         ensure_ascii=False))
        return 0
    skipped = {s.doc_id for s in report.skipped}
    if report.up_to_date:
        print(f"index up to date: {report.chunks_total} chunks ({settings.home})")
    else:
        added = [d for d in report.added if d not in skipped]
        changed = [d for d in report.changed if d not in skipped]
        print(
            f"indexed in {report.seconds:.1f} s: {len(added)} added, {len(changed)} changed, "
            f"{len(gone)} removed, {len(report.unchanged)} unchanged, {len(skipped)} skipped; "
            f"{report.chunks_total} chunks "
            f"({report.chunks_embedded} embedded, {report.faiss_kind} index) in {settings.home}"
        )
    return 0


def replaced_note(before_sources: list[str], gone: set[str], sources: list[Path]) -> str | None:
    """A plain sentence when the index now holds other folders than before."""
    from corpus.loaders import SHIPPED_DOCUMENTS

    if not gone or before_sources == [str(s) for s in sources]:
        return None
    shipped = [str(SHIPPED_DOCUMENTS)]
    what = "the shipped corpus" if before_sources == shipped else ", ".join(before_sources) or "the previous index"
    n = len(gone)
    return (f"{n} document{'s' if n != 1 else ''} of {what} removed: the index now holds "
            f"{', '.join(str(s) for s in sources)} instead")


def format_documents(documents, page_counts: dict[str, int]) -> str:
    """One line per indexed document: doc_id, format, pages, chunks, title."""
    lines = []
    for d in documents:
        pages = page_counts.get(d.doc_id)
        extent = f"{pages} p., " if pages else ""
        lines.append(f"{d.doc_id}\t{d.format}\t{extent}{d.n_chunks} chunks\t{d.title}")
    lines.append(f"{len(lines)} document{'s' if len(lines) != 1 else ''}")
    return "\n".join(lines)


def cmd_docs(args) -> int:
    from index import open_index
    from qa.settings import Settings

    settings = Settings.from_env(home=args.home, store=getattr(args, "store", None))
    store = open_index(settings.home, backend=backend_for(settings.store))
    try:
        documents = store.documents()
        counts = {d.doc_id: len(store.page_starts(d.doc_id)) for d in documents}
    finally:
        store.close()
    print(format_documents(documents, counts))
    return 0


def _counts(report) -> str:
    b = report.build
    skipped = {s.doc_id for s in b.skipped}
    added = [d for d in b.added if d not in skipped]
    changed = [d for d in b.changed if d not in skipped]
    return (f"{len(added)} added, {len(changed)} changed, {len(b.removed)} removed, "
            f"{len(b.unchanged)} unchanged; {b.chunks_total} chunks in {b.seconds:.1f} s")


def cmd_add(args, settings, stage) -> int:
    """`isnad add PATH...`: copy each file into HOME/documents/ and update the index."""
    from index import add_documents, index_status, make_embedder

    files = [(Path(p).expanduser(), Path(p).name) for p in args.paths]
    if index_status(settings.home).fresh and all(p.is_file() for p, _ in files):
        stage(f"first run: building the index of the shipped corpus in {settings.home}, with these documents")
    report = add_documents(settings.home, files, make_embedder(settings.embedder), settings.index,
                           stage=stage, backend=backend_for(settings.store))
    for doc_id in report.doc_ids:
        print(f"added {printable(doc_id)}")
    print(f"index updated: {_counts(report)} ({settings.home})")
    return 0


def cmd_remove(args, settings, stage) -> int:
    """`isnad remove DOC_ID...`: delete added documents (HOME/documents/) and update the index."""
    from index import make_embedder, remove_documents

    report = remove_documents(settings.home, list(args.doc_ids), make_embedder(settings.embedder),
                              settings.index, stage=stage, backend=backend_for(settings.store))
    for doc_id in report.doc_ids:
        print(f"removed {printable(doc_id)}")
    print(f"index updated: {_counts(report)} ({settings.home})")
    return 0
