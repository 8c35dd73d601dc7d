"""What a build reads: the document files under its source folders, each loaded and
chunked on its own, so that no single file can end a build."""
from __future__ import annotations

from pathlib import Path

from corpus.chunker import chunk_document
from corpus.document import DocumentError
from corpus.files import Skipped, discover
from corpus.loaders import load_document, read_catalog
from index.generations import ADDED_PREFIX
from index.manifest import IndexProblem
from index.space import one_line


def collect_files(sources: list[Path], follow_symlinks: bool, skipped: list[Skipped],
                  added: Path | None = None) -> dict[str, tuple[Path, dict]]:
    """doc_id -> (path, catalog entry); links and names not indexed go to `skipped`.
    With several sources, doc_ids get the source folder's name in front so they stay unique;
    the documents of the managed folder `added` (index.added) are always `added/NAME`."""
    files: dict[str, tuple[Path, dict]] = {}
    for src in sources:
        if not src.is_dir():
            raise IndexProblem(f"{src}: not a directory of documents")
        catalog = read_catalog(src)
        found = discover(src, follow_symlinks=follow_symlinks)
        prefix = "" if len(sources) == 1 else f"{src.name}/"
        skipped += [Skipped(prefix + s.doc_id, prefix + s.reason) for s in found.skipped]
        for rel, path in found.files.items():
            files[prefix + rel] = (path, catalog.get(rel, {}))
    if added is not None and added.is_dir():
        found = discover(added, follow_symlinks=False)
        for rel, path in found.files.items():
            doc_id = ADDED_PREFIX + rel
            if doc_id in files:  # a source folder's own added/ subfolder came first
                skipped.append(Skipped(doc_id, f"{doc_id}: the name of a document of {files[doc_id][0]}; "
                                               "added documents need another name"))
            else:
                files[doc_id] = (path, {})
    return files


def load_and_chunk(doc_id: str, path: Path, meta: dict, params, skipped: list[Skipped]):
    """(document, its chunks), or None with the file in `skipped`: no single
    document (malformed, huge, out of memory) can end a build."""
    try:
        doc = load_document(path, doc_id, meta, params.max_document_chars, params.max_archive_bytes)
        return doc, chunk_document(doc, params.chunking)
    except DocumentError as exc:
        skipped.append(Skipped(doc_id, str(exc)))
    except MemoryError:
        skipped.append(Skipped(doc_id, f"{doc_id}: too large to index (out of memory); split it"))
    except Exception as exc:  # noqa: BLE001 (one file's bug must not lose the others)
        skipped.append(Skipped(doc_id, f"{doc_id}: could not be indexed ({type(exc).__name__}: "
                                      f"{one_line(exc)})"))
    return None


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
