"""The bundled ONNX MiniLM against the model it was made from, and the pooling it shares with it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.embedding import ONNX_MINILM_DIR, Embedder, load_embedder
from bot.settings import Settings
from tests.conftest import FIXTURES

_lines = [line for line in (FIXTURES / "papers.jsonl").read_text(encoding="utf-8").splitlines() if line[:1] == "{"]
# Texts of every length class: titles, abstracts, one longer than the 128-token cut, and odd input.
TEXTS = [
    *(f"{r['title']}. {r.get('abstract') or ''}".strip() for r in map(json.loads, _lines) if r.get("title")),
    "source?",
    "Reward hacking, specification gaming and Goodhart's law in reinforcement learning agents. " * 12,
    "Ünïcödé, emoji 🙂 and CJK 对齐 text with tabs\tand\nnewlines",
    "x",
]


def test_the_bundled_files_are_package_data() -> None:
    assert (ONNX_MINILM_DIR / "model.onnx").stat().st_size > 10_000_000
    assert (ONNX_MINILM_DIR / "tokenizer.json").is_file()


def test_onnx_minilm_stays_within_cosine_0_99_of_sentence_transformers(embedder: Embedder) -> None:
    """Every text, not the mean: the bar int8 quantisation missed on short queries (scripts/export_minilm_onnx.py).
    The fp32 file meets it with room to spare, which is why the two share a Chroma collection."""
    pytest.importorskip("sentence_transformers", reason="the reference model needs the `torch` extra")
    settings = Settings()
    reference = load_embedder("minilm-torch", settings.embedding_max_tokens, settings.embedding_batch_size)
    assert embedder.name == reference.name == "minilm"
    ours, theirs = embedder.encode(TEXTS), reference.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.99, dict(zip(TEXTS, cosines.round(4), strict=True))
    assert cosines.min() >= 0.9999  # fp32: the same vectors, up to float rounding


def test_vectors_are_unit_length_and_independent_of_batching(embedder: Embedder) -> None:
    together = embedder.encode(TEXTS)
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Length-sorted batches, padding and order must not change a text's vector.
    alone = np.stack([embedder.encode([text])[0] for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-4)
    np.testing.assert_allclose(embedder.encode(TEXTS[::-1])[::-1], together, atol=1e-4)
    assert embedder.encode([]).shape == (0, 384)


def test_inputs_are_cut_at_the_configured_token_count(embedder: Embedder) -> None:
    long = TEXTS[-3]
    assert long in TEXTS and len(long.split()) > 128
    np.testing.assert_allclose(embedder.encode([long])[0], embedder.encode([long + " unrelated tail"])[0], atol=1e-5)


def test_an_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not 'minilm', 'minilm-torch' or a directory"):
        load_embedder("/no/such/model", 128, 32)
