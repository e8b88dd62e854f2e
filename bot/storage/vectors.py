"""Dense vectors in Chroma: an embedded `PersistentClient` by default, a Chroma server when configured.

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

from bot.storage.errors import StoreCorrupt

if TYPE_CHECKING:  # chromadb takes about a second to import: only commands that use vectors pay for it
    import chromadb


class VectorStoreUnavailable(RuntimeError):
    """The Chroma server cannot be reached. Vectors are derived data: callers degrade instead of failing."""


@contextmanager
def _reachable(where: Callable[[], str]) -> Iterator[None]:
    from chromadb.errors import InternalError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out: the server is down or restarting
        raise VectorStoreUnavailable(f"Chroma server at {where()} is unreachable: {exc}") from exc
    except InternalError as exc:  # embedded Chroma written by another process ("Nothing found on disk")
        raise VectorStoreUnavailable(f"Chroma cannot serve this now ({exc})") from exc


class VectorStore:
    def __init__(self, client: chromadb.ClientAPI, collection: str, embedding_name: str) -> None:
        self.client = client
        # One collection per embedding model: vectors of different models must never be mixed.
        self.collection = client.get_or_create_collection(
            f"{collection}-{embedding_name}",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    @classmethod
    def open(cls, *, path: Path, host: str | None, port: int, collection: str, embedding_name: str) -> VectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from chromadb.errors import ChromaError

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if not host:
            path.mkdir(parents=True, exist_ok=True)
            try:
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                return cls(client, collection, embedding_name)
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
            return cls(client, collection, embedding_name)

    def _where(self) -> str:
        settings = self.client.get_settings()
        return f"{settings.chroma_server_host}:{settings.chroma_server_http_port}"

    def count(self) -> int:
        with _reachable(self._where):
            return self.collection.count()

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray) -> None:
        if ids:
            with _reachable(self._where):
                self.collection.upsert(ids=list(ids), embeddings=embeddings)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with _reachable(self._where):
                self.collection.delete(ids=list(ids))

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
        if not ids:
            return {}
        with _reachable(self._where):
            result = self.collection.get(ids=list(ids), include=["embeddings"])
        return dict(zip(result["ids"], np.asarray(result["embeddings"], dtype=np.float32), strict=True))

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` nearest works as (id, cosine similarity), best first."""
        n = min(n, self.count())
        if n == 0:
            return []
        with _reachable(self._where):
            result = self.collection.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        return [(work_id, 1.0 - dist) for work_id, dist in zip(result["ids"][0], result["distances"][0], strict=True)]
