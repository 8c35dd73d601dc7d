"""Page numbers for the citations and passages of an answer (paged documents only)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from qa.types import Answer, Passage

PageOf = Callable[[str, int], "int | None"]


def with_pages(answer: Answer, page_of: PageOf) -> Answer:
    """`answer` with `page` set on every citation (page of the quote's start) and
    passage (page of the passage's start); None for documents without pages."""
    answer.citations = [replace(c, page=page_of(c.doc_id, c.start)) for c in answer.citations]
    answer.passages = passages_with_pages(answer.passages, page_of)
    return answer


def passages_with_pages(passages: list[Passage], page_of: PageOf) -> list[Passage]:
    """The passages with `page` set (page of each passage's start)."""
    return [replace(p, page=page_of(p.doc_id, p.start)) for p in passages]


def stream_with_pages(stream: Iterator, page_of: PageOf) -> Iterator:
    """A stream of drafts (str) and Answers, with pages on the Answers."""
    for item in stream:
        yield with_pages(item, page_of) if isinstance(item, Answer) else item
