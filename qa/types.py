"""The typed records qa hands to its callers; `to_dict` gives the Answer JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Passage:
    doc_id: str
    title: str
    chunk_id: str
    text: str  # the whole passage
    start: int  # offsets of `text` in the source document
    end: int
    score: float
    section: str = ""
    page: int | None = None  # 1-based page of `start` in a paged document (PDF)


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    chunk_id: str
    quote: str  # verbatim: document_text[start:end] == quote
    text: str  # the passage the quote sits in
    start: int
    end: int
    score: float
    section: str = ""
    page: int | None = None  # 1-based page of the quote's start in a paged document (PDF)


@dataclass
class Answer:
    question: str
    answer: str  # prose with [n] markers, or the abstention text
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)
    id: object = None
    # Not part of the JSON contract: why the engine abstained or what it noticed.
    notice: str = ""
    confidence: float = 0.0
    # The language model that wrote the answer ("ollama:qwen2.5"), "" for an extractive one.
    model: str = ""

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "passages": [asdict(p) for p in self.passages],
            "timing_ms": {k: round(v, 2) for k, v in self.timing_ms.items()},
        }
        # Extra keys, only when set (generative mode): who wrote it, what Isnad noticed.
        if self.model:
            d["model"] = self.model
        if self.notice:
            d["notice"] = self.notice
        return d
