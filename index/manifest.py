"""The manifest: what an index was built with, so a mismatched load fails clearly."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT_VERSION = 2  # 2: sentences table with analyzed stems
MANIFEST_NAME = "manifest.json"


from corpus.errors import (  # noqa: F401 (the index's errors, in the one error tree)
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexProblem,
)


@dataclass
class Manifest:
    format_version: int
    embedder_id: str
    dim: int
    chunking: dict  # ChunkingParams as a dict
    documents: dict[str, str]  # doc_id -> sha256 of the file's bytes
    sources: list[str]  # directories the documents were read from
    n_chunks: int
    faiss_kind: str  # "flat" (exact) or "hnsw" (approximate)
    approximate_threshold: int  # chunk count above which the index is approximate
    faiss_params: dict  # e.g. {"M": 32, "ef_search": 64} for HNSW
    built_at: str
    files: dict[str, dict] = field(default_factory=dict)  # name -> {bytes, sha256}
    skipped: dict[str, str] = field(default_factory=dict)  # doc_id -> reason
    skipped_sha: dict[str, str] = field(default_factory=dict)  # doc_id -> sha256 of the skipped file
    catalog: dict[str, str] = field(default_factory=dict)  # doc_id -> digest of its catalog entry
    checksum: str = ""  # sha256 of all the other fields (set by to_json, checked by read)

    def to_json(self) -> str:
        data = asdict(self)
        data["checksum"] = _checksum(data)
        text = json.dumps(data, ensure_ascii=False, indent=2)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a folder name that is not UTF-8: keep it \u-escaped
            text = json.dumps(data, ensure_ascii=True, indent=2)
        return text

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:  # a generation without one is damaged
            raise IndexCorruptError(f"{path}: missing; run `isnad index --rebuild`") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"{path}: manifest unreadable ({exc}); run `isnad index --rebuild`"
            ) from exc
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{path}: index format version {version!r}, this Isnad reads version "
                f"{FORMAT_VERSION}; run `isnad index --rebuild`"
            )
        if data.get("checksum") and data["checksum"] != _checksum(data):
            raise IndexCorruptError(
                f"{path}: checksum differs from its content (altered or damaged); "
                "run `isnad index --rebuild`"
            )
        try:
            manifest = cls(**data)
        except TypeError as exc:
            raise IndexCorruptError(
                f"{path}: manifest fields do not match ({exc}); run `isnad index --rebuild`"
            ) from exc
        wrong = [name for name, types in _FIELD_TYPES.items() if not isinstance(getattr(manifest, name), types)]
        if wrong or manifest.faiss_kind not in ("flat", "hnsw"):
            raise IndexCorruptError(
                f"{path}: manifest field(s) {', '.join(wrong) or 'faiss_kind'} have the wrong "
                "type or value; run `isnad index --rebuild`"
            )
        return manifest


_FIELD_TYPES = {
    "embedder_id": str, "dim": int, "chunking": dict, "documents": dict, "sources": list,
    "n_chunks": int, "faiss_kind": str, "approximate_threshold": int, "faiss_params": dict,
    "built_at": str, "files": dict, "skipped": dict, "skipped_sha": dict, "catalog": dict,
}


def _checksum(data: dict) -> str:
    """sha256 of the manifest's fields other than the checksum, in canonical JSON."""
    body = {k: v for k, v in data.items() if k != "checksum"}
    canon = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()


FULL_CHECKSUM_LIMIT = 256 * 2**20  # above this size only sizes are verified at load


def file_digest(path: Path) -> dict:
    size = path.stat().st_size
    entry = {"bytes": size}
    if size <= FULL_CHECKSUM_LIMIT:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        entry["sha256"] = h.hexdigest()
    return entry


def verify_files(directory: Path, manifest: Manifest) -> None:
    """Sizes always, and checksums for files small enough to hash at load."""
    for name, expected in manifest.files.items():
        path = directory / name
        if not path.exists():
            raise IndexCorruptError(f"{path}: missing; run `isnad index --rebuild`")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise IndexCorruptError(
                f"{path}: {size} bytes, the manifest recorded {expected.get('bytes')} "
                "(truncated or altered); run `isnad index --rebuild`"
            )
        if "sha256" in expected and file_digest(path).get("sha256") != expected["sha256"]:
            raise IndexCorruptError(
                f"{path}: checksum differs from the manifest (altered or damaged); "
                "run `isnad index --rebuild`"
            )
