"""Bounded work per write: a write embeds what it stored; the background worker embeds what is left."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.engine import Engine
from bot.ingest.vectorize import EmbeddingWorker
from bot.storage.coordination import KnowledgeBaseLock
from tests.ingest.test_pipeline import synthetic


def test_a_write_embeds_only_the_works_it_stored(empty_engine: Engine, tmp_path: Path) -> None:
    empty_engine.ingest([synthetic(tmp_path / "backlog.jsonl", 40)], embed=False)  # e.g. a CLI ingest cut short
    assert empty_engine.db.count_needing_vectors() == 40
    report = empty_engine.ingest_records([{"id": "new:1", "title": "A fresh paper on reward model overoptimisation"}])
    assert report.added == 1 and report.embedded == 1
    assert empty_engine.db.count_needing_vectors() == 40  # the backlog is the worker's
    assert empty_engine.vectors.all_ids() == {"new:1"}
    again = empty_engine.ingest_records([{"id": "new:1", "title": "A fresh paper on reward model overoptimisation"}])
    assert again.unchanged == 1 and again.embedded == 0  # nothing stored, nothing to embed


def test_the_worker_embeds_the_backlog_and_only_one_worker_runs(empty_engine: Engine, tmp_path: Path) -> None:
    empty_engine.ingest([synthetic(tmp_path / "backlog.jsonl", 30)], embed=False)
    engine = empty_engine

    def worker() -> EmbeddingWorker:
        return EmbeddingWorker(engine.db, lambda: engine.vectors, engine.embedder, batch_size=8, idle_seconds=0.2)

    first, second = worker().start(), worker().start()
    try:
        deadline = time.monotonic() + 120
        while (engine.db.count_needing_vectors() or first.embedded + second.embedded < 30) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert engine.db.count_needing_vectors() == 0
        assert engine.vectors.count() == 30
        assert first.embedded + second.embedded == 30 and 0 in (first.embedded, second.embedded)  # one worked
        holder = KnowledgeBaseLock(engine.db, "embedder").holder()
        assert holder is not None and holder["pid"] == os.getpid()
    finally:
        started = time.monotonic()
        first.stop(), second.stop()
        assert time.monotonic() - started < 2.5
    assert KnowledgeBaseLock(engine.db, "embedder").holder() is None  # the lock and its record are released
