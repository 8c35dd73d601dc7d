"""Read .txt .md .html .pdf .docx files into `Document`s, with catalog metadata."""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from corpus.document import Document, DocumentError, Extracted
from corpus.docx_reader import read_docx
from corpus.files import SUPPORTED_SUFFIXES, Skipped, discover  # noqa: F401 (public names)
from corpus.html_reader import read_html
from corpus.language import guess_language
from corpus.markdown_reader import read_markdown
from corpus.pdf_reader import read_pdf
from corpus.textblocks import usable_title

CATALOG_NAME = "catalog.json"
SHIPPED_DOCUMENTS = Path(__file__).resolve().parent / "documents"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # larger files are almost never one document
MAX_DOCUMENT_CHARS = 20_000_000  # extracted text of one document (about 20 MB)
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024  # what a .docx may expand to, checked before unzipping
# Bumped when a reader's output changes: an index built by older readers is rebuilt.
READERS_VERSION = 2


def iter_documents(root: Path) -> Iterator[Document | Skipped]:
    """Every supported file under `root` (recursively, sorted), loaded or skipped."""
    root = Path(root)
    if not root.is_dir():
        raise DocumentError(f"{root}: not a directory")
    catalog = read_catalog(root)
    found = discover(root)
    items = sorted([(s.doc_id, s) for s in found.skipped] + list(found.files.items()), key=lambda t: t[0])
    for doc_id, item in items:
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            yield load_document(item, doc_id, catalog.get(doc_id, {}))
        except DocumentError as exc:
            yield Skipped(doc_id, str(exc))


def list_files(root: Path) -> dict[str, Path]:
    """doc_id -> path for every supported file under root (no reading; links that
    leave the folder, and broken ones, are left out: see corpus.files.discover)."""
    return discover(root).files


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


def load_document(path: Path, doc_id: str, meta: dict | None = None,
                  max_chars: int = MAX_DOCUMENT_CHARS, max_archive_bytes: int = MAX_ARCHIVE_BYTES) -> Document:
    """Load one file. Raises DocumentError with a message naming the file (also when
    its text is over `max_chars`, or a .docx would expand to over `max_archive_bytes`).
    The text is stored composed (NFC): every offset refers to that form."""
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
    if suffix == ".docx":
        _check_archive(raw, doc_id, max_archive_bytes)
    try:
        found = reader(raw, doc_id)
    except DocumentError:
        raise
    except MemoryError as exc:
        raise DocumentError(f"{doc_id}: too large to read (out of memory); split it into smaller files") from exc
    except Exception as exc:  # a malformed file must not stop the other documents
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DocumentError(f"{doc_id}: unreadable {suffix} file ({detail})") from exc
    if len(found.text) > max_chars:
        raise DocumentError(
            f"{doc_id}: {len(found.text):,} characters of text, over the {max_chars:,} limit for one "
            "document; split it into smaller files"
        )
    # Composed form: an NFD copy (macOS, some editors) stores, matches and quotes
    # exactly like the NFC original.
    found = composed(found)
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


def _check_archive(raw: bytes, doc_id: str, limit: int) -> None:
    """Refuse a .docx whose members would expand to over `limit` bytes, from the sizes
    its zip directory declares (zipfile never inflates a member past its declared size)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"{doc_id}: unreadable .docx ({exc})") from exc
    if total > limit:
        raise DocumentError(
            f"{doc_id}: expands to {total / 2**20:,.0f} MB when unzipped, over the "
            f"{limit / 2**20:,.0f} MB limit for one document; split it into smaller files"
        )


def composed(found: Extracted) -> Extracted:
    """`found` with its text in NFC, page and heading offsets moved along. Offsets are
    mapped per run that starts at a base character (combining class 0): composition
    never crosses such a start in the scripts documents are written in."""
    text = found.text
    if unicodedata.is_normalized("NFC", text):
        return found
    starts = [i for i, c in enumerate(text) if not unicodedata.combining(c)] or [0]
    if starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    parts, new_starts, pos = [], [], 0
    for a, b in zip(bounds, bounds[1:]):
        piece = unicodedata.normalize("NFC", text[a:b])
        new_starts.append(pos)
        parts.append(piece)
        pos += len(piece)

    def move(offset: int) -> int:
        k = bisect_right(starts, offset) - 1
        return new_starts[k] if k >= 0 else 0

    return replace(found, text="".join(parts), pages=tuple(move(o) for o in found.pages),
                   headings=tuple((move(o), h) for o, h in found.headings))


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
