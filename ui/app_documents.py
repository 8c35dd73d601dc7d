"""The app's documents tab: upload documents into the index and remove added ones.

Uploads go through index.added (the same code as `isnad add`): each file is checked,
copied into HOME/documents/ under a sanitized name (never outside the data directory)
and indexed in one incremental build; the engine then switches to the new index, so
the document is answerable as soon as the upload says it is done. Gradio's own upload
route refuses files over the limit (launch's max_file_size: HTTP 413), and
index.added checks the size again.
"""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from corpus.files import printable
from index import ADDED_PREFIX, FORMATS, AddError, add_documents, remove_documents
from ui import app_render as R
from ui import app_viewer as V
from ui.app_i18n import direction, norm_lang, tr

log = logging.getLogger("isnad.app")


def upload_note(max_bytes: int, lang: str = "ar") -> str:
    return (f'<h3 dir="auto">{R.esc(tr(lang, "up_head"))}</h3><div dir="{direction(lang)}" class="isnad-upload-note">'
            + R.esc(tr(lang, "up_note", formats=" ".join(FORMATS), mb=max_bytes / 2**20)) + "</div>")


def _status(lang: str, key: str, names: str, **values) -> str:
    text = R.esc(tr(lang, key, names="@@", **values)).replace("@@", f'<span dir="ltr">{R.esc(names)}</span>')
    return f'<div dir="{direction(lang)}" class="isnad-upload-status">{text}</div>'


class DocumentsController:
    """Upload and removal for every session (one build at a time: index.added holds the
    build lock; the event runs with concurrency 1)."""

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def max_bytes(self) -> int:
        return self.engine.settings.index.max_upload_bytes

    def view(self, lang: str = "ar"):
        """(documents table, choices of the removal list) of the live index."""
        self.engine.refresh()
        docs = self.engine.documents()
        added = [d.doc_id for d in docs if d.doc_id.startswith(ADDED_PREFIX)]
        return V.documents_table_html(docs, norm_lang(lang)), gr.Dropdown(choices=added, value=None)

    def upload(self, files, lang: str = "ar", progress=gr.Progress()):
        lang = norm_lang(lang)
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", "")) for f in (files or [])]
        if not paths:
            raise gr.Error(tr(lang, "up_choose"), print_exception=False)
        progress(0, desc=tr(lang, "up_checking"))
        try:
            report = add_documents(self.engine.settings.home, [(p, p.name) for p in paths],
                                   self.engine.embedder, self.engine.settings.index,
                                   stage=lambda msg: progress(0.5, desc=printable(msg)),
                                   backend=self.engine.backend)
        except AddError as exc:
            log.info("refused an upload: %s", exc)
            raise gr.Error(tr(lang, "up_failed", err=exc), print_exception=False) from None
        self.engine.refresh(force=True)
        status = _status(lang, "up_added", "، ".join(report.doc_ids) if lang == "ar" else ", ".join(report.doc_ids),
                         chunks=report.build.chunks_total)
        table, choices = self.view(lang)
        return status, table, choices, None

    def remove(self, doc_id: str | None, lang: str = "ar", progress=gr.Progress()):
        lang = norm_lang(lang)
        if not doc_id:
            raise gr.Error(tr(lang, "rm_choose"), print_exception=False)
        progress(0, desc=tr(lang, "rm_running"))
        try:
            report = remove_documents(self.engine.settings.home, [doc_id], self.engine.embedder,
                                      self.engine.settings.index,
                                      stage=lambda msg: progress(0.5, desc=printable(msg)),
                                      backend=self.engine.backend)
        except AddError as exc:
            raise gr.Error(tr(lang, "rm_failed", err=exc), print_exception=False) from None
        self.engine.refresh(force=True)
        status = _status(lang, "rm_done", ", ".join(report.doc_ids))
        table, choices = self.view(lang)
        return status, table, choices


def documents_tab(engine, docs_table, lang_state, labels, index_views=()):
    """The upload and removal controls, under the documents table (inside the tab);
    their words registered with `labels` (the app's Labels). `index_views` are
    (component, make(lang)) pairs that show figures of the index (the header's counts,
    the status panel): re-made after every upload or removal that succeeds."""
    ctl = DocumentsController(engine)
    note = gr.HTML(upload_note(ctl.max_bytes), js_on_load=None, elem_id="isnad-upload-note")
    files = gr.File(file_count="multiple", file_types=list(FORMATS), type="filepath",
                    label=tr("ar", "up_files"), elem_id="isnad-upload")
    add_btn = gr.Button(tr("ar", "up_add"), variant="primary", elem_id="isnad-add")
    status = gr.HTML("", elem_id="isnad-upload-status", js_on_load=None)
    with gr.Row(equal_height=True):
        choice = gr.Dropdown([], label=tr("ar", "up_choice"), elem_id="isnad-remove-choice", scale=3)
        remove_btn = gr.Button(tr("ar", "up_remove"), variant="stop", elem_id="isnad-remove", scale=1)
    labels.add(note, lambda l: upload_note(ctl.max_bytes, l))
    labels.add(files, lambda l: gr.File(label=tr(l, "up_files")))
    labels.add(add_btn, lambda l: gr.Button(tr(l, "up_add")))
    labels.add(choice, lambda l: gr.Dropdown(label=tr(l, "up_choice")))
    labels.add(remove_btn, lambda l: gr.Button(tr(l, "up_remove")))
    labels.add(docs_table, lambda l: V.documents_table_html(engine.documents(), l))
    views = [c for c, _ in index_views]

    def remake_views(lang: str):
        return [make(norm_lang(lang)) for _, make in index_views]

    added = add_btn.click(ctl.upload, inputs=[files, lang_state], outputs=[status, docs_table, choice, files],
                          api_visibility="private", concurrency_limit=1, concurrency_id="isnad-build")
    removed = remove_btn.click(ctl.remove, inputs=[choice, lang_state], outputs=[status, docs_table, choice],
                               api_visibility="private", concurrency_limit=1, concurrency_id="isnad-build")
    if views:
        for event in (added, removed):
            event.success(remake_views, inputs=[lang_state], outputs=views, api_visibility="private")
    return ctl, choice
