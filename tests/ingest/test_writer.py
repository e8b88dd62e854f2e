"""Bounded work per write: a write embeds what it stored; the background worker embeds what is left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.engine import Engine
from bot.ingest.vectorize import EmbeddingWorker
from bot.storage.coordination import KnowledgeBaseLock
from tests.backends import Backends
from tests.conftest import make_settings
from tests.ingest.test_pipeline import synthetic

REPO = Path(__file__).resolve().parents[2]


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


def test_processes_opening_a_fresh_knowledge_base_at_once_load_the_reading_list_once(
    backends: Backends, tmp_path: Path
) -> None:
    """Two processes starting on an empty database: both migrate and load the reading list; neither fails."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    reading = REPO / "knowledge" / "reading_list.jsonl"
    (knowledge / "reading_list.jsonl").write_text("".join(reading.read_text().splitlines(keepends=True)[:60]))
    data_dir = tmp_path / "kb"
    env = {**os.environ, **backends.env(data_dir), "PYTHONPATH": str(REPO), "ALIGNBOT_KNOWLEDGE_DIR": str(knowledge)}
    command = [sys.executable, "-m", "bot.cli", "ingest"]
    starts = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [process.communicate(timeout=600) for process in starts]
    for process, (_out, err) in zip(starts, outcomes, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
    engine = Engine.open(make_settings(data_dir, knowledge_dir=knowledge))
    works = {work.id for work in engine.db.iter_works()}
    distinct = {json.loads(line)["id"] for line in (knowledge / "reading_list.jsonl").read_text().splitlines()}
    assert works == distinct and not [w for w in works if "#" in w]  # each once
    assert engine.status()["pending_vectors"] == 0 and engine.vectors.all_ids() == works
    engine.close()
