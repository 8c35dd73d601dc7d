"""HTML for the app's document views: the viewer (a whole document, its quote marked),
its header, the documents table and the index status. Pure and escaped like ui.app_render."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from corpus.language import is_arabic
from ui.app_i18n import STRINGS, direction, tr
from ui.app_render import compact, esc


# ---------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class DocView:
    doc_id: str
    title: str
    text: str
    start: int = -1  # the quote to mark, if any
    end: int = -1
    passage_start: int = -1  # the passage to tint around it, if any
    passage_end: int = -1
    label: str = ""  # e.g. "[2]" for a citation
    page: int | None = None  # the page of the quote (or passage) in a paged document


def document_html(view: DocView) -> str:
    """The whole document, escaped, whitespace kept; the passage tinted and the quote
    marked with id="isnad-doc-mark" so the viewer can scroll it into view."""
    text = view.text
    n = len(text)
    qs, qe = max(0, min(view.start, n)), max(0, min(view.end, n))
    ps, pe = max(0, min(view.passage_start, n)), max(0, min(view.passage_end, n))
    if not (view.start >= 0 and qe > qs):
        qs = qe = -1
    if not (view.passage_start >= 0 and pe > ps):
        ps = pe = -1
    # Cut the text at every boundary and wrap each piece in what covers it.
    cuts = sorted({0, n, *(x for x in (qs, qe, ps, pe) if x >= 0)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = esc(compact(text[a:b], "\n\n"))
        if qs >= 0 and qs <= a and b <= qe:
            ident = ' id="isnad-doc-mark"' if a == qs else ""
            piece = f"<mark{ident}>{piece}</mark>"
        if ps >= 0 and ps <= a and b <= pe:
            piece = f'<span class="isnad-doc-passage">{piece}</span>'
        out.append(piece)
    text_dir = "rtl" if is_arabic(text[:2000]) else "ltr"
    return f'<div class="isnad-doc-text" dir="{text_dir}">{"".join(out)}</div>'


def document_header_html(view: DocView, meta: Mapping[str, object] | None = None, lang: str = "ar") -> str:
    meta = meta or {}
    bits = []
    for key in ("source", "date", "language"):
        if meta.get(key):
            value = language_name(meta[key], lang) if key == "language" else meta[key]
            bits.append(f'<span><b>{esc(tr(lang, "meta_" + key))}:</b> <span dir="auto">{esc(value)}</span></span>')
    bits.append(f'<span dir="ltr" class="isnad-docid">{esc(view.doc_id)}</span>')
    where, page = "", (tr(lang, "doc_page", n=view.page) if view.page else "")
    if view.start >= 0 and view.end > view.start:
        where = (f'<div class="isnad-doc-where">' + esc(tr(
            lang, "doc_where", label=view.label, page=page, start=view.start, end=view.end,
            n=len(view.text))) + "</div>")
    return (f'<div class="isnad-doc-head" dir="{direction(lang)}"><h3 dir="auto">{esc(view.title or view.doc_id)}</h3>'
            f'<div class="isnad-doc-meta">{" · ".join(bits)}</div>{where}</div>')


def language_name(code: object, lang: str = "ar") -> str:
    code = str(code or "")
    key = "lang_" + code.lower()
    return tr(lang, key) if key in STRINGS["ar"] else code


def documents_table_html(documents: Iterable[object], lang: str = "ar") -> str:
    """The corpus as a table (title, source, date, language, chunks), each row with a
    link that opens the document (by doc_id; the server only opens indexed doc_ids)."""
    rows = []
    for d in documents:
        rows.append(
            "<tr>"
            f'<td class="t" dir="auto">{esc(getattr(d, "title", "") or d.doc_id)}'
            f'<div class="isnad-docid" dir="ltr">{esc(d.doc_id)}</div></td>'
            f"<td dir=\"auto\">{esc(getattr(d, 'source', '') or '—')}</td>"
            f'<td dir="ltr">{esc(getattr(d, "date", None) or "—")}</td>'
            f"<td>{esc(language_name(getattr(d, 'language', ''), lang) or '—')}</td>"
            f"<td>{esc(getattr(d, 'n_chunks', ''))}</td>"
            f'<td><a href="#" class="isnad-open" role="button" data-open="doc:{esc(d.doc_id)}">'
            f'{esc(tr(lang, "view"))}</a></td>'
            "</tr>"
        )
    if not rows:
        rows.append(f'<tr><td colspan="6">{esc(tr(lang, "no_docs"))}</td></tr>')
    heads = "".join(f"<th>{esc(tr(lang, 'col_' + k))}</th>"
                    for k in ("title", "source", "date", "language", "chunks"))
    return (f'<div class="isnad-docs" dir="{direction(lang)}"><table><thead><tr>{heads}<th></th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


_STATUS_KEYS = (("st_docs", "documents"), ("st_chunks", "chunks"), ("st_embedder", "embedder"),
                ("st_dim", "dim"), ("st_faiss", "faiss"), ("st_built", "built_at"), ("st_home", "home"))


def index_status_html(info: Mapping[str, object], lang: str = "ar") -> str:
    cells = "".join(
        f'<div class="isnad-stat"><div class="k">{esc(tr(lang, k))}</div>'
        f'<div class="v" dir="auto">{esc(info.get(key))}</div></div>'
        for k, key in _STATUS_KEYS if info.get(key) not in (None, "")
    )
    skipped = info.get("skipped") or {}
    skipped_html = ""
    if skipped:
        lis = "".join(f"<li><span dir='ltr'>{esc(k)}</span>: {esc(v)}</li>" for k, v in dict(skipped).items())
        skipped_html = (f'<details class="isnad-skipped"><summary>{esc(tr(lang, "skipped", n=len(skipped)))}'
                        f"</summary><ul>{lis}</ul></details>")
    return f'<div class="isnad-status" dir="{direction(lang)}">{cells}</div>{skipped_html}'


def status_line(info: Mapping[str, object], lang: str = "ar") -> str:
    emb = str(info.get("embedder") or "")
    return tr(lang, "stat", docs=info.get("documents", 0), chunks=info.get("chunks", 0),
              emb=emb.split(":")[0] if emb else "—")
