"""Processes sharing one knowledge base: the writer lock, leases on pending vectors, and heartbeats.

Several processes (CLI ingests, `sync`, HTTP replicas, bots) may write one database. Their record phase
(merging records into works and keys) runs under one lock per knowledge base, so two writers never insert the
same work: a PostgreSQL advisory lock, or on SQLite a lock file beside the database. Both die with their
process, so a killed writer never leaves the lock held. Who holds a lock is recorded in `writer_lock` for
`alignbot status`; its `epoch` counts acquisitions, so a writer that finds it moved by more than one knows
another process wrote in between and reloads what it caches.

Works waiting for vectors are leased (`vector_claim`) before they are embedded, so two processes never embed
the same work; a lease of a killed process expires and the work is taken up again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import filelock
from sqlalchemy import Column, DateTime, Table, Text, delete, exists, text
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Field, SQLModel, col, select

from bot.storage.database import Database, Work, upsert_insert

log = logging.getLogger(__name__)


# How long a process's heartbeat counts as live, and how long a lease on pending vectors lasts.
HEARTBEAT_SECONDS = 5.0
LIVE_AFTER_SECONDS = 30.0
LEASE_SECONDS = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class WriterLockRow(SQLModel, table=True):
    """Who holds a knowledge base's lock (`writer`: the record phase; `embedder`: the background worker)."""

    __tablename__ = "writer_lock"

    name: str = Field(primary_key=True)
    epoch: int = Field(default=0, description="How often the lock was taken: a jump means another writer wrote.")
    pid: int | None = None
    host: str | None = None
    command: str | None = Field(default=None, sa_column=Column(Text))
    since: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ProcessHeartbeat(SQLModel, table=True):
    """A live process working on this knowledge base, beating every few seconds (see `alignbot status`)."""

    __tablename__ = "process_heartbeat"

    id: str = Field(primary_key=True, description="host:pid:role")
    pid: int
    host: str
    role: str
    command: str = Field(sa_column=Column(Text, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beat_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    generation_seen: int | None = Field(default=None, description="The knowledge-base generation it has loaded.")


class VectorClaim(SQLModel, table=True):
    """A lease on one work's pending vector: the owner embeds it; nobody else does until the lease expires."""

    __tablename__ = "vector_claim"

    work_id: str = Field(primary_key=True)
    owner: str = Field(index=True)
    expires_at: float = Field(description="Unix time the lease ends.")


def identity() -> dict[str, Any]:
    """This process as lock holders and heartbeats name it."""
    command = " ".join(shlex.quote(arg) for arg in [Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    return {"pid": os.getpid(), "host": socket.gethostname(), "command": command[:500]}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class KnowledgeBaseLock:
    """One named lock per knowledge base, across threads and processes; re-entrant within a thread.

    PostgreSQL: a session advisory lock on a connection kept while it is held. SQLite: a lock file beside the
    database file. In-memory SQLite has one process: only the thread lock.
    """

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._connection: Connection | None = None
        self.epoch = 0  # of this process's latest acquisition
        self.postgres = db.engine.dialect.name == "postgresql"
        # A positive 63-bit key: pg_locks shows it as two unsigned halves (classid, objid).
        digest = hashlib.blake2b(f"alignbot:{name}".encode(), digest_size=8).digest()
        self._key = int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF
        path = make_url(db.url).database if not self.postgres else None
        self._file = (
            filelock.FileLock(f"{path}.{name}.lock", thread_local=False) if path and path != ":memory:" else None
        )

    # --- the process-wide lock -------------------------------------------------------------------

    def _try_process_lock(self) -> bool:
        if self.postgres:
            if self._connection is None:
                self._connection = self.db.engine.connect()
            got = bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            self._connection.commit()
            if not got:
                self._connection.close()
                self._connection = None
            return got
        if self._file is None:
            return True
        try:
            self._file.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def _release_process_lock(self) -> None:
        if self.postgres and self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                connection.commit()
                connection.close()
            except Exception:  # a dead connection has released the lock with its session
                connection.invalidate()
        elif self._file is not None and self._file.is_locked:
            self._file.release()

    def _record(self, holder: dict[str, Any] | None) -> int:
        """Write the holder (None: released) and, when taking the lock, count the acquisition; the new epoch."""
        table = WriterLockRow.__table__  # type: ignore[attr-defined]
        values: dict[str, Any] = holder | {"since": _now()} if holder else {"pid": None, "host": None, "since": None}
        insert = upsert_insert(self.db.engine)
        statement = insert(table).values(name=self.name, epoch=1 if holder else 0, **values)
        updates = {**values, "epoch": table.c.epoch + 1} if holder else values
        statement = statement.on_conflict_do_update(index_elements=["name"], set_=updates)
        with self.db.engine.begin() as connection:
            return int(connection.execute(statement.returning(table.c.epoch)).scalar_one())

    # --- taking it ------------------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Take the lock if it is free now (False: someone else holds it)."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        if self._depth == 0:
            try:
                got = self._try_process_lock()
                if got:
                    self.epoch = self._record(identity())
            except BaseException:
                self._release_process_lock()
                self._thread_lock.release()
                raise
            if not got:
                self._thread_lock.release()
                return False
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                try:
                    with suppress(Exception):  # the record is for operators; the lock itself must go
                        self._record(None)
                finally:
                    self._release_process_lock()
        finally:
            self._thread_lock.release()

    @contextmanager
    def hold(self, poll: float = 0.1) -> Iterator[int]:
        """Wait for the lock (saying once who holds it), yield the epoch of this acquisition, release it.

        Waiting polls, so Ctrl-C or SIGTERM interrupt it at once."""
        waited_since: float | None = None
        while not self.try_acquire():
            if waited_since is None:
                waited_since = time.monotonic()
            elif waited_since and time.monotonic() - waited_since > 1.0:
                log.warning("waiting for the %s lock: %s", self.name, describe(self.holder()) or "held in this process")
                waited_since = 0.0  # said once
            time.sleep(poll)
        try:
            yield self.epoch
        finally:
            self.release()

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock now (pid, host, command, since), or None when it is free."""
        with self.db.session() as session:
            row = session.get(WriterLockRow, self.name)
        if row is None or row.pid is None:
            return None
        holder = {"pid": row.pid, "host": row.host, "command": row.command, "since": _aware(row.since)}
        if self._depth:  # this process holds it
            return holder
        if row.host == socket.gethostname() and not _pid_alive(row.pid):
            return None  # killed while holding it: its lock died with it, the record did not
        if self.postgres:
            held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            held += "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            held += "AND ((classid::bigint << 32) | objid::bigint) = :k"
            with self.db.engine.connect() as connection:
                return holder if connection.execute(text(held), {"k": self._key}).scalar() else None
        return holder


def describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return ""
    since = holder["since"].strftime("%Y-%m-%d %H:%M:%S UTC") if holder.get("since") else "?"
    return f"held by pid {holder['pid']} on {holder['host']} ({holder['command']}) since {since}"


# --- leases on pending vectors --------------------------------------------------------------------


def claim_pending(
    db: Database,
    owner: str,
    limit: int,
    *,
    ids: Sequence[str] | None = None,
    curated_only: bool = False,
    lease: float = LEASE_SECONDS,
    settled: float | None = None,
) -> list[Work]:
    """Lease up to `limit` works needing vectors (among `ids` when given) that nobody else holds a live lease on.

    PostgreSQL skips rows another transaction is claiming (`FOR UPDATE SKIP LOCKED`); on both, inserting the
    lease is what decides: a work leased by two at once goes to one. With `settled`, only works unchanged for
    that many seconds: the background worker leaves a write the moment to lease the works it just stored."""
    now = time.time()
    claims = VectorClaim.__table__  # type: ignore[attr-defined]
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as connection:
        # A write first: on SQLite this takes the write lock (waiting on busy_timeout) before anything is read.
        connection.execute(delete(claims).where(claims.c.expires_at < now))
        _release_dead_owners(connection, claims)
        leased = exists().where(claims.c.work_id == Work.id)
        query = select(Work.id).where(db._stale(curated_only), ~leased).order_by(Work.id).limit(limit)
        if ids is not None:
            query = query.where(col(Work.id).in_(list(ids)))
        if settled is not None:
            query = query.where(Work.updated_at <= _now() - timedelta(seconds=settled))
        if postgres:
            query = query.with_for_update(skip_locked=True, of=Work)  # type: ignore[arg-type]
        candidates = list(connection.execute(query).scalars())
        if not candidates:
            return []
        insert = upsert_insert(db.engine)
        statement = insert(claims).values(
            [{"work_id": w, "owner": owner, "expires_at": now + lease} for w in candidates]
        )
        statement = statement.on_conflict_do_nothing(index_elements=["work_id"]).returning(claims.c.work_id)
        won = set(connection.execute(statement).scalars())
    return [work for work_id, work in sorted(db.works(sorted(won)).items())]


def _release_dead_owners(connection: Connection, claims: Table) -> None:
    """Leases of a process on this host that is gone (killed mid-batch) are free now, not when they expire: a
    resumed `alignbot ingest` embeds everything, not all but the killed run's last batch. Owners are
    `host:pid:nonce` (bot.ingest.vectorize.new_owner)."""
    host = socket.gethostname()
    owners = connection.execute(select(claims.c.owner).distinct().where(claims.c.owner.like(f"{host}:%"))).scalars()
    dead = [owner for owner in owners if not _pid_alive(int(owner.rsplit(":", 2)[1]))]
    if dead:
        connection.execute(delete(claims).where(claims.c.owner.in_(dead)))


def renew_claims(db: Database, owner: str, lease: float = LEASE_SECONDS) -> None:
    """Extend `owner`'s leases: a batch encoding slowly (a loaded machine) keeps its works."""
    claims = VectorClaim.__table__  # type: ignore[attr-defined]
    with db.engine.begin() as connection:
        connection.execute(claims.update().where(claims.c.owner == owner).values(expires_at=time.time() + lease))


def release_claims(db: Database, owner: str, ids: Sequence[str] | None = None) -> None:
    claims = VectorClaim.__table__  # type: ignore[attr-defined]
    statement = delete(claims).where(claims.c.owner == owner)
    if ids is not None:
        statement = statement.where(claims.c.work_id.in_(list(ids)))
    with db.engine.begin() as connection:
        connection.execute(statement)


# --- heartbeats -----------------------------------------------------------------------------------


def beat(db: Database, role: str, generation_seen: int | None, started_at: datetime) -> None:
    me = identity()
    table = ProcessHeartbeat.__table__  # type: ignore[attr-defined]
    values = {"beat_at": _now(), "generation_seen": generation_seen, "command": me["command"]}
    insert = upsert_insert(db.engine)
    statement = insert(table).values(
        id=f"{me['host']}:{me['pid']}:{role}",
        pid=me["pid"],
        host=me["host"],
        role=role,
        started_at=started_at,
        **values,
    )
    with db.engine.begin() as connection:
        connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


def forget(db: Database, role: str) -> None:
    me = identity()
    with db.engine.begin() as connection:
        connection.execute(
            delete(ProcessHeartbeat.__table__).where(  # type: ignore[attr-defined]
                ProcessHeartbeat.__table__.c.id == f"{me['host']}:{me['pid']}:{role}"  # type: ignore[attr-defined]
            )
        )


def live_processes(db: Database, within: float = LIVE_AFTER_SECONDS) -> list[ProcessHeartbeat]:
    """Processes that beat within `within` seconds; older rows (killed processes) are dropped."""
    cutoff = _now() - timedelta(seconds=within)
    with db.engine.begin() as connection:
        connection.execute(delete(ProcessHeartbeat.__table__).where(ProcessHeartbeat.__table__.c.beat_at < cutoff))  # type: ignore[attr-defined]
    with db.session() as session:
        rows = list(session.exec(select(ProcessHeartbeat).order_by(col(ProcessHeartbeat.started_at))).all())
    for row in rows:
        row.started_at, row.beat_at = _aware(row.started_at), _aware(row.beat_at)  # type: ignore[assignment]
    return rows


class Heartbeat:
    """Beats for this process in a daemon thread until stopped; `generation_seen()` is read on every beat."""

    def __init__(self, db: Database, role: str, generation_seen: Any = lambda: None) -> None:
        self.db, self.role, self.generation_seen = db, role, generation_seen
        self.started_at = _now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{role}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                beat(self.db, self.role, self.generation_seen(), self.started_at)
            except Exception as exc:  # a database restart must not end the process it describes
                log.debug("heartbeat failed: %s", exc)
            self._stop.wait(HEARTBEAT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        with suppress(Exception):
            forget(self.db, self.role)
