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

log = logging.getLogger("isnad.app")


def upload_note(max_bytes: int) -> str:
    return (f'<div dir="rtl" class="isnad-upload-note">أضف وثائق ({" ".join(FORMATS)})، '
            f'بحد أقصى {max_bytes / 2**20:.0f} ميغابايت للملف. تبقى الوثائق المضافة في مجلد البيانات '
            "حتى تحذفها.</div>")


class DocumentsController:
    """Upload and removal for every session (one build at a time: index.added holds the
    build lock; the event runs with concurrency 1)."""

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def max_bytes(self) -> int:
        return self.engine.settings.index.max_upload_bytes

    def view(self):
        """(documents table, choices of the removal list) of the live index."""
        self.engine.refresh()
        docs = self.engine.documents()
        added = [d.doc_id for d in docs if d.doc_id.startswith(ADDED_PREFIX)]
        return R.documents_table_html(docs), gr.Dropdown(choices=added, value=None)

    def upload(self, files, progress=gr.Progress()):
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", "")) for f in (files or [])]
        if not paths:
            raise gr.Error("اختر ملفاً أولاً (choose a file first)", print_exception=False)
        progress(0, desc="جارٍ فحص الوثائق…")
        try:
            report = add_documents(self.engine.settings.home, [(p, p.name) for p in paths],
                                   self.engine.embedder, self.engine.settings.index,
                                   stage=lambda msg: progress(0.5, desc=printable(msg)),
                                   backend=self.engine.backend)
        except AddError as exc:
            log.info("refused an upload: %s", exc)
            raise gr.Error(f"لم تُضف الوثيقة: {exc}", print_exception=False) from None
        self.engine.refresh(force=True)
        names = "، ".join(report.doc_ids)
        status = (f'<div dir="rtl" class="isnad-upload-status">أضيفت: <span dir="ltr">{R.esc(names)}</span> '
                  f"({report.build.chunks_total} مقطعاً في الفهرس). يمكنك السؤال عنها الآن.</div>")
        table, choices = self.view()
        return status, table, choices, None

    def remove(self, doc_id: str | None, progress=gr.Progress()):
        if not doc_id:
            raise gr.Error("اختر وثيقة مضافة لحذفها (choose an added document)", print_exception=False)
        progress(0, desc="جارٍ الحذف…")
        try:
            report = remove_documents(self.engine.settings.home, [doc_id], self.engine.embedder,
                                      self.engine.settings.index,
                                      stage=lambda msg: progress(0.5, desc=printable(msg)),
                                      backend=self.engine.backend)
        except AddError as exc:
            raise gr.Error(f"لم تُحذف الوثيقة: {exc}", print_exception=False) from None
        self.engine.refresh(force=True)
        status = (f'<div dir="rtl" class="isnad-upload-status">حُذفت: <span dir="ltr">'
                  f'{R.esc(", ".join(report.doc_ids))}</span></div>')
        table, choices = self.view()
        return status, table, choices


def documents_tab(engine, docs_table) -> None:
    """The upload and removal controls, under the documents table (inside the tab)."""
    ctl = DocumentsController(engine)
    gr.HTML('<h3 dir="rtl">إضافة وثائق وحذفها</h3>' + upload_note(ctl.max_bytes), js_on_load=None)
    files = gr.File(file_count="multiple", file_types=list(FORMATS), type="filepath",
                    label="الملفات", elem_id="isnad-upload")
    add_btn = gr.Button("أضف إلى الفهرس", variant="primary", elem_id="isnad-add")
    status = gr.HTML("", elem_id="isnad-upload-status", js_on_load=None)
    with gr.Row(equal_height=True):
        choice = gr.Dropdown([], label="وثيقة مضافة", elem_id="isnad-remove-choice", scale=3)
        remove_btn = gr.Button("احذف من الفهرس", variant="stop", elem_id="isnad-remove", scale=1)
    add_btn.click(ctl.upload, inputs=[files], outputs=[status, docs_table, choice, files],
                  api_visibility="private", concurrency_limit=1, concurrency_id="isnad-build")
    remove_btn.click(ctl.remove, inputs=[choice], outputs=[status, docs_table, choice],
                     api_visibility="private", concurrency_limit=1, concurrency_id="isnad-build")
    return ctl, choice
