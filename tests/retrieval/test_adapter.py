"""The query adapter: its file, its fallbacks and its feature columns."""

from pathlib import Path

import numpy as np
import pytest

from bot.engine import Engine
from bot.retrieval import adapter as adapter_module
from bot.retrieval.adapter import ADAPTER_PATH, QueryAdapter, adapter_for
from bot.retrieval.fusion import FEATURES
from bot.retrieval.search import HybridSearcher, query_vector_of


def test_the_shipped_adapter_is_for_the_bundled_model_and_records_how_it_was_trained() -> None:
    adapter = adapter_for("minilm")
    assert adapter is not None and adapter.matrix.shape == (384, 384)
    with np.load(ADAPTER_PATH, allow_pickle=False) as data:
        assert str(data["trained_by"]).startswith("bench/train_adapter.py")
    # A small change of the identity: a question keeps most of its own direction.
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    mapped = adapter.apply(vector)
    assert np.linalg.norm(mapped) == pytest.approx(1.0, abs=1e-5) and 0.5 < float(mapped @ vector) < 1.0


def test_round_trip_keeps_the_map_and_another_model_gets_none(tmp_path: Path) -> None:
    matrix = np.eye(8, dtype=np.float32) + np.random.default_rng(1).normal(scale=0.1, size=(8, 8)).astype(np.float32)
    path = tmp_path / "adapter.npz"
    QueryAdapter(matrix, "tiny").save(path, trained_by="test")
    loaded = adapter_for("tiny", path)
    assert loaded is not None and np.allclose(loaded.matrix, matrix, atol=1e-3)  # stored as float16
    vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
    expected = matrix @ vector
    assert np.allclose(loaded.apply(vector), expected / np.linalg.norm(expected), atol=1e-3)
    assert adapter_for("another-model", path) is None


@pytest.mark.parametrize("content", [None, b"not a zip", "rectangular"])
def test_a_missing_or_broken_file_means_no_adapter(tmp_path: Path, content: bytes | str | None) -> None:
    path = tmp_path / "adapter.npz"
    if content == "rectangular":
        np.savez(path, matrix=np.ones((3, 4), dtype=np.float16), embedding=np.array("minilm"))
    elif content is not None:
        path.write_bytes(content)  # type: ignore[arg-type]
    assert adapter_for("minilm", path) is None


def test_the_adapted_columns_compare_the_mapped_question_with_the_stored_vectors(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "monitoring a model's chain of thought for plans to deceive its overseers"
    searcher = engine.searcher
    assert searcher.adapter is not None
    docs, cosines, matrix = searcher.candidates(question)
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    stored = engine.vectors.get([engine.corpus.ids[doc] for doc in docs])
    vectors = np.stack([stored[engine.corpus.ids[doc]] for doc in docs])
    mapped = searcher.adapter.apply(query_vector_of(engine.embedder, question))
    assert np.allclose(column["adapted_cosine"], vectors @ mapped, atol=1e-5)
    assert np.allclose(column["adapted_gap"], column["adapted_cosine"] - column["adapted_cosine"].max())
    assert not np.allclose(column["adapted_cosine"], cosines, atol=0.01)
    # Without an adapter for the embedder (another model), the question is compared as it is.
    monkeypatch.setattr(adapter_module, "ADAPTER_PATH", Path("/nonexistent/adapter.npz"))
    plain = HybridSearcher(engine.corpus, engine.vectors, engine.embedder)
    assert plain.adapter is None
    _, cosines_plain, matrix_plain = plain.candidates(question)
    assert np.allclose(matrix_plain[:, FEATURES.index("adapted_cosine")], cosines_plain)
