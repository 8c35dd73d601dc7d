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
    from index.store import IndexStore
    from qa.settings import Settings

    store = IndexStore.open(Settings.from_env(home=args.home).home)
    try:
        documents = store.documents()
        counts = {d.doc_id: len(store.page_starts(d.doc_id)) for d in documents}
    finally:
        store.close()
    print(format_documents(documents, counts))
    return 0
