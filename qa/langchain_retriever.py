"""Isnad's hybrid retrieval as a LangChain `BaseRetriever`, for use in LangChain chains.

It calls the engine's public `Isnad.retrieve`, so it returns the same passages, in the
same order, as `isnad ask` for the same question (the cross-lingual rules included).

    from qa.engine import Isnad
    from qa.langchain_retriever import IsnadRetriever

    retriever = IsnadRetriever(engine=Isnad.open(), k=5)
    docs = retriever.invoke("ما هي مناورات بيرليك 2025؟")
    docs[0].page_content, docs[0].metadata["doc_id"], docs[0].metadata["page"]
"""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from qa.engine import Isnad
from qa.pages import passages_with_pages


class IsnadRetriever(BaseRetriever):
    engine: Isnad  # a loaded engine
    k: int = 5

    model_config = {"arbitrary_types_allowed": True}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        got = self.engine.retrieve(query, self.k)
        return [
            Document(
                page_content=p.text,
                metadata={"doc_id": p.doc_id, "title": p.title, "chunk_id": p.chunk_id,
                          "start": p.start, "end": p.end, "score": p.score, "section": p.section,
                          "page": p.page},
            )
            for p in passages_with_pages(got.passages, self.engine.store.page_of)
        ]
