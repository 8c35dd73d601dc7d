#!/usr/bin/env python3
"""Validate the fixed evaluation question set (corpus.jsonl).

Stdlib only. Paths are resolved from this script's own location:
  questions: <script dir>/corpus.jsonl  (or the path given as argv[1])
  documents: <script dir>/../../corpus/documents/<doc_id>

Checks:
  * every line is a JSON object with the required fields and allowed values
  * ids are unique and look like c001, c002, ...
  * answerable items: doc_id names an existing document, evidence is a
    verbatim substring of that document (and does not span a line break),
    answer is a substring of evidence
  * unanswerable items: doc_id/evidence/answer are null, answerable is false
  * "follows" (second turn of a follow-up pair) points to an earlier id
  * categories (near-miss/off-corpus only for unanswerable items), per-kind and
    per-category minima, digit-direction minima, per-document coverage

Prints counts per kind and per document; exits 1 on any problem.
"""
import collections
import dataclasses
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS_DIR = (HERE / ".." / ".." / "corpus" / "documents").resolve()
DEFAULT_QUESTIONS = HERE / "corpus.jsonl"

REQUIRED = ("id", "question", "doc_id", "evidence", "answer", "answerable", "kind", "lang", "category")
KINDS = {"factoid", "digits", "spelling", "paraphrase", "english", "unanswerable", "followup"}
# The category a report breaks figures down by (`isnad eval`); near-miss: an entity the
# documents name, a fact they do not state; off-corpus: a world fact outside the documents.
CATEGORIES = {"factoid", "numbers", "colloquial", "paraphrase", "english", "followup",
              "near-miss", "off-corpus"}
UNANSWERABLE_CATEGORIES = {"near-miss", "off-corpus"}
MIN_CATEGORY = {"near-miss": 15, "off-corpus": 5, "paraphrase": 20, "english": 20}
LANGS = {"ar", "en"}

MIN_TOTAL = 90
MIN_KIND = {
    "spelling": 8,
    "paraphrase": 12,
    "english": 8,
    "unanswerable": 12,
    "followup": 6,  # second turns (kind followup with "follows")
}
MIN_DIGITS_WESTERN_Q_INDIC_DOC = 8  # question has 0-9, evidence has ٠-٩
MIN_DIGITS_INDIC_Q_WESTERN_DOC = 3  # question has ٠-٩, evidence has 0-9
MIN_PER_DOC = 8
LONG_DOC = "turkish-smart-power-central-asia.txt"
MIN_LONG_DOC = 25

WESTERN = re.compile(r"[0-9]")
INDIC = re.compile(r"[\u0660-\u0669]")
ID_RE = re.compile(r"^c\d{3,}$")


@dataclasses.dataclass
class Tally:
    """Counts over the question set, checked against the minima and printed."""
    kinds: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    categories: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    docs: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    w2i: int = 0  # digits questions: western in the question, indic in the evidence
    i2w: int = 0  # and the other way round
    followup_pairs: int = 0


def main(argv):
    qpath = Path(argv[1]) if len(argv) > 1 else DEFAULT_QUESTIONS
    errors = []

    def err(where, msg):
        errors.append(f"{where}: {msg}")

    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS_DIR.glob("*.txt"))}
    if not docs:
        err("documents", f"no *.txt found in {DOCS_DIR}")
    rows = read_rows(qpath, err)
    seen = {}
    tally = Tally()
    for ln, r in rows:
        check_row(ln, r, docs, seen, tally, err)
    check_minima(rows, docs, tally, err)
    print_counts(qpath, rows, tally)
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK")
    return 0


