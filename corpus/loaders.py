"""Read .txt .md .html .pdf .docx files into `Document`s, with catalog metadata."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from pathlib import Path

from corpus.document import Document, DocumentError
from corpus.files import SUPPORTED_SUFFIXES, Skipped, discover  # noqa: F401 (public names)

CATALOG_NAME = "catalog.json"
SHIPPED_DOCUMENTS = Path(__file__).resolve().parent / "documents"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # larger files are almost never one document
MAX_DOCUMENT_CHARS = 20_000_000  # extracted text of one document (about 20 MB)
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024  # what a .docx may expand to, checked before unzipping


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
        text, found_title = reader(raw, doc_id)
    except DocumentError:
        raise
    except MemoryError as exc:
        raise DocumentError(f"{doc_id}: too large to read (out of memory); split it into smaller files") from exc
    except Exception as exc:  # a malformed file must not stop the other documents
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DocumentError(f"{doc_id}: unreadable {suffix} file ({detail})") from exc
    if len(text) > max_chars:
        raise DocumentError(
            f"{doc_id}: {len(text):,} characters of text, over the {max_chars:,} limit for one "
            "document; split it into smaller files"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    # Composed form: an NFD copy (macOS file names and some editors) stores, matches
    # and quotes exactly like the NFC original.
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise DocumentError(f"{doc_id}: no text (empty file, or nothing extractable)")
    return Document(
        doc_id=doc_id,
        title=meta.get("title") or found_title or guess_title(text) or Path(doc_id).stem,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=meta.get("source", ""),
        date=meta.get("date") or guess_date(text),
        language=meta.get("language") or guess_language(text),
        format="html" if suffix == ".htm" else suffix.lstrip("."),
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


def _read_plain(raw: bytes, doc_id: str) -> tuple[str, str | None]:
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
    title = None
    m = re.search(r"^#\s+(.+)$", text, re.M)
    if m and doc_id.lower().endswith(".md"):
        title = m.group(1).strip()
    return text, title


def _read_html(raw: bytes, doc_id: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    # Scripts, styles and templates are code, not document text.
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    text = soup.get_text("\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
    return text, title or None


def _read_pdf(raw: bytes, doc_id: str) -> tuple[str, str | None]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf logs (and warns about) every oddity of a damaged file on stderr; the
    # user gets one line per file from the indexer instead.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(raw))
            pages = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata.title if reader.metadata else None) or None
    except (FileNotDecryptedError, DependencyError) as exc:
        raise DocumentError(
            f"{doc_id}: encrypted (password-protected) PDF; save an unencrypted copy"
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{doc_id}: unreadable PDF ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages)
    if not text.strip():
        raise DocumentError(f"{doc_id}: PDF has no text layer (scanned?); run OCR first")
    return text, title


def _read_docx(raw: bytes, doc_id: str) -> tuple[str, str | None]:
    import io
    import zipfile

    import docx

    try:
        d = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{doc_id}: unreadable .docx ({exc})") from exc
    text = "\n".join(p.text for p in d.paragraphs)
    return text, (d.core_properties.title or None)


_READERS = {
    ".txt": _read_plain,
    ".md": _read_plain,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
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
