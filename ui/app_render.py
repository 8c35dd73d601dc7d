"""HTML for the Gradio app: chat bubbles, the sources panel, the document viewer.

Everything here is pure (strings in, HTML out) so it can be tested without a
browser. Document text, titles, sections, doc_ids and questions are untrusted:
every piece of text goes through `esc` (html.escape) before it touches HTML,
and nothing from a document ever lands in an attribute unescaped.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from qa.settings import MAX_QUESTION_CHARS
from qa.types import Answer, Citation, Passage

_MARKER = re.compile(r"\[(\d+)\]")
_PREVIEW_CHARS = 400  # how much of a rejected (too long) question the chat repeats


def esc(text: object) -> str:
    """Text -> HTML text (quotes too, so it is safe in attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_lines(text: object) -> str:
    """Escaped text with newlines as <br> (runs of blank lines as one). Chat bubbles are
    Markdown around an HTML block: a blank line would end the block, so no raw newline
    may survive."""
    text = compact(str(text or "").replace("\r", ""))
    return "<br>".join(esc(line) for line in text.split("\n"))


# ---------------------------------------------------------------------------- quotes
def passage_start_of(citation: Citation, passages: Sequence[Passage]) -> int:
    """Where the citation's passage (`citation.text`) starts in the document."""
    for p in passages:
        if p.chunk_id == citation.chunk_id and p.text == citation.text:
            return p.start
    # Not among the retrieved passages (should not happen): locate the quote itself.
    at = citation.text.find(citation.quote) if citation.quote else -1
    return citation.start - at if at >= 0 else citation.start


def quote_span(citation: Citation, passages: Sequence[Passage]) -> tuple[int, int]:
    """The quote's [start, end) within `citation.text`, clamped to the passage."""
    base = passage_start_of(citation, passages)
    n = len(citation.text)
    s = min(max(citation.start - base, 0), n)
    e = min(max(citation.end - base, s), n)
    if citation.text[s:e] != citation.quote:  # offsets disagree with the text: trust the text
        at = citation.text.find(citation.quote) if citation.quote else -1
        if at >= 0:
            s, e = at, at + len(citation.quote)
    return s, e


_BLANK_RUN = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*)+")


def compact(text: str, keep: str = "\n") -> str:
    """Display only: a run of blank lines -> `keep` (offsets are resolved before this)."""
    return _BLANK_RUN.sub(keep, text)


def highlight(text: str, start: int, end: int, mark_id: str | None = None) -> str:
    """Escaped `text` with [start, end) wrapped in <mark>; blank lines compacted."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return esc(compact(text))
    ident = f' id="{esc(mark_id)}"' if mark_id else ""
    return (f"{esc(compact(text[:start]))}<mark{ident}>{esc(compact(text[start:end]))}</mark>"
            f"{esc(compact(text[end:]))}")


# ---------------------------------------------------------------------------- chat bubbles
def user_bubble(question: str) -> str:
    q = str(question or "")
    if len(q) > _PREVIEW_CHARS:
        q = q[:_PREVIEW_CHARS] + " …"
    return f'<div class="isnad-q" dir="auto">{esc_lines(q)}</div>'


def answer_bubble(answer: Answer, turn: int, followup: bool = False) -> str:
    """An answer with its [n] markers (clickable: they bring the source card into view),
    or an abstention that looks like one."""
    timing = answer.timing_ms.get("total")
    foot = []
    if followup:
        foot.append(esc("↩︎ سؤال متابعة: بُحث فيه مع السؤال السابق"))
    if answer.citations:
        foot.append(esc(f"{len(answer.citations)} مصدر" if len(answer.citations) > 2 else
                        ("مصدر واحد" if len(answer.citations) == 1 else "مصدران")))
    if timing is not None:
        foot.append(f'<span dir="ltr">{timing:.0f} ms</span>')
    footer = f'<div class="isnad-foot">{" · ".join(foot)}</div>' if foot else ""
    footer = notice_html(answer) + model_html(answer) + footer
    if answer.abstained:
        return (
            f'<div class="isnad-abstain" dir="rtl">'
            f'<span class="isnad-abstain-icon" aria-hidden="true">⚠</span>'
            f'<div><div class="isnad-abstain-label">لا إجابة في الوثائق</div>'
            f'<div class="isnad-abstain-text">{esc_lines(answer.answer)}</div></div>'
            f"</div>{footer}"
        )
    known = {c.n for c in answer.citations}

    def ref(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in known:
            return esc(m.group(0))
        # The chat's sanitizer drops data-* attributes; the class carries turn and n.
        return f'<span class="isnad-ref isnad-ref-{turn}-{n}" title="المصدر {n}">[{n}]</span>'

    body = _render_with_markers(answer.answer, ref)
    return f'<div class="isnad-answer" dir="rtl">{body}</div>{footer}'


def notice_html(answer: Answer) -> str:
    """What Isnad noticed about this answer (e.g. the language model's answer could not
    be checked, so this is the extractive one, and why), as a small visible note."""
    notice = str(getattr(answer, "notice", "") or "").strip()
    if not notice:
        return ""
    return (f'<div class="isnad-notice" dir="auto"><span class="isnad-notice-icon" aria-hidden="true">⚠</span> '
            f"{esc_lines(notice)}</div>")


def model_html(answer: Answer) -> str:
    """Who wrote a generated answer (and that Isnad checked its sources); "" for an
    extractive answer."""
    model = str(getattr(answer, "model", "") or "")
    if not model:
        return ""
    return (f'<div class="isnad-by" dir="rtl"><span aria-hidden="true">✎</span> '
            f'كتبه <span dir="ltr">{esc(model)}</span>، وتحقق إسناد من مصادره</div>')


def pending_bubble(model: str = "") -> str:
    """The assistant's bubble while the language model has not written anything yet."""
    who = f' <span dir="ltr">{esc(model)}</span>' if model else ""
    return (f'<div class="isnad-pending" dir="rtl"><span class="isnad-dots" aria-hidden="true">…</span> '
            f"يبحث إسناد في الوثائق ويكتب النموذج اللغوي{who} الإجابة</div>")


