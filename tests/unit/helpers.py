"""Small hand-built inputs for the unit layer: real qa objects over a few sentences,
no index and no embedding model."""
from __future__ import annotations

import numpy as np

from corpus.sentences import split_sentences
from index.lexical import ArabicAnalyzer
from index.store import StoredSentence
from qa.retriever import Retrieved
from qa.types import Passage

ANALYZER = ArabicAnalyzer()


def stems(text: str) -> list[str]:
    return ANALYZER.analyze(text).stems


def stem(word: str) -> str | None:
    return next(iter(stems(word)), None)


class Docs:
    """Documents by id; each document is one passage (chunk) split into sentences."""

    def __init__(self, **texts: str) -> None:
        self.texts = texts

    def text(self, doc_id: str) -> str:
        return self.texts[doc_id]

    def retrieved(self, question: str, ranking: list[tuple[str, float]],
                  idf: dict[str, float] | None = None, dense: dict[str, float] | None = None) -> Retrieved:
        """What the retriever would hand the answerer: the documents in `ranking`
        (doc_id, fused score) as passages, with their sentences and stems."""
        passages, sentences = [], {}
        for i, (doc_id, score) in enumerate(ranking):
            text = self.texts[doc_id]
            chunk_id = f"{doc_id}#0"
            passages.append(Passage(doc_id, doc_id.title(), chunk_id, text, 0, len(text), score))
            sentences[chunk_id] = [StoredSentence(i, s.start, s.end, frozenset(stems(text[s.start:s.end])))
                                   for s in split_sentences(text)]
        q = stems(question)
        return Retrieved(passages, np.zeros(4, np.float32), 0.0, 0.0, sentences=sentences,
                         dense=dense or {p.chunk_id: 0.85 for p in passages}, query_stems=q,
                         idf=idf if idf is not None else {t: 2.0 for t in q})
