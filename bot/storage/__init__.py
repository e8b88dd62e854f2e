"""Storage: the relational database (source of truth), every table (`bot.storage.tables`) and the vector store
(derived from the database; `VectorStore` is the interface, `open_vector_store` opens the configured one)."""

from bot.storage.database import Database, IngestCheckpoint, RateLimitSlot, Work, WorkConflict, WorkKey
from bot.storage.errors import StoreCorrupt, VectorStoreUnavailable
from bot.storage.vectors import VectorStore, open_vector_store

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
    "open_vector_store",
]