def draft_bubble(text: str, model: str = "") -> str:
    """The model's answer so far, unchecked: escaped text, marked as a draft (its
    citations are checked, and unsupported sentences removed, when it is done)."""
    who = f' (<span dir="ltr">{esc(model)}</span>)' if model else ""
    return (f'<div class="isnad-draft" dir="rtl">'
            f'<div class="isnad-draft-label"><span class="isnad-dots" aria-hidden="true">…</span> '
            f"مسودة يكتبها النموذج اللغوي{who}، لم يُتحقق منها بعد</div>"
            f'<div class="isnad-draft-text">{esc_lines(text)}</div></div>')


def _render_with_markers(text: str, ref) -> str:
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        out.append(esc_lines(text[pos:m.start()]))
        out.append(ref(m))
        pos = m.end()
    out.append(esc_lines(text[pos:]))
    return "".join(out)


_QUESTION_ERRORS = (
    ("the question is empty", "السؤال فارغ. اكتب سؤالك ثم اضغط «اسأل»."),
    ("the question must be text", "السؤال فارغ. اكتب سؤالك ثم اضغط «اسأل»."),
    ("the question has no words", "لا يحتوي السؤال على كلمات يمكن البحث عنها."),
)


def friendly_error(message: str) -> str:
    """QuestionError messages (English, from qa) -> one Arabic sentence."""
    low = (message or "").lower()
    for prefix, ar in _QUESTION_ERRORS:
        if low.startswith(prefix):
            return ar
    m = re.match(r"the question is ([\d,]+) characters long", low)
    if m:
        return (f"السؤال طويل جداً ({m.group(1)} حرفاً)؛ الحد الأقصى {MAX_QUESTION_CHARS:,} حرف. "
                "اختصره وأعد المحاولة.")
    return message or "تعذّر فهم السؤال."


def error_bubble(message: str) -> str:
    return (
        '<div class="isnad-error" dir="rtl"><span aria-hidden="true">✋</span> '
        f"{esc_lines(message)}</div>"
    )


# ---------------------------------------------------------------------------- sources panel
SOURCES_EMPTY = (
    '<div class="isnad-sources" dir="rtl"><div class="isnad-empty">'
    "ستظهر هنا المقاطع التي تستند إليها الإجابة، مع الجملة المقتبسة مظلَّلة."
    "</div></div>"
)


def _score(score: float) -> str:
    pct = max(0.0, min(1.0, float(score))) * 100
    return (f'<span class="isnad-score" title="درجة الاسترجاع">'
            f'<span class="isnad-bar"><span style="width:{pct:.0f}%"></span></span>'
            f"{float(score):.2f}</span>")


