"""Processes sharing a knowledge base: the writer lock, leases on pending vectors, heartbeats (both backends)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from bot.domain import IngestReport, WorkRecord
from bot.ingest.pipeline import RecordMerger
from bot.storage import Database, Work
from bot.storage.coordination import (
    KnowledgeBaseLock,
    ProcessHeartbeat,
    beat,
    claim_pending,
    describe,
    live_processes,
    release_claims,
    renew_claims,
)

REPO = Path(__file__).resolve().parents[2]


def records(ids: range) -> list[WorkRecord]:
    return [WorkRecord(id=f"w:{i}", title=f"Coordinated work {i} on topic {i % 5}", authors=[f"A. B{i}"]) for i in ids]


def test_a_second_holder_is_refused_and_told_who_holds_the_lock(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    mine, theirs = KnowledgeBaseLock(first, "writer"), KnowledgeBaseLock(second, "writer")
    assert mine.try_acquire()
    assert not theirs.try_acquire()
    holder = theirs.holder()
    assert holder is not None and holder["pid"] == os.getpid() and holder["host"]
    assert "held by pid" in describe(holder) and holder["since"] <= datetime.now(UTC)
    mine.release()
    assert theirs.holder() is None
    assert theirs.try_acquire()
    assert theirs.epoch == mine.epoch + 1  # the epoch counts acquisitions: a jump means another writer wrote
    theirs.release()
    first.close(), second.close()


HOLD = """
import sys, time
from bot.storage import Database
from bot.storage.coordination import KnowledgeBaseLock
lock = KnowledgeBaseLock(Database(sys.argv[1]), "writer")
assert lock.try_acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_killed_holder_leaves_the_lock_free(database_url: str) -> None:
    db = Database(database_url)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        lock = KnowledgeBaseLock(db, "writer")
        assert not lock.try_acquire()
        assert (lock.holder() or {}).get("pid") == holder.pid
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 5
        while not lock.try_acquire():  # the lock died with its process (PostgreSQL notices the closed session)
            assert time.monotonic() < deadline, "the killed holder's lock was not released"
            time.sleep(0.1)
        lock.release()
        assert lock.holder() is None
    finally:
        holder.kill()
        db.close()


def test_concurrent_writers_store_each_work_once(database_url: str) -> None:
    """Two writers, each with its own connection, lock and cached key map, storing overlapping batches."""
    Database(database_url).close()  # migrated once, before the race

    def write(ids: list[range]) -> None:
        db = Database(database_url)
        merger = RecordMerger(db)
        for batch in ids:
            merger.store(records(batch), IngestReport())
        db.close()

    errors: list[BaseException] = []

    def run(ids: list[range]) -> None:
        try:
            write(ids)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=([range(s, s + 30) for s in range(0, 120, 20)],)),
        threading.Thread(target=run, args=([range(s, s + 30) for s in range(110, -10, -20)],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database(database_url)
    ids = {work.id for work in db.iter_works()}
    assert ids == {f"w:{i}" for i in range(140)}  # each once: no `w:5#2` from a race on the key map
    db.close()


def test_leases_give_each_pending_work_to_one_owner_until_they_expire(database_url: str) -> None:
    db = Database(database_url)
    RecordMerger(db).store(records(range(30)), IngestReport())
    first = claim_pending(db, "one", 20)
    second = claim_pending(db, "two", 20)
    assert len(first) == 20 and len(second) == 10
    assert not {w.id for w in first} & {w.id for w in second}
    assert claim_pending(db, "three", 20) == []
    release_claims(db, "two")
    assert len(claim_pending(db, "three", 20, ids=[w.id for w in second][:4])) == 4  # only those asked for
    expired = claim_pending(db, "four", 20, lease=-1)  # the other 6, with a lease that has already run out
    assert len(expired) == 6
    assert {w.id for w in claim_pending(db, "five", 20)} == {w.id for w in expired}  # taken over
    release_claims(db, "one")
    # Works with a vector are not pending: nobody leases them.
    with db.session() as session:
        session.execute(update(Work).values(vector_hash=Work.text_hash))
        session.commit()
    release_claims(db, "five")
    assert claim_pending(db, "six", 50) == []
    db.close()


def test_leases_of_a_killed_process_on_this_host_are_free_at_once(database_url: str) -> None:
    db = Database(database_url)
    RecordMerger(db).store(records(range(6)), IngestReport())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid now names no process: as a run killed with SIGKILL mid-batch leaves its leases
    host = socket.gethostname()
    assert len(claim_pending(db, f"{host}:{gone.pid}:dead", 4)) == 4
    assert len(claim_pending(db, f"{host}:{os.getpid()}:live", 6)) == 6  # the dead run's four are taken over
    assert claim_pending(db, f"{host}:{os.getpid()}:other", 6) == []  # a live process's leases hold
    db.close()


def test_heartbeats_show_live_processes_and_drop_silent_ones(database_url: str) -> None:
    db = Database(database_url)
    started = datetime.now(UTC)
    beat(db, "serve", 7, started)
    beat(db, "serve", 8, started)  # one row per process and role, updated
    with db.session() as session:
        session.add(
            ProcessHeartbeat(
                id="gone:1:ingest",
                pid=1,
                host="gone",
                role="ingest",
                command="alignbot ingest x.jsonl",
                started_at=started - timedelta(hours=1),
                beat_at=started - timedelta(minutes=5),
            )
        )
        session.commit()
    live = live_processes(db)
    assert [(row.role, row.pid, row.generation_seen) for row in live] == [("serve", os.getpid(), 8)]
    db.close()


def test_a_renewed_lease_keeps_its_works_past_the_first_expiry(database_url: str) -> None:
    db = Database(database_url)
    RecordMerger(db).store(records(range(5)), IngestReport())
    assert len(claim_pending(db, "slow", 5, lease=1)) == 5
    renew_claims(db, "slow", lease=60)  # what a slow batch does while it encodes
    time.sleep(1.2)
    assert claim_pending(db, "other", 5) == []
    db.close()


def test_settled_leaves_works_just_stored_to_their_write(database_url: str) -> None:
    db = Database(database_url)
    RecordMerger(db).store(records(range(3)), IngestReport())
    assert claim_pending(db, "worker", 5, settled=30) == []  # stored just now: the write embeds them
    assert len(claim_pending(db, "worker", 5, settled=0)) == 3
    db.close()
