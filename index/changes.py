"""What an index build has to do: which documents are new, changed, removed or
unchanged since the live index (by file sha256 and catalog entry)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from corpus.loaders import Skipped, file_sha256
from index.manifest import Manifest

@dataclass
class Changes:
    """What a build found against the live index: the files to index, their hashes
    and catalog digests, and documents still skipped as last time."""
    files: dict
    previous: Manifest | None
    current: dict[str, str]  # doc_id -> sha256
    meta_digest: dict[str, str]
    still_skipped: list[str]
    removed: list[str]
    unchanged: list[str]
    changed: list[str]
    added: list[str]


def find_changes(files: dict, previous: Manifest | None, skipped: list[Skipped]) -> Changes:
    """Hash the files and sort them into removed, unchanged, changed and added (an
    unreadable file goes to `skipped` and out of `files`, that file only)."""
    old_docs = previous.documents if previous else {}
    old_meta = previous.catalog if previous else {}
    current = {}
    for doc_id, (path, _) in list(files.items()):
        try:
            current[doc_id] = file_sha256(path)
        except OSError as exc:  # unreadable (permissions, gone): that file only
            skipped.append(Skipped(doc_id, f"{doc_id}: cannot read ({exc.strerror or exc})"))
            del files[doc_id]
    # A catalog entry is part of the document: editing a title re-indexes it.
    meta_digest = {doc_id: _meta_digest(m) for doc_id, (_, m) in files.items()}

    def same(d: str) -> bool:
        return old_docs.get(d) == current[d] and old_meta.get(d, "") == meta_digest[d]

    removed = sorted(set(old_docs) - set(current))
    unchanged = sorted(d for d in current if d in old_docs and same(d))
    changed = sorted(d for d in current if d in old_docs and not same(d))
    # Files skipped last time are retried once they change (the user may have
    # fixed them); an unchanged bad file stays skipped without a new build.
    old_skipped = previous.skipped_sha if previous else {}
    still_skipped = sorted(
        d for d in current
        if d not in old_docs and d in previous.skipped and old_skipped.get(d) == current[d]
    ) if previous else []
    added = sorted(d for d in current if d not in old_docs and d not in still_skipped)
    return Changes(files, previous, current, meta_digest, still_skipped, removed, unchanged, changed, added)


def _meta_digest(meta: dict) -> str:
    """A digest of a document's catalog entry ("" when it has none)."""
    if not meta:
        return ""
    data = json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
