"""State the HTTP replicas share through the database, checked with several connections at once (each
`Database` stands for a process)."""

from __future__ import annotations

import threading

from bot.storage import Database
from bot.storage.shared import Deliveries, PageSessions, RateBuckets


def test_concurrent_takes_from_two_processes_stay_within_the_burst(database_url: str) -> None:
    now = [1000.0]
    limiters = [RateBuckets(Database(database_url).engine, clock=lambda: now[0]) for _ in range(2)]
    allowed: list[float] = []

    def take(limiter: RateBuckets) -> None:
        for _ in range(10):
            allowed.append(limiter.take("token:1", 60, 5))

    threads = [threading.Thread(target=take, args=(limiter,)) for limiter in limiters for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40 and allowed.count(0.0) == 5  # the clock stood still: the burst, once
    now[0] += 2.0  # two seconds at one a second
    assert [limiters[1].take("token:1", 60, 5) for _ in range(3)][:2] == [0.0, 0.0]


def test_a_session_made_by_one_process_is_read_and_ended_by_another(database_url: str) -> None:
    now = [0.0]
    one = PageSessions(Database(database_url).engine, idle_seconds=60, clock=lambda: now[0])
    other = PageSessions(Database(database_url).engine, idle_seconds=60, clock=lambda: now[0])
    session = one.create(7, "ana")
    seen = other.get(session.id)
    assert seen is not None and (seen.token_id, seen.name, seen.csrf) == (7, "ana", session.csrf)
    now[0] = 50
    assert other.get(session.id) is not None  # activity extends the idle timeout
    now[0] = 100
    assert one.get(session.id) is not None and len(one) == 1
    other.delete(session.id)
    assert one.get(session.id) is None and one.get(None) is None and len(one) == 0
    expired = one.create(7, "ana")
    now[0] = 1000
    assert other.get(expired.id) is None


def test_the_session_id_is_not_stored(database_url: str) -> None:
    db = Database(database_url)
    session = PageSessions(db.engine, idle_seconds=60).create(1, "ana")
    with db.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.exec_driver_sql("SELECT * FROM page_session") for v in row)
    assert session.id not in stored


def test_a_delivery_is_claimed_once_and_its_answer_shared(database_url: str) -> None:
    first, second = (Deliveries(Database(database_url).engine) for _ in range(2))
    assert first.claim(1, "d-1") and not second.claim(1, "d-1")
    assert second.result(1, "d-1") is None  # being answered
    assert second.claim(2, "d-1")  # another token's delivery ids are its own
    first.finish(1, "d-1", {"report_id": 5})
    assert second.result(1, "d-1") == {"report_id": 5}
    second.release(1, "d-1")  # only unanswered claims are released
    assert not first.claim(1, "d-1")
    second.release(2, "d-1")
    assert first.claim(2, "d-1")


def test_a_claim_its_replica_never_answered_is_taken_over(database_url: str) -> None:
    now = [0.0]
    dead, alive = (Deliveries(Database(database_url).engine, clock=lambda: now[0]) for _ in range(2))
    assert dead.claim(1, "d-2")  # then the replica is killed before `finish`
    now[0] = Deliveries.ABANDONED_SECONDS / 2
    assert not alive.claim(1, "d-2")  # maybe still answering
    now[0] = Deliveries.ABANDONED_SECONDS * 2
    assert alive.claim(1, "d-2") and not dead.claim(1, "d-2")