def read_rows(qpath, err):
    """(line number, JSON object) of every well-formed line."""
    rows = []
    with open(qpath, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                err(f"line {ln}", "blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                err(f"line {ln}", f"invalid JSON: {e}")
                continue
            if not isinstance(obj, dict):
                err(f"line {ln}", "not a JSON object")
                continue
            rows.append((ln, obj))
    return rows


def check_row(ln, r, docs, seen, tally, err):
    """Check one question; `seen` maps the ids so far to their lines."""
    rid = r.get("id")
    where = f"line {ln} ({rid})"
    missing = [k for k in REQUIRED if k not in r]
    if missing:
        err(where, f"missing fields {missing}")
        return
    extra = set(r) - set(REQUIRED) - {"follows"}
    if extra:
        err(where, f"unexpected fields {sorted(extra)}")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        err(where, "id must look like c001")
    if rid in seen:
        err(where, f"duplicate id (first on line {seen[rid]})")
    check_values(where, r, tally, err)
    check_evidence(where, r, docs, tally, err)
    if "follows" in r:
        fid = r["follows"]
        if fid not in seen:
            err(where, f"follows {fid!r} is not an earlier id")
        if r["kind"] != "followup":
            err(where, "an item with follows must have kind followup")
        else:
            tally.followup_pairs += 1
    seen[rid] = ln


def check_values(where, r, tally, err):
    """The question text and the allowed values of kind, category, lang, answerable."""
    q, kind, lang, answerable = r["question"], r["kind"], r["lang"], r["answerable"]
    if not isinstance(q, str) or not q.strip():
        err(where, "empty question")
    if kind not in KINDS:
        err(where, f"bad kind {kind!r}")
    category = r["category"]
    if category not in CATEGORIES:
        err(where, f"bad category {category!r}")
    elif (category in UNANSWERABLE_CATEGORIES) != (answerable is False):
        err(where, f"category {category} does not fit answerable={answerable}")
    tally.categories[category] += 1
    if lang not in LANGS:
        err(where, f"bad lang {lang!r}")
    if not isinstance(answerable, bool):
        err(where, "answerable must be a boolean")
    tally.kinds[kind] += 1

    if kind == "english" and lang != "en":
        err(where, "kind english must have lang en")
    if lang == "en" and isinstance(q, str) and re.search(r"[\u0600-\u06FF]", q):
        err(where, "lang en but question contains Arabic script")


def check_evidence(where, r, docs, tally, err):
    """Unanswerable items have no evidence; answerable ones quote their document."""
    q, doc_id, ev, ans = r["question"], r["doc_id"], r["evidence"], r["answer"]
    kind, answerable = r["kind"], r["answerable"]
    if kind == "unanswerable" or answerable is False:
        if kind != "unanswerable" or answerable is not False:
            err(where, "unanswerable kind and answerable=false must go together")
        if doc_id is not None or ev is not None or ans is not None:
            err(where, "unanswerable must have null doc_id/evidence/answer")
        tally.docs["(none)"] += 1
        return
    tally.docs[doc_id] += 1
    if doc_id not in docs:
        err(where, f"unknown doc_id {doc_id!r}")
    elif not isinstance(ev, str) or not ev:
        err(where, "evidence missing")
    else:
        if "\n" in ev or "\r" in ev:
            err(where, "evidence spans a line break")
        if ev not in docs[doc_id]:
            err(where, "evidence is not a verbatim substring of the document")
        if not isinstance(ans, str) or not ans:
            err(where, "answer missing")
        elif ans not in ev:
            err(where, "answer is not a substring of evidence")
        elif ans == ev:
            err(where, "answer equals the whole evidence")
    if kind == "digits" and isinstance(ev, str):
        if WESTERN.search(q) and INDIC.search(ev):
            tally.w2i += 1
        elif INDIC.search(q) and WESTERN.search(ev):
            tally.i2w += 1
        else:
            err(where, "digits question: question and evidence do not use different digit systems")


def check_minima(rows, docs, tally, err):
    """Totals per kind, category, digit direction and document."""
    if len(rows) < MIN_TOTAL:
        err("total", f"{len(rows)} questions < {MIN_TOTAL}")
    for k, m in MIN_KIND.items():
        have = tally.followup_pairs if k == "followup" else tally.kinds[k]
        if have < m:
            err("kinds", f"{k}: {have} < {m}")
    for c, m in MIN_CATEGORY.items():
        if tally.categories[c] < m:
            err("categories", f"{c}: {tally.categories[c]} < {m}")
    if tally.w2i < MIN_DIGITS_WESTERN_Q_INDIC_DOC:
        err("digits", f"western-in-question/indic-in-doc: {tally.w2i} < {MIN_DIGITS_WESTERN_Q_INDIC_DOC}")
    if tally.i2w < MIN_DIGITS_INDIC_Q_WESTERN_DOC:
        err("digits", f"indic-in-question/western-in-doc: {tally.i2w} < {MIN_DIGITS_INDIC_Q_WESTERN_DOC}")
    for name in docs:
        need = MIN_LONG_DOC if name == LONG_DOC else MIN_PER_DOC
        if tally.docs[name] < need:
            err("docs", f"{name}: {tally.docs[name]} < {need}")


def print_counts(qpath, rows, tally):
    print(f"questions: {len(rows)}  ({qpath})")
    print("per kind:")
    for k in sorted(KINDS):
        print(f"  {k:13s} {tally.kinds[k]}")
    print(f"  digits direction: western-q/indic-doc={tally.w2i}  indic-q/western-doc={tally.i2w}")
    print(f"  follow-up pairs (second turns with 'follows'): {tally.followup_pairs}")
    print("per category:")
    for c in sorted(tally.categories):
        print(f"  {c:13s} {tally.categories[c]}")
    print("per doc:")
    for d in sorted(tally.docs, key=lambda x: (x == "(none)", x)):
        print(f"  {d:55s} {tally.docs[d]}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
