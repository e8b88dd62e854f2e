"""A Chroma server (`chroma run` from the installed package) that goes away and comes back mid-run.

Vectors are derived data: while the server is down questions are still answered (lexical candidates are
encoded on the spot), ingests store their records and leave the vectors pending, and once the server is back
the pending vectors are written. Nothing stored is lost or duplicated.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from tests.backends import ChromaServer
from tests.conftest import FIXTURES, make_settings

QUESTION = "do chain of thought explanations reflect the model's real reasons?"


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


def open_engine(data_dir: Path, server: ChromaServer, embedder: Embedder) -> Engine:
    settings = make_settings(data_dir, chroma_host=server.host, chroma_port=server.port, load_bundled_knowledge=False)
    return Engine.open(settings, embedder=embedder)


def assert_stores_agree(engine: Engine) -> None:
    """Every work has exactly one vector and no vector lacks a work."""
    work_ids = {work.id for work in engine.db.iter_works()}
    assert engine.vectors.all_ids() == work_ids
    assert engine.vectors.count() == len(work_ids)
    assert engine.status()["pending_vectors"] == 0


def many_papers(path: Path, n: int) -> Path:
    rows = [
        {"id": f"paper:{i}", "title": f"Study {i} of reward hacking and oversight", "authors": [f"A{i}"]}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_chroma_server_restarted_mid_ingest(
    tmp_path: Path, chroma_server: ChromaServer, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_engine(tmp_path / "kb", chroma_server, embedder)
    try:
        engine.ingest([FIXTURES / "papers.jsonl"])
        base = engine.db.count_works()
        before = engine.ask(QUESTION)
        assert before.confident

        # The server dies while the second batch of vectors is being written.
        def stop_after_first_batch(phase: str, advance: int, _total: int | None) -> None:
            if phase == "embedding" and advance > 0 and chroma_server.process is not None:
                chroma_server.stop(kill=True)

        report = engine.ingest([many_papers(tmp_path / "papers.jsonl", 700)], progress=stop_after_first_batch)
        assert report.added == 700 and report.embedding_error and "unreachable" in report.embedding_error
        assert 0 < report.embedded < 700
        status = engine.db.count_works(), engine.db.count_needing_vectors()
        assert status == (base + 700, 700 - report.embedded)

        # Still answering, from the same works, while the server is down.
        during = engine.ask(QUESTION)
        assert during.confident and during.results[0].id == before.results[0].id
        assert engine.cite("Jacovi & Goldberg").confident

        chroma_server.start()
        caplog.clear()
        after = engine.ask(QUESTION)
        assert after.results[0].id == before.results[0].id
        assert "unreachable" not in caplog.text  # the same client reconnected: dense search is back
        resumed = engine.embed_pending()
        assert resumed.embedded == 700 - report.embedded and resumed.embedding_error is None
        assert_stores_agree(engine)
    finally:
        engine.close()


def test_a_lost_vector_volume_is_rebuilt_from_the_database(
    tmp_path: Path, chroma_server: ChromaServer, embedder: Embedder
) -> None:
    engine = open_engine(tmp_path / "kb", chroma_server, embedder)
    engine.ingest([FIXTURES / "papers.jsonl"])
    works = engine.db.count_works()
    engine.close()

    chroma_server.stop()
    shutil.rmtree(chroma_server.path)  # the server comes back with an empty volume
    chroma_server.start()

    reopened = open_engine(tmp_path / "kb", chroma_server, embedder)
    try:
        assert reopened.status()["pending_vectors"] == works  # repair() noticed every vector is gone
        assert reopened.embed_pending().embedded == works
        assert_stores_agree(reopened)
        assert reopened.ask(QUESTION).confident
    finally:
        reopened.close()


def test_an_unreachable_server_at_start_is_a_clear_error_when_vectors_are_needed(
    tmp_path: Path, embedder: Embedder
) -> None:
    server = ChromaServer(tmp_path / "never-started")
    engine = open_engine(tmp_path / "kb", server, embedder)  # the vector store opens on first use
    try:
        engine.ingest([FIXTURES / "papers.jsonl"], embed=False)
        assert engine.cite("Turpin et al. 2023").confident  # no vectors needed: answered
        with pytest.raises(RuntimeError, match=rf"Chroma server at 127\.0\.0\.1:{server.port} is unreachable"):
            engine.status()
    finally:
        engine.close()
