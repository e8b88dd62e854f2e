"""The knowledge base's generation: bumped by every write of works in the write's own transaction, with a
log of the works changed; concurrent writers commit their generations in order."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError

from bot.storage import Database, IngestCheckpoint, Work
from bot.storage import generation as kb_generation


def work(work_id: str, title: str = "A title") -> Work:
    return Work(id=work_id, title=title, authors=["A. Author"])


def test_each_write_bumps_the_generation_and_logs_its_works(database_url: str) -> None:
    db = Database(database_url)
    start = db.generation()
    assert start.value == 0 and start.kb_id
    db.write_batch([work("w1"), work("w2")], [], [("id:w1", "w1"), ("id:w2", "w2")])
    first = db.generation()
    assert first.value == 1 and first.kb_id == start.kb_id
    db.write_batch([], [work("w1", "A new title")], [])
    db.write_batch([], [], [], IngestCheckpoint(source="file", fingerprint="f"))  # no work: no generation
    now = db.generation()
    assert now.value == 2
    assert db.changed_since(0, now) == {"w1", "w2"}
    assert db.changed_since(1, now) == {"w1"}
    assert db.changed_since(2, now) == set()


def test_a_failed_write_leaves_the_generation(database_url: str) -> None:
    db = Database(database_url)
    db.write_batch([work("w1")], [], [])
    with pytest.raises(IntegrityError):
        db.write_batch([work("w1")], [], [])  # the same id again: the whole transaction is refused
    assert db.generation().value == 1 and db.changed_since(0, db.generation()) == {"w1"}


def test_concurrent_writers_from_two_connections_never_skip_a_generation(database_url: str) -> None:
    writers = [Database(database_url) for _ in range(2)]
    errors: list[BaseException] = []

    def write(db: Database, prefix: str) -> None:
        try:
            for n in range(15):
                db.write_batch([work(f"{prefix}{n}")], [], [])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(db, p)) for db, p in zip(writers, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    now = writers[0].generation()
    assert now.value == 30
    with writers[0].engine.connect() as connection:
        generations = sorted(g for (g,) in connection.exec_driver_sql("SELECT generation FROM work_change"))
    assert generations == list(range(1, 31))  # one per write, none lost or doubled


def test_the_log_is_pruned_and_a_reader_behind_it_is_told(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_generation, "KEEP", 3)
    monkeypatch.setattr(kb_generation, "PRUNE_EVERY", 5)
    db = Database(database_url)
    for n in range(5):
        db.write_batch([work(f"w{n}")], [], [])
    now = db.generation()
    assert now.value == 5 and now.oldest == 2
    assert db.changed_since(1, now) is None  # pruned: the caller rebuilds
    assert db.changed_since(2, now) == {"w2", "w3", "w4"}
