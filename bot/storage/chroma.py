"""The `VectorStore` in Chroma: an embedded `PersistentClient` by default, a Chroma server when configured
(`CHROMA_HOST`, `CHROMA_PORT`; `ALIGNBOT_CHROMA_COLLECTION` names the collections).

Embeddings are always computed by our own embedder and passed in; the collection has no embedding
function, so Chroma never tries to download its default model.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

from bot.storage.errors import StoreCorrupt, VectorStoreUnavailable

if TYPE_CHECKING:  # chromadb takes about a second to import: only commands that use vectors pay for it
    import chromadb

    from bot.settings import Settings

HEARTBEAT = "/api/v2/heartbeat"  # Chroma 1.x; /api/v1 answers 410 Gone
# HNSW's search breadth. At Chroma's default (100, our nearest-100 request) the lists held 0.88 of the exact
# nearest 100 and differed between two opens of one base twice as often; 400 holds 0.98 for about 1 ms (README).
SEARCH_EF = 400


def heartbeat_url(settings: Settings) -> str | None:
    """The Chroma server's heartbeat (200 while it is up), or None when Chroma is embedded."""
    return f"http://{settings.chroma_host}:{settings.chroma_port}{HEARTBEAT}" if settings.chroma_host else None


@contextmanager
def _reachable(where: Callable[[], str]) -> Iterator[None]:
    from chromadb.errors import InternalError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out: the server is down or restarting
        raise VectorStoreUnavailable(f"Chroma server at {where()} is unreachable: {exc}") from exc
    except InternalError as exc:  # embedded Chroma written by another process ("Nothing found on disk")
        raise VectorStoreUnavailable(f"Chroma cannot serve this now ({exc})") from exc


def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class ChromaVectorStore:
    # Ids per get/delete call: Chroma binds each id as an SQL variable, and SQLite refuses more than 32,766
    # ("too many SQL variables"), which repairing or reading a 51k-work knowledge base reaches.
    id_chunk = 5000

    def __init__(self, client: chromadb.ClientAPI, collection: str, embedding_name: str, location: str) -> None:
        self.client = client
        self.location = location  # host:port of the server, or the embedded store's directory
        # One collection per embedding model: vectors of different models must never be mixed.
        self.collection = client.get_or_create_collection(
            f"{collection}-{embedding_name}",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
        )
        # A collection made before keeps its own configuration: raise its search breadth. Chroma reads it when
        # it loads the index, on the first search: before that the change applies at once, else at the next open.
        hnsw = (self.collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search", SEARCH_EF) < SEARCH_EF:
            with _reachable(lambda: location):
                self.collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})

    @classmethod
    def from_settings(cls, settings: Settings, embedding_name: str) -> ChromaVectorStore:
        return cls.open(
            path=settings.chroma_path,
            host=settings.chroma_host,
            port=settings.chroma_port,
            collection=settings.chroma_collection,
            embedding_name=embedding_name,
        )

    @classmethod
    def open(
        cls, *, path: Path, host: str | None, port: int, collection: str, embedding_name: str
    ) -> ChromaVectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from chromadb.errors import ChromaError

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if not host:
            path.mkdir(parents=True, exist_ok=True)
            try:
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                return cls(client, collection, embedding_name, str(path))
            except ChromaError as exc:
                # Vectors are derived from the database: a fresh directory is refilled by `ingest`.
                moved, reason = shlex.quote(f"{path}.corrupt"), " ".join(str(exc).split())
                raise StoreCorrupt(
                    f"{path}: the Chroma directory cannot be read ({reason}); its vectors are derived from the "
                    f"database, so move it aside and embed again with: mv {shlex.quote(str(path))} {moved} && "
                    f"alignbot ingest --data-dir {shlex.quote(str(path.parent))}"
                ) from exc
        with _reachable(lambda: f"{host}:{port}"):
            try:
                client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
            except ValueError as exc:  # how chromadb reports a refused connection when the client is made
                raise VectorStoreUnavailable(f"Chroma server at {host}:{port} is unreachable: {exc}") from exc
            return cls(client, collection, embedding_name, f"{host}:{port}")

    def _where(self) -> str:
        return self.location

    def count(self) -> int:
        with _reachable(self._where):
            return self.collection.count()

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray) -> None:
        if ids:
            with _reachable(self._where):
                self.collection.upsert(ids=list(ids), embeddings=embeddings)

    def delete(self, ids: Sequence[str]) -> None:
        with _reachable(self._where):
            for chunk in _chunks(ids, self.id_chunk):
                self.collection.delete(ids=chunk)

    def all_ids(self, page: int = 5000) -> set[str]:
        ids: set[str] = set()
        offset = 0
        with _reachable(self._where):
            while True:
                batch = self.collection.get(include=[], limit=page, offset=offset)["ids"]
                ids.update(batch)
                if len(batch) < page:
                    return ids
                offset += page

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with _reachable(self._where):
            for chunk in _chunks(ids, self.id_chunk):
                result = self.collection.get(ids=chunk, include=["embeddings"])
                found.update(zip(result["ids"], np.asarray(result["embeddings"], dtype=np.float32), strict=True))
        return found

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` nearest works as (id, cosine similarity), best first."""
        # Chroma 1.x returns what it has when asked for more than the collection holds: no count() first
        # (a second round trip, as long as the query itself on an embedded store).
        if n <= 0:
            return []
        with _reachable(self._where):
            result = self.collection.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        return [(work_id, 1.0 - dist) for work_id, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def query_with_vectors(self, embedding: np.ndarray, n: int) -> list[tuple[str, float, np.ndarray]]:
        """As `query`, with each work's stored vector (one round trip instead of a `get` after it)."""
        if n <= 0:
            return []
        with _reachable(self._where):
            result = self.collection.query(
                query_embeddings=[embedding], n_results=n, include=["distances", "embeddings"]
            )
        vectors = np.asarray(result["embeddings"][0], dtype=np.float32)
        return [
            (work_id, 1.0 - dist, vector)
            for work_id, dist, vector in zip(result["ids"][0], result["distances"][0], vectors, strict=True)
        ]

    def describe(self) -> dict[str, str]:
        return {"chroma": self.location}
