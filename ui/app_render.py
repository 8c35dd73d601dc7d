"""HTML for the Gradio app: chat bubbles, the sources panel, the document viewer.

Everything here is pure (strings in, HTML out) so it can be tested without a
browser. Document text, titles, sections, doc_ids and questions are untrusted:
every piece of text goes through `esc` (html.escape) before it touches HTML,
and nothing from a document ever lands in an attribute unescaped.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

from corpus.language import is_arabic
from qa.settings import MAX_QUESTION_CHARS
from qa.types import Answer, Citation, Passage
from ui.app_i18n import direction, tr

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
def text_dir(text: str) -> str:
    """An answer is laid out in its own language's direction (an English answer inside
    the Arabic interface keeps its full stop at its end)."""
    return "rtl" if is_arabic(text or "") else "ltr"


def user_bubble(question: str) -> str:
    q = str(question or "")
    if len(q) > _PREVIEW_CHARS:
        q = q[:_PREVIEW_CHARS] + " …"
    return f'<div class="isnad-q" dir="auto">{esc_lines(q)}</div>'


def _sources_count(n: int, lang: str) -> str:
    return tr(lang, "sources_1") if n == 1 else tr(lang, "sources_2") if n == 2 else tr(lang, "sources_n", n=n)


def answer_bubble(answer: Answer, turn: int, followup: bool = False, lang: str = "ar") -> str:
    """An answer with its [n] markers (clickable: they bring the source card into view)
    and a copy button (the answer with its numbered sources, as plain text), or an
    abstention that looks like one."""
    timing = answer.timing_ms.get("total")
    foot = []
    if followup:
        foot.append(esc(tr(lang, "followup")))
    if answer.citations:
        foot.append(esc(_sources_count(len(answer.citations), lang)))
    if timing is not None:
        foot.append(f'<span dir="ltr">{timing:.0f} ms</span>')
    d = direction(lang)
    footer = f'<div class="isnad-foot" dir="{d}">{" · ".join(foot)}</div>' if foot else ""
    footer = notice_html(answer) + model_html(answer, lang) + footer
    tdir = text_dir(answer.answer)
    if answer.abstained:
        return (
            f'<div class="isnad-abstain" dir="{d}">'
            f'<span class="isnad-abstain-icon" aria-hidden="true">⚠</span>'
            f'<div><div class="isnad-abstain-label">{esc(tr(lang, "no_answer"))}</div>'
            f'<div class="isnad-abstain-text" dir="{tdir}">{esc_lines(answer.answer)}</div></div>'
            f"</div>{footer}"
        )
    known = {c.n for c in answer.citations}

    def ref(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in known:
            return esc(m.group(0))
        # The chat's sanitizer drops data-* attributes; the class carries turn and n.
        return (f'<span class="isnad-ref isnad-ref-{turn}-{n}" role="button" '
                f'title="{esc(tr(lang, "cite_title", n=n))}">[{n}]</span>')

    body = _render_with_markers(answer.answer, ref)
    # The copy source: plain text with <br> for newlines (a raw newline would end the
    # chat's HTML block); the page script turns them back into newlines.
    copy = (f'<span class="isnad-msg-copy" role="button" title="{esc(tr(lang, "copy_title"))}">'
            f'⧉ {esc(tr(lang, "copy_answer"))}</span>'
            f'<span class="isnad-msg-copy-src">{esc_lines(plain_text(answer, lang))}</span>')
    return f'<div class="isnad-answer" dir="{tdir}">{body}</div>{footer}{copy}'


def notice_html(answer: Answer) -> str:
    """What Isnad noticed about this answer (e.g. the language model's answer could not
    be checked, so this is the extractive one, and why), as a small visible note."""
    notice = str(getattr(answer, "notice", "") or "").strip()
    if not notice:
        return ""
    return (f'<div class="isnad-notice" dir="auto"><span class="isnad-notice-icon" aria-hidden="true">⚠</span> '
            f"{esc_lines(notice)}</div>")


def model_html(answer: Answer, lang: str = "ar") -> str:
    """Who wrote a generated answer (and that Isnad checked its sources); "" for an
    extractive answer."""
    model = str(getattr(answer, "model", "") or "")
    if not model:
        return ""
    who = f'<span dir="ltr">{esc(model)}</span>'
    return (f'<div class="isnad-by" dir="{direction(lang)}"><span aria-hidden="true">✎</span> '
            f'{esc(tr(lang, "by", model="@@")).replace("@@", who)}</div>')


def pending_bubble(model: str = "", lang: str = "ar") -> str:
    """The assistant's bubble while the language model has not written anything yet."""
    who = f' <span dir="ltr">{esc(model)}</span>' if model else ""
    return (f'<div class="isnad-pending" dir="{direction(lang)}"><span class="isnad-dots" aria-hidden="true">…</span> '
            f'{esc(tr(lang, "pending", model="@@")).replace("@@", who)}</div>')


