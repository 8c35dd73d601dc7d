"""Documents in, chunks out: loading, Arabic normalization, sentences and chunking.

Imports nothing from the other Isnad layers.
"""
