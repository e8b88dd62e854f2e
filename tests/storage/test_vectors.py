"""The `VectorStore` interface, on the store the run uses (embedded Chroma, or the Chroma server of the production
pass): what the engine, ingestion and retrieval rely on, checked through `open_vector_store` alone."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from bot.storage import VectorStore, VectorStoreUnavailable, open_vector_store
from bot.storage.chroma import SEARCH_EF, ChromaVectorStore
from bot.storage.vectors import server_health_url
from tests.backends import BACKENDS, free_port
from tests.conftest import make_settings


def unit_vectors(count: int, dimensions: int = 8, seed: int = 7) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimensions)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_configured_store_keeps_finds_and_forgets_vectors(tmp_path: Path) -> None:
    store = open_vector_store(make_settings(tmp_path / "kb"), "test-model")
    assert isinstance(store, VectorStore)
    ids = [f"arxiv:2401.{n:05d}" for n in range(20)]
    vectors = unit_vectors(len(ids))
    store.upsert(ids, vectors)
    store.upsert(ids[:5], vectors[:5])  # writing a vector again replaces it
    assert store.count() == 20 and store.all_ids() == set(ids)

    got = store.get([ids[3], "arxiv:unknown"])
    assert list(got) == [ids[3]] and np.allclose(got[ids[3]], vectors[3], atol=1e-6)

    nearest = store.query(vectors[3], 4)
    assert len(nearest) == 4 and nearest[0][0] == ids[3] and nearest[0][1] == pytest.approx(1.0, abs=1e-4)
    assert [score for _id, score in nearest] == sorted((score for _id, score in nearest), reverse=True)
    assert len(store.query(vectors[0], 500)) == 20  # never more than it holds
    with_vectors = store.query_with_vectors(vectors[3], 4)
    assert [(i, pytest.approx(score)) for i, score, _ in with_vectors] == nearest
    assert all(np.allclose(vector, vectors[ids.index(i)], atol=1e-6) for i, _, vector in with_vectors)
    assert store.query_with_vectors(vectors[3], 0) == []

    store.delete(ids[:15])
    store.delete([])
    assert store.count() == 5 and store.all_ids() == set(ids[15:])
    [(which, where)] = store.describe().items()
    assert which == "chroma" and where  # `alignbot status` shows it


def test_reads_and_deletes_of_more_ids_than_sqlite_binds_at_once(tmp_path: Path) -> None:
    # Chroma binds each id as an SQL variable; SQLite refuses more than 32,766 in one statement, which a 51k-work
    # knowledge base reaches when it is read or repaired in one call.
    store = open_vector_store(make_settings(tmp_path / "kb"), "test-model")
    ids = [f"w{n}" for n in range(33_000)]
    vectors = unit_vectors(len(ids), dimensions=2)
    for start in range(0, len(ids), 5000):
        store.upsert(ids[start : start + 5000], vectors[start : start + 5000])
    got = store.get([*ids, "unknown"])
    assert len(got) == len(ids) and np.allclose(got["w32999"], vectors[-1], atol=1e-6)
    store.delete(ids[10:])
    assert store.all_ids() == set(ids[:10])


def test_each_embedding_model_has_a_collection_of_its_own(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "kb")
    first, second = open_vector_store(settings, "model-a"), open_vector_store(settings, "model-b")
    first.upsert(["w1", "w2"], unit_vectors(2))
    assert second.count() == 0 and second.query(unit_vectors(1)[0], 3) == []


def test_an_unreachable_server_is_reported_as_unavailable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "kb", chroma_host="127.0.0.1", chroma_port=free_port())
    url = server_health_url(settings)
    assert url is not None and url.startswith(f"http://127.0.0.1:{settings.chroma_port}/")
    with pytest.raises(VectorStoreUnavailable, match=f"127.0.0.1:{settings.chroma_port}"):
        open_vector_store(settings, "test-model")


def test_an_embedded_store_has_no_server_to_ask(tmp_path: Path) -> None:
    assert server_health_url(make_settings(tmp_path / "kb", chroma_host=None)) is None
    if BACKENDS.chroma is not None:  # the production pass: the run's server answers its health URL
        url = server_health_url(make_settings(tmp_path / "kb"))
        assert url is not None and httpx.get(url, timeout=5).status_code == 200


def test_nearest_lists_are_searched_wide_also_in_a_collection_made_before(tmp_path: Path) -> None:
    # Chroma's default search breadth (100) equals the candidate pool: its nearest-100 lists then missed about
    # 5 % of the exact ones and changed between opens. A collection made with the default is widened on open.
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path = tmp_path / "chroma"
    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    before = client.get_or_create_collection(
        "c-m", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    assert before.configuration["hnsw"]["ef_search"] < SEARCH_EF  # Chroma's default, as an older alignbot made it
    store = ChromaVectorStore.open(path=path, host=None, port=0, collection="c", embedding_name="m")
    assert store.collection.configuration["hnsw"]["ef_search"] == SEARCH_EF
    assert client.get_collection("c-m").configuration["hnsw"]["ef_search"] == SEARCH_EF  # stored, not only cached
    fresh = ChromaVectorStore.open(path=tmp_path / "new", host=None, port=0, collection="c", embedding_name="m")
    assert fresh.collection.configuration["hnsw"]["space"] == "cosine"
    assert fresh.collection.configuration["hnsw"]["ef_search"] == SEARCH_EF
