"""Conversations kept in the reader's browser: the store, and its export as Markdown.

The store is plain JSON, held by a gr.BrowserState (the browser's localStorage; the
server keeps no copy of anyone's conversation):

    {"current": "<id>", "items": [{"id", "title", "created", "turns": [
        {"answer": <Answer JSON (qa.types.Answer.to_dict)>, "followup": bool,
         "context": what the turn was searched with}, ...]}]}

Every function here is pure: a store in, a new store (or text) out. A store from the
browser is untrusted: `clean_store` keeps only well-formed conversations and turns.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import fields

from qa.types import Answer, Citation, Passage
from ui.app_i18n import tr
from ui.app_render import citation_place

MAX_CONVERSATIONS = 30  # the oldest are dropped first (localStorage holds ~5 MB)
MAX_TURNS = 60
TITLE_CHARS = 48


def new_item(title: str = "") -> dict:
    return {"id": uuid.uuid4().hex[:12], "title": title, "created": time.strftime("%Y-%m-%d %H:%M"),
            "turns": []}


def _build(cls, data: object):
    if not isinstance(data, dict):
        raise ValueError("not an object")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def answer_from_dict(d: object) -> Answer:
    """The Answer JSON (as stored) -> an Answer; ValueError/TypeError when malformed."""
    if not isinstance(d, dict) or not isinstance(d.get("question"), str) or not isinstance(d.get("answer"), str):
        raise ValueError("not an answer")
    return Answer(
        question=d["question"], answer=d["answer"], abstained=bool(d.get("abstained")),
        citations=[_build(Citation, c) for c in d.get("citations") or []],
        passages=[_build(Passage, p) for p in d.get("passages") or []],
        timing_ms={k: float(v) for k, v in (d.get("timing_ms") or {}).items()},
        id=d.get("id"), notice=str(d.get("notice") or ""), model=str(d.get("model") or ""),
    )


def clean_store(store: object) -> dict:
    """Whatever the browser sent -> a well-formed store with a current conversation."""
    items = []
    raw = store.get("items") if isinstance(store, dict) else None
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        turns = []
        for t in item.get("turns") if isinstance(item.get("turns"), list) else []:
            try:
                answer_from_dict(t.get("answer") if isinstance(t, dict) else None)
            except (ValueError, TypeError):
                continue
            turns.append({"answer": t["answer"], "followup": bool(t.get("followup")),
                          "context": str(t.get("context") or "")})
        items.append({"id": item["id"][:40], "title": str(item.get("title") or "")[:TITLE_CHARS + 1],
                      "created": str(item.get("created") or ""), "turns": turns[-MAX_TURNS:]})
    items = items[-MAX_CONVERSATIONS:]
    if not items:
        items = [new_item()]
    current = store.get("current") if isinstance(store, dict) else None
    if current not in {i["id"] for i in items}:
        current = items[-1]["id"]
    return {"current": current, "items": items}


def current_item(store: dict) -> dict:
    return next(i for i in store["items"] if i["id"] == store["current"])


def add_turn(store: object, answer: Answer, followup: bool, context: str = "") -> dict:
    """The store with `answer` appended to the current conversation (titled by its
    first question)."""
    store = clean_store(store)
    item = current_item(store)
    item["turns"] = (item["turns"] + [{"answer": answer.to_dict() | {
        "notice": answer.notice, "model": answer.model}, "followup": bool(followup),
        "context": context}])[-MAX_TURNS:]
    if not item["title"]:
        q = " ".join(answer.question.split())
        item["title"] = q[:TITLE_CHARS] + ("…" if len(q) > TITLE_CHARS else "")
    return store


def start_new(store: object) -> dict:
    """The store with a new, empty, current conversation (an empty current one is reused)."""
    store = clean_store(store)
    if current_item(store)["turns"]:
        item = new_item()
        store["items"] = (store["items"] + [item])[-MAX_CONVERSATIONS:]
        store["current"] = item["id"]
    return store


def switch_to(store: object, conv_id: object) -> dict:
    store = clean_store(store)
    if conv_id in {i["id"] for i in store["items"]}:
        store["current"] = conv_id
    return store


def choices(store: dict, lang: str) -> list[tuple[str, str]]:
    """(label, id) of every conversation, newest first."""
    return [(i["title"] or tr(lang, "conv_untitled"), i["id"]) for i in reversed(store["items"])]


def turns_of(store: dict) -> list[tuple[Answer, bool, str]]:
    """(answer, was a follow-up, what it was searched with) of the current conversation."""
    return [(answer_from_dict(t["answer"]), t["followup"], t.get("context", ""))
            for t in current_item(store)["turns"]]


def to_markdown(item: dict, lang: str = "ar") -> str:
    """One conversation as Markdown: each question, its answer with [n] markers, and
    the numbered sources with their quotes."""
    lines = [tr(lang, "md_title") + (f": {item['title']}" if item.get("title") else ""), ""]
    for t in item["turns"]:
        a = answer_from_dict(t["answer"])
        lines += ["---", "", tr(lang, "md_q", q=" ".join(a.question.split())), "", a.answer.strip(), ""]
        if a.citations:
            lines += [tr(lang, "md_sources"), ""]
            for c in a.citations:
                where, loc = citation_place(c, lang)
                lines.append(f"{c.n}. **{c.title}**{where} ({loc})")
                lines.append(f"   > {' '.join(c.quote.split())}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
