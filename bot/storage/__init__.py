"""Storage: the relational database (source of truth) and the vector store (derived from it)."""

from bot.storage.database import Database, IngestCheckpoint, RateLimitSlot, Work, WorkConflict, WorkKey
from bot.storage.errors import StoreCorrupt
from bot.storage.vectors import VectorStore, VectorStoreUnavailable

__all__ = [
    "Database",
    "IngestCheckpoint",
    "RateLimitSlot",
    "StoreCorrupt",
    "VectorStore",
    "VectorStoreUnavailable",
    "Work",
    "WorkConflict",
    "WorkKey",
]
