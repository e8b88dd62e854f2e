"""Errors of the stores: one an operator must act on, one callers degrade on."""

from __future__ import annotations


class StoreCorrupt(RuntimeError):
    """A store's files cannot be read. The message is one line: the file, what is wrong, and the command
    that recovers it, so a CLI prints it and a service logs it instead of a 100-line traceback."""


class VectorStoreUnavailable(RuntimeError):
    """The vector store's server cannot be reached. Vectors are derived data: callers degrade instead of failing."""
