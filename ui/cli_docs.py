"""`isnad docs` (what is indexed) and what `isnad index --docs` replaces."""
from __future__ import annotations

from pathlib import Path


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
    from index.stores import open_store
    from qa.settings import Settings

    settings = Settings.from_env(home=args.home, store=getattr(args, "store", None))
    store = open_store(settings.store, settings.home)
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
    from corpus.files import printable
    from index.added import add_documents
    from index.embedders import make_embedder

    from index.home import home_state

    files = [(Path(p).expanduser(), Path(p).name) for p in args.paths]
    if home_state(settings.home).fresh and all(p.is_file() for p, _ in files):
        stage(f"first run: building the index of the shipped corpus in {settings.home}, with these documents")
    report = add_documents(settings.home, files, make_embedder(settings.embedder), settings.index,
                           stage=stage)
    from index.stores import after_build

    after_build(settings.store, settings.home)
    for doc_id in report.doc_ids:
        print(f"added {printable(doc_id)}")
    print(f"index updated: {_counts(report)} ({settings.home})")
    return 0


def cmd_remove(args, settings, stage) -> int:
    """`isnad remove DOC_ID...`: delete added documents (HOME/documents/) and update the index."""
    from corpus.files import printable
    from index.added import remove_documents
    from index.embedders import make_embedder

    from index.home import live_contents

    _, indexed = live_contents(settings.home)
    report = remove_documents(settings.home, list(args.doc_ids), make_embedder(settings.embedder),
                              settings.index, indexed=indexed, stage=stage)
    from index.stores import after_build

    after_build(settings.store, settings.home)
    for doc_id in report.doc_ids:
        print(f"removed {printable(doc_id)}")
    print(f"index updated: {_counts(report)} ({settings.home})")
    return 0
