"""The vector store: dense vectors of works, derived from the database, behind one interface.

The engine, ingestion and retrieval use only `VectorStore`; which store backs it is decided in one place,
`open_vector_store`, from the settings (Chroma, embedded or a server: `bot.storage.chroma`). Vectors are always
computed by our own embedder and passed in, and every id is a work id. A store that cannot be reached raises
`VectorStoreUnavailable` (bot.storage.errors); callers degrade (lexical search, vectors left pending) instead of
failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from bot.settings import Settings


@runtime_checkable
class VectorStore(Protocol):
    """One collection of unit vectors, one per work id, for one embedding model."""

    def count(self) -> int: ...

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray) -> None:
        """Store (or replace) the vectors of `ids`, row i of `embeddings` for ids[i]."""
        ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def all_ids(self) -> set[str]: ...

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those `ids` that have one."""
        ...

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` nearest works as (id, cosine similarity), best first."""
        ...

    def query_with_vectors(self, embedding: np.ndarray, n: int) -> list[tuple[str, float, np.ndarray]]:
        """The `n` nearest works as (id, cosine similarity, stored vector), best first."""
        ...

    def describe(self) -> dict[str, str]:
        """Which store this is and where, for `alignbot status`."""
        ...


def open_vector_store(settings: Settings, embedding_name: str) -> VectorStore:
    """The configured store, with a collection of its own for each embedding model."""
    from bot.storage.chroma import ChromaVectorStore  # chromadb is imported only by commands that use vectors

    return ChromaVectorStore.from_settings(settings, embedding_name)


def describe_vector_store(settings: Settings) -> dict[str, str]:
    """What `describe()` of the configured store says, without opening it (nor importing its client)."""
    host = settings.chroma_host
    return {"chroma": f"{host}:{settings.chroma_port}" if host else str(settings.chroma_path)}


def server_health_url(settings: Settings) -> str | None:
    """A URL that answers 200 while the configured store's server is up; None for an embedded store."""
    from bot.storage.chroma import heartbeat_url

    return heartbeat_url(settings)