def draft_bubble(text: str, model: str = "", lang: str = "ar") -> str:
    """The model's answer so far, unchecked: escaped text, marked as a draft (its
    citations are checked, and unsupported sentences removed, when it is done)."""
    who = f' (<span dir="ltr">{esc(model)}</span>)' if model else ""
    return (f'<div class="isnad-draft" dir="{direction(lang)}">'
            f'<div class="isnad-draft-label"><span class="isnad-dots" aria-hidden="true">…</span> '
            f'{esc(tr(lang, "draft", model="@@")).replace("@@", who)}</div>'
            f'<div dir="auto" class="isnad-draft-text">{esc_lines(text)}</div></div>')


def _render_with_markers(text: str, ref) -> str:
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        out.append(esc_lines(text[pos:m.start()]))
        out.append(ref(m))
        pos = m.end()
    out.append(esc_lines(text[pos:]))
    return "".join(out)


_QUESTION_ERRORS = (
    ("the question is empty", "err_empty"),
    ("the question must be text", "err_empty"),
    ("the question has no words", "err_nowords"),
)


def friendly_error(message: str, lang: str = "ar") -> str:
    """QuestionError messages (English, from qa) -> one sentence in the interface language."""
    low = (message or "").lower()
    for prefix, key in _QUESTION_ERRORS:
        if low.startswith(prefix):
            return tr(lang, key)
    m = re.match(r"the question is ([\d,]+) characters long", low)
    if m:
        return tr(lang, "err_long", n=m.group(1), max=MAX_QUESTION_CHARS)
    return message or tr(lang, "err_unknown")


def error_bubble(message: str, lang: str = "ar") -> str:
    return (
        f'<div class="isnad-error" dir="{direction(lang)}"><span aria-hidden="true">✋</span> '
        f"{esc_lines(message)}</div>"
    )


# ---------------------------------------------------------------------------- sources panel
def sources_empty(lang: str = "ar") -> str:
    return (f'<div class="isnad-sources" dir="{direction(lang)}"><div class="isnad-empty">'
            f'{esc(tr(lang, "sources_empty"))}</div></div>')


SOURCES_EMPTY = sources_empty("ar")


def _score(score: float, lang: str) -> str:
    # The number alone meant nothing to a reader (and the bar clipped scores over 1):
    # the number stays, with what it is in a tooltip.
    return (f'<span class="isnad-score" title="{esc(tr(lang, "score_title"))}" tabindex="0">'
            f'{esc(tr(lang, "score", s=f"{float(score):.2f}"))} ⓘ</span>')


def _card(*, badge: str, title: str, doc_id: str, section: str, score: float, body: str,
          open_key: str, cited: bool, anchor: str | None, page: int | None = None,
          lang: str = "ar") -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    cls = "isnad-card cited" if cited else "isnad-card"
    section_html = (f'<span class="isnad-section">§ {esc(section)}</span>' if section else "") + (
        f'<span class="isnad-page">{esc(tr(lang, "page", n=int(page)))}</span>' if page else "")
    return (
        f'<article class="{cls}"{ident} dir="{direction(lang)}">'
        f'<header><span class="isnad-badge">{esc(badge)}</span>'
        f'<span class="isnad-title" dir="auto">{esc(title or doc_id)}</span></header>'
        f'<div class="isnad-meta">{section_html}{_score(score, lang)}'
        f'<span class="isnad-docid" dir="ltr">{esc(doc_id)}</span></div>'
        f'<div class="isnad-passage" dir="{text_dir(body)}">{body}</div>'
        f'<a href="#" class="isnad-open" role="button" data-open="{esc(open_key)}">'
        f'{esc(tr(lang, "open_here"))}</a>'
        "</article>"
    )


