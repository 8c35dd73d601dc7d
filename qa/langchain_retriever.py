"""Isnad's hybrid retrieval as a LangChain `BaseRetriever`, for use in LangChain chains.

    from qa.langchain_retriever import IsnadRetriever
    retriever = IsnadRetriever(engine=Isnad.open(), k=5)
    docs = retriever.invoke("ما هي مناورات بيرليك 2025؟")
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class IsnadRetriever(BaseRetriever):
    engine: Any  # a loaded qa.engine.Isnad
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        from qa.engine import clean_question

        got = self.engine.retriever.retrieve(clean_question(query), self.k)
        return [
            Document(
                page_content=p.text,
                metadata={"doc_id": p.doc_id, "title": p.title, "chunk_id": p.chunk_id,
                          "start": p.start, "end": p.end, "score": p.score, "section": p.section},
            )
            for p in got.passages
        ]
