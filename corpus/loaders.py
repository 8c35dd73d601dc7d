"""Read .txt .md .html .pdf .docx files into `Document`s, with catalog metadata."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.docx_reader import read_docx
from corpus.document import Document, DocumentError, Extracted
from corpus.html_reader import read_html
from corpus.markdown_reader import read_markdown
from corpus.pdf_reader import read_pdf
from corpus.textblocks import usable_title

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
CATALOG_NAME = "catalog.json"
SHIPPED_DOCUMENTS = Path(__file__).resolve().parent / "documents"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # larger files are almost never one document
# Bumped when a reader's output changes: an index built by older readers is rebuilt.
READERS_VERSION = 2


@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why (shown to the user, never silent)."""

    doc_id: str
    reason: str


def iter_documents(root: Path) -> Iterator[Document | Skipped]:
    """Every supported file under `root` (recursively, sorted), loaded or skipped."""
    root = Path(root)
    if not root.is_dir():
        raise DocumentError(f"{root}: not a directory")
    catalog = read_catalog(root)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith("."):
            continue
        doc_id = path.relative_to(root).as_posix()
        try:
            yield load_document(path, doc_id, catalog.get(doc_id, {}))
        except DocumentError as exc:
            yield Skipped(doc_id, str(exc))


def list_files(root: Path) -> dict[str, Path]:
    """doc_id -> path for every supported file under root (no reading)."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_catalog(root: Path) -> dict[str, dict]:
    """Optional catalog.json beside the documents: {doc_id: {title, source, date, language}}."""
    path = Path(root) / CATALOG_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DocumentError(f"{path}: unreadable catalog ({exc})") from exc
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def load_document(path: Path, doc_id: str, meta: dict | None = None) -> Document:
    """Load one file. Raises DocumentError with a message naming the file."""
    path = Path(path)
    meta = meta or {}
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"{doc_id}: {size / 2**20:.0f} MB is over the {MAX_DOCUMENT_BYTES // 2**20} MB "
                "limit for one document; split it into smaller files"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{doc_id}: cannot read ({exc.strerror or exc})") from exc
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise DocumentError(f"{doc_id}: unsupported file type {suffix!r}")
    try:
        found = reader(raw, doc_id)
    except DocumentError:
        raise
    except Exception as exc:  # a malformed file must not stop the other documents
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DocumentError(f"{doc_id}: unreadable {suffix} file ({detail})") from exc
    text = found.text
    if not text.strip():
        raise DocumentError(f"{doc_id}: no text (empty file, or nothing extractable)")
    first_heading = found.headings[0][1] if found.headings else None
    return Document(
        doc_id=doc_id,
        title=meta.get("title") or _first_usable(found.title, first_heading, guess_title(text))
        or Path(doc_id).stem,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=meta.get("source", ""),
        date=meta.get("date") or guess_date(text),
        language=meta.get("language") or guess_language(text),
        format="html" if suffix == ".htm" else suffix.lstrip("."),
        pages=found.pages,
        headings=found.headings,
    )


def _first_usable(*titles: str | None) -> str | None:
    return next((t for t in titles if usable_title(t)), None)


def _decode_text(raw: bytes, doc_id: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a BOM (Windows "Unicode" text)
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{doc_id}: damaged UTF-16 text (byte {exc.start})") from exc
    if b"\x00" in raw[:8192]:
        raise DocumentError(f"{doc_id}: looks binary (NUL bytes), not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{doc_id}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _read_plain(raw: bytes, doc_id: str) -> Extracted:
    return Extracted(_decode_text(raw, doc_id))


def _read_markdown(raw: bytes, doc_id: str) -> Extracted:
    return read_markdown(_decode_text(raw, doc_id))


_READERS = {
    ".txt": _read_plain,
    ".md": _read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}


def guess_title(text: str) -> str | None:
    """The first non-empty line that reads like a title."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if 3 <= len(line) <= 160:
            return line
        if line:
            return line[:120].rsplit(" ", 1)[0] + "…"
    return None


_ISO_DATE = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")


def guess_date(text: str) -> str | None:
    """An ISO date near the top of the document, if it gives one."""
    m = _ISO_DATE.search(text[:3000])
    return m.group(0) if m else None


def guess_language(text: str) -> str:
    sample = text[:5000]
    arabic = sum(1 for c in sample if "\u0600" <= c <= "\u06ff")
    latin = sum(1 for c in sample if c.isascii() and c.isalpha())
    if arabic >= latin:
        return "ar"
    return "en" if latin else "und"