def _card(*, badge: str, title: str, doc_id: str, section: str, score: float, body: str,
          open_key: str, cited: bool, anchor: str | None, page: int | None = None) -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    cls = "isnad-card cited" if cited else "isnad-card"
    section_html = (f'<span class="isnad-section">§ {esc(section)}</span>' if section else "") + (
        f'<span class="isnad-page">ص {int(page)}</span>' if page else "")
    return (
        f'<article class="{cls}"{ident} dir="rtl">'
        f'<header><span class="isnad-badge">{esc(badge)}</span>'
        f'<span class="isnad-title">{esc(title or doc_id)}</span></header>'
        f'<div class="isnad-meta">{section_html}{_score(score)}'
        f'<span class="isnad-docid" dir="ltr">{esc(doc_id)}</span></div>'
        f'<div class="isnad-passage">{body}</div>'
        f'<a href="#" class="isnad-open" role="button" data-open="{esc(open_key)}">'
        "افتح الوثيقة عند هذا الموضع ↖</a>"
        "</article>"
    )


def sources_html(answer: Answer | None, turn: int, show_all: bool = False) -> str:
    """The sources panel for one answer: every cited passage with its quote marked;
    with `show_all`, also the retrieved passages that were not cited."""
    if answer is None:
        return SOURCES_EMPTY
    cited_chunks: dict[str, list[Citation]] = {}
    for c in answer.citations:
        cited_chunks.setdefault(c.chunk_id, []).append(c)
    cards = []
    for c in answer.citations:
        s, e = quote_span(c, answer.passages)
        cards.append(_card(
            badge=f"[{c.n}]", title=c.title, doc_id=c.doc_id, section=c.section, score=c.score,
            body=highlight(c.text, s, e), open_key=f"cite:{turn}:{c.n}", cited=True,
            anchor=f"isnad-src-{turn}-{c.n}", page=c.page,
        ))
    extra = []
    if show_all:
        for i, p in enumerate(answer.passages):
            if p.chunk_id in cited_chunks:
                continue
            extra.append(_card(
                badge=f"#{i + 1}", title=p.title, doc_id=p.doc_id, section=p.section,
                score=p.score, body=esc(compact(p.text)), open_key=f"passage:{turn}:{i}", cited=False,
                anchor=None, page=p.page,
            ))
    n_cited, n_ret = len(answer.citations), len(answer.passages)
    if answer.abstained:
        head = f"لا مصادر: لم تُعطَ إجابة ({n_ret} مقاطع مسترجعة)"
    else:
        head = f"المصادر: {n_cited} مستشهَد بها من {n_ret} مقاطع مسترجعة"
    copy = ""
    if not answer.abstained:
        copy = ('<a href="#" class="isnad-copy" role="button" data-copy="1" title="نسخ نصاً عادياً">'
                "نسخ الإجابة مع مصادرها</a>"
                f'<pre class="isnad-copy-src" hidden>{esc(plain_text(answer))}</pre>')
    parts = [f'<div class="isnad-sources" dir="rtl"><div class="isnad-sources-top">'
             f'<div class="isnad-sources-head">{esc(head)}</div>{copy}</div>',
             f'<div class="isnad-sources-q">«{esc(answer.question)}»</div>']
    parts += cards
    if extra:
        parts.append('<div class="isnad-sep">مقاطع مسترجعة أخرى (غير مستشهد بها)</div>')
        parts += extra
    elif not cards:
        hint = "" if show_all else " فعّل «عرض كل المقاطع المسترجعة» لرؤية ما وُجد."
        parts.append(f'<div class="isnad-empty">لم يُستشهد بأي مقطع.{esc(hint)}</div>')
    parts.append("</div>")
    return "".join(parts)


def plain_text(answer: Answer) -> str:
    """The answer and its sources as plain text (what the copy link puts on the clipboard)."""
    lines = [f"س: {answer.question}", "", answer.answer]
    if getattr(answer, "model", ""):
        lines.append(f"(كتبه {answer.model}، وتحقق إسناد من مصادره)")
    if answer.citations:
        lines += ["", "المصادر:"]
        for c in answer.citations:
            where = f" — {c.section}" if c.section else ""
            page = f"، ص {c.page}" if c.page else ""
            lines.append(f"[{c.n}] {c.title}{where} ({c.doc_id}{page}، الأحرف {c.start}–{c.end})")
            lines.append(f"    «{' '.join(c.quote.split())}»")
    return "\n".join(lines)


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
    return f'<div class="isnad-doc-text" dir="rtl">{"".join(out)}</div>'