def _source_cards(answer: Answer, turn: int, show_all: bool, lang: str) -> tuple[list[str], list[str]]:
    """(cited cards, with `show_all` the cards of the retrieved passages not cited)."""
    cited_chunks = {c.chunk_id for c in answer.citations}
    cards = []
    for c in answer.citations:
        s, e = quote_span(c, answer.passages)
        cards.append(_card(
            badge=f"[{c.n}]", title=c.title, doc_id=c.doc_id, section=c.section, score=c.score,
            body=highlight(c.text, s, e), open_key=f"cite:{turn}:{c.n}", cited=True,
            anchor=f"isnad-src-{turn}-{c.n}", page=c.page, lang=lang,
        ))
    extra = []
    if show_all:
        for i, p in enumerate(answer.passages):
            if p.chunk_id in cited_chunks:
                continue
            extra.append(_card(
                badge=f"#{i + 1}", title=p.title, doc_id=p.doc_id, section=p.section,
                score=p.score, body=esc(compact(p.text)), open_key=f"passage:{turn}:{i}", cited=False,
                anchor=None, page=p.page, lang=lang,
            ))
    return cards, extra


def sources_html(answer: Answer | None, turn: int, show_all: bool = False, lang: str = "ar") -> str:
    """The sources panel for one answer: every cited passage with its quote marked;
    with `show_all`, also the retrieved passages that were not cited."""
    if answer is None:
        return sources_empty(lang)
    cards, extra = _source_cards(answer, turn, show_all, lang)
    n_cited, n_ret = len(answer.citations), len(answer.passages)
    if answer.abstained:
        head = tr(lang, "head_abstain", n=n_ret)
    else:
        head = tr(lang, "head_cited", cited=n_cited, n=n_ret)
    copy = ""
    if not answer.abstained:
        copy = (f'<a href="#" class="isnad-copy" role="button" data-copy="1" title="{esc(tr(lang, "copy_plain"))}">'
                f'{esc(tr(lang, "copy_sources"))}</a>'
                f'<pre class="isnad-copy-src" hidden>{esc(plain_text(answer, lang))}</pre>')
    parts = [f'<div class="isnad-sources" dir="{direction(lang)}"><div class="isnad-sources-top">'
             f'<div class="isnad-sources-head">{esc(head)}</div>{copy}</div>',
             f'<div class="isnad-sources-q" dir="auto">«{esc(answer.question)}»</div>']
    parts += cards
    if extra:
        parts.append(f'<div class="isnad-sep">{esc(tr(lang, "others"))}</div>')
        parts += extra
    elif not cards:
        hint = "" if show_all else tr(lang, "hint_show_all")
        parts.append(f'<div class="isnad-empty">{esc(tr(lang, "none_cited") + hint)}</div>')
    parts.append("</div>")
    return "".join(parts)


def citation_place(c, lang: str = "ar") -> tuple[str, str]:
    """A citation's section (" — ..." or "") and its place (document, page, characters),
    as the copied text and the exported Markdown both show them."""
    where = f" — {c.section}" if c.section else ""
    page = tr(lang, "plain_page", n=c.page) if c.page else ""
    return where, tr(lang, "plain_where", doc=c.doc_id, page=page, start=c.start, end=c.end)


def plain_text(answer: Answer, lang: str = "ar") -> str:
    """The answer and its numbered sources as plain text (what the copy buttons put on
    the clipboard)."""
    lines = [tr(lang, "plain_q", q=answer.question), "", answer.answer]
    if getattr(answer, "model", ""):
        lines.append(tr(lang, "plain_by", model=answer.model))
    if answer.citations:
        lines += ["", tr(lang, "plain_sources")]
        for c in answer.citations:
            where, loc = citation_place(c, lang)
            lines.append(f"[{c.n}] {c.title}{where} ({loc})")
            lines.append(f"    «{' '.join(c.quote.split())}»")
    return "\n".join(lines)
