"""Retrieval: an in-memory view of the corpus with lexical indexes, dense search, fusion and resolution."""
