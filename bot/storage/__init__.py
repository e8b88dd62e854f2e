"""Storage: the relational database (source of truth) and the vector store (derived from it)."""

from bot.storage.database import Database, IngestCheckpoint, Work, WorkKey
from bot.storage.vectors import VectorStore

__all__ = ["Database", "IngestCheckpoint", "VectorStore", "Work", "WorkKey"]
