"""The query adapter: a learned linear map of a question's vector before it is compared with the works' vectors.

MiniLM was trained on general sentence pairs; a research agenda's one-line description and the papers filed
under it sit further apart in its space than their topics are. `bench/train_adapter.py` fits (I + A) on the
training agendas of the Shallow Review (public data, held-out third excluded) so that a question's mapped vector
is nearer its gold works among all the knowledge base's works, with A kept small (L2) and the works' own vectors
untouched: nothing is re-embedded, and the cosine `confident` reads stays the unmapped one. The map is tied to
the embedding model it was fitted for; with any other model questions are used as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
ADAPTER_PATH = Path(__file__).with_name("query_adapter.npz")


@dataclass(frozen=True)
class QueryAdapter:
    matrix: np.ndarray  # (dimension × dimension), applied as matrix @ question
    embedding: str  # the embedder name (`Embedder.name`) it was fitted for

    def apply(self, vector: np.ndarray) -> np.ndarray:
        """The question's mapped vector, of length 1."""
        mapped = self.matrix @ vector
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm).astype(np.float32) if norm > 0 else vector

    def save(self, path: Path, **provenance: str) -> None:
        # float16 halves the file; the benchmarks measure the file as stored, so the rounding is in their figures.
        np.savez_compressed(
            path,
            matrix=self.matrix.astype(np.float16),
            embedding=np.array(self.embedding),
            **{key: np.array(value) for key, value in provenance.items()},
        )

    @classmethod
    def load(cls, path: Path | None = None) -> QueryAdapter:
        with np.load(path or ADAPTER_PATH, allow_pickle=False) as data:
            matrix = data["matrix"].astype(np.float32)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise ValueError(f"{path or ADAPTER_PATH}: the adapter is not a square matrix ({matrix.shape})")
            return cls(matrix, str(data["embedding"]))


def adapter_for(embedding: str, path: Path | None = None) -> QueryAdapter | None:
    """The shipped adapter if it was fitted for this embedder, else None (questions are used as they are)."""
    return _adapter_at(embedding, path or ADAPTER_PATH)


@cache  # a searcher is made anew whenever the knowledge base changes; the file is read once per process
def _adapter_at(embedding: str, path: Path) -> QueryAdapter | None:
    try:
        adapter = QueryAdapter.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("query adapter unavailable (%s); questions are used as they are", exc)
        return None
    if adapter.embedding != embedding:  # the name fixes the dimension too
        log.info(
            "the query adapter was fitted for %r, not %r: questions are used as they are", adapter.embedding, embedding
        )
        return None
    return adapter
