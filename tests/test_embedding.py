"""The bundled ONNX MiniLM against the model it was made from, and the pooling it shares with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import ONNX_MINILM_DIR, Embedder, OnnxEmbedder, load_embedder
from bot.settings import Settings
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[1]
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


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_vectors_are_unit_length_and_independent_of_batching(runtime: str) -> None:
    embedder = load_embedder("minilm", 128, 32, runtime)
    together = embedder.encode(TEXTS)
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Length-sorted batches, padding and order must not change a text's vector (beyond bf16 rounding on OpenVINO).
    alone = np.stack([embedder.encode([text])[0] for text in TEXTS])
    reversed_ = embedder.encode(TEXTS[::-1])[::-1]
    for other in (alone, reversed_):
        assert (together * other).sum(axis=1).min() >= 0.99999
        np.testing.assert_allclose(together, other, atol=1e-4 if runtime == "onnxruntime" else 1e-3)
    assert embedder.encode([]).shape == (0, 384)


def test_both_runtimes_compute_the_same_vectors_and_auto_sends_bulk_to_openvino() -> None:
    """OpenVINO computes in bf16 on CPUs that have it: the vectors move by rounding only, so a knowledge base
    embedded by either runtime answers questions encoded by the other (one Chroma collection)."""
    onnxruntime, openvino = (load_embedder("minilm", 128, 32, runtime) for runtime in ("onnxruntime", "openvino"))
    cosines = (onnxruntime.encode(TEXTS) * openvino.encode(TEXTS)).sum(axis=1)
    assert cosines.min() >= 0.9999, dict(zip(TEXTS, cosines.round(6), strict=True))
    auto = load_embedder("minilm", 128, 32, "auto")
    bulk = (TEXTS * 2)[: OnnxEmbedder.BULK_TEXTS]
    np.testing.assert_array_equal(auto.encode(bulk), openvino.encode(bulk))
    np.testing.assert_array_equal(auto.encode(bulk[:1]), onnxruntime.encode(bulk[:1]))  # a question: ONNX Runtime


def test_openvino_runs_without_reaching_the_network() -> None:
    """`import openvino` alone would send a usage event to Google Analytics (its conversion tools' telemetry)."""
    script = """
import sys, threading, time
events = []
sys.addaudithook(lambda event, args: event in WATCHED and events.append((event, str(args)[:80])))
WATCHED = {"socket.getaddrinfo", "socket.connect", "socket.gethostbyname", "os.fork", "subprocess.Popen"}
from bot.embedding import load_embedder
load_embedder("minilm", 128, 32, "openvino").encode(["a text"] * 20)
time.sleep(1)  # the telemetry would send from a worker thread
print(events)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_inputs_are_cut_at_the_configured_token_count(embedder: Embedder) -> None:
    long = TEXTS[-3]
    assert long in TEXTS and len(long.split()) > 128
    np.testing.assert_allclose(embedder.encode([long])[0], embedder.encode([long + " unrelated tail"])[0], atol=1e-5)


def test_an_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not 'minilm', 'minilm-torch' or a directory"):
        load_embedder("/no/such/model", 128, 32)
    with pytest.raises(ValueError, match="embedding runtime 'tensorrt': not one of auto, onnxruntime, openvino"):
        load_embedder("minilm", 128, 32, "tensorrt")