def document_header_html(view: DocView, meta: Mapping[str, object] | None = None) -> str:
    meta = meta or {}
    bits = []
    for key, label in (("source", "المصدر"), ("date", "التاريخ"), ("language", "اللغة")):
        if meta.get(key):
            value = language_name(meta[key]) if key == "language" else meta[key]
            bits.append(f"<span><b>{label}:</b> {esc(value)}</span>")
    bits.append(f'<span dir="ltr" class="isnad-docid">{esc(view.doc_id)}</span>')
    where, page = "", (f"ص {view.page}، " if view.page else "")
    if view.start >= 0 and view.end > view.start:
        where = (f'<div class="isnad-doc-where">{esc(view.label)} الاقتباس مظلَّل أدناه '
                 f"({page}الأحرف {view.start:,}–{view.end:,} من {len(view.text):,})</div>")
    return (f'<div class="isnad-doc-head" dir="rtl"><h3>{esc(view.title or view.doc_id)}</h3>'
            f'<div class="isnad-doc-meta">{" · ".join(bits)}</div>{where}</div>')


_LANGUAGES = {"ar": "العربية", "en": "الإنجليزية", "fr": "الفرنسية", "tr": "التركية",
              "ru": "الروسية", "fa": "الفارسية"}


def language_name(code: object) -> str:
    code = str(code or "")
    return _LANGUAGES.get(code.lower(), code)


def documents_table_html(documents: Iterable[object]) -> str:
    """The corpus as a table (title, source, date, language, chunks), each row with a
    link that opens the document (by doc_id; the server only opens indexed doc_ids)."""
    rows = []
    for d in documents:
        rows.append(
            "<tr>"
            f'<td class="t">{esc(getattr(d, "title", "") or d.doc_id)}'
            f'<div class="isnad-docid" dir="ltr">{esc(d.doc_id)}</div></td>'
            f"<td>{esc(getattr(d, 'source', '') or '—')}</td>"
            f'<td dir="ltr">{esc(getattr(d, "date", None) or "—")}</td>'
            f"<td>{esc(language_name(getattr(d, 'language', '')) or '—')}</td>"
            f"<td>{esc(getattr(d, 'n_chunks', ''))}</td>"
            f'<td><a href="#" class="isnad-open" role="button" data-open="doc:{esc(d.doc_id)}">عرض</a></td>'
            "</tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="6">لا وثائق في الفهرس.</td></tr>')
    return (
        '<div class="isnad-docs" dir="rtl"><table><thead><tr>'
        "<th>العنوان</th><th>المصدر</th><th>التاريخ</th><th>اللغة</th><th>المقاطع</th><th></th>"
        f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def index_status_html(info: Mapping[str, object]) -> str:
    items = [
        ("الوثائق", info.get("documents")),
        ("المقاطع", info.get("chunks")),
        ("نموذج التضمين", info.get("embedder")),
        ("الأبعاد", info.get("dim")),
        ("فهرس FAISS", info.get("faiss")),
        ("تاريخ البناء", info.get("built_at")),
        ("مجلد البيانات", info.get("home")),
    ]
    cells = "".join(
        f'<div class="isnad-stat"><div class="k">{esc(k)}</div><div class="v" dir="auto">{esc(v)}</div></div>'
        for k, v in items if v not in (None, "")
    )
    skipped = info.get("skipped") or {}
    skipped_html = ""
    if skipped:
        lis = "".join(f"<li><span dir='ltr'>{esc(k)}</span>: {esc(v)}</li>" for k, v in dict(skipped).items())
        skipped_html = f'<details class="isnad-skipped"><summary>ملفات لم تُفهرس ({len(skipped)})</summary><ul>{lis}</ul></details>'
    return f'<div class="isnad-status" dir="rtl">{cells}</div>{skipped_html}'


def status_line(info: Mapping[str, object]) -> str:
    emb = str(info.get("embedder") or "")
    return (f"{info.get('documents', 0)} وثائق · {info.get('chunks', 0)} مقطعاً · "
            f"{emb.split(':')[0] if emb else '—'}")
