"""Question records shared by every suite, and the fixed question set of the shipped corpus.

`evals/questions/corpus.jsonl` is validated by `evals/questions/check_questions.py`;
this module only reads it. Each line: id, question, doc_id, evidence, answer,
answerable, kind, category, lang, and, for the second turn of a follow-up pair, `follows`
(the id of the first turn, which must be asked before it in the same conversation).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import IsnadError

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
CORPUS_QUESTIONS = QUESTIONS_DIR / "corpus.jsonl"


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a suite, with what counts as a correct retrieval and answer."""

    id: str
    question: str
    answerable: bool = True
    gold_docs: tuple[str, ...] = ()  # doc_ids that hold the answer (benchmarks: the paragraph)
    answers: tuple[str, ...] = ()  # gold answer strings; a quote containing any of them counts
    evidence: str | None = None  # corpus suite: the verbatim sentence that answers it
    kind: str = ""
    category: str = ""  # what a report breaks figures down by (near-miss, english, paraphrase, ...)
    follows: str | None = None  # id of the first turn of a follow-up pair
    lang: str = "ar"
    meta: dict = field(default_factory=dict, compare=False)  # adapter notes (e.g. raw question)


class QuestionSetError(IsnadError, ValueError):
    """The question file is unreadable or malformed (the message names the line)."""


def load_corpus_questions(path: Path | None = None) -> list[EvalQuestion]:
    """The fixed question set of the shipped corpus, in file order."""
    path = Path(path) if path else CORPUS_QUESTIONS
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                qid = str(r["id"])
                answerable = bool(r["answerable"])
                q = EvalQuestion(
                    id=qid,
                    question=str(r["question"]),
                    answerable=answerable,
                    gold_docs=(r["doc_id"],) if answerable and r.get("doc_id") else (),
                    answers=(r["answer"],) if answerable and r.get("answer") else (),
                    evidence=r.get("evidence") if answerable else None,
                    kind=str(r.get("kind", "")),
                    category=str(r.get("category") or r.get("kind", "")),
                    follows=r.get("follows"),
                    lang=str(r.get("lang", "ar")),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise QuestionSetError(f"{path}:{ln}: bad question record ({exc})") from exc
            if q.follows is not None and q.follows not in seen:
                raise QuestionSetError(f"{path}:{ln}: {qid} follows {q.follows!r}, not an earlier id")
            seen.add(qid)
            out.append(q)
    return out


def turn_chain(question: EvalQuestion, by_id: dict[str, EvalQuestion]) -> list[EvalQuestion]:
    """The earlier turns a follow-up needs, first turn first (empty for a stand-alone question)."""
    chain: list[EvalQuestion] = []
    cur = question
    while cur.follows is not None:
        prev = by_id.get(cur.follows)
        if prev is None or prev in chain or len(chain) > 20:
            break
        chain.append(prev)
        cur = prev
    return list(reversed(chain))
