"""Chunks in, a persisted searchable index out: embedders, FAISS vectors,
SQLite metadata and FTS5 lexical index, and the manifest that ties them together.

Never imports qa, ui or evals.
"""
