"""Processes sharing a knowledge base, as operators see them: heartbeats, the background embedding worker,
and what `alignbot status` reports (pending vectors, who holds the writer lock, each live process and its
generation lag)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.ingest.vectorize import TERMINATING, EmbeddingWorker, encoding_in_flight
from bot.storage import Database, schema
from bot.storage.coordination import Heartbeat, KnowledgeBaseLock, describe, live_processes
from bot.storage.vectors import describe_vector_store

if TYPE_CHECKING:
    from bot.engine import Engine


def current_generation(db: Database) -> int:
    """The knowledge base's current generation (bot.storage.generation)."""
    return db.generation().value


class Background:
    """What a long-running process runs beside its work: a heartbeat and (unless `embed` is off) the
    knowledge base's embedding worker, which only one process at a time actually runs."""

    def __init__(self, engine: Engine, role: str, *, embed: bool = True) -> None:
        # Each beat first applies other processes' writes, so an idle process is never behind for long.
        self.heartbeat = Heartbeat(engine.db, role, engine.follow_generation)
        self.worker = EmbeddingWorker(engine.db, lambda: engine.vectors, engine.embedder) if embed else None

    def start(self) -> Background:
        self.heartbeat.start()
        if self.worker is not None:
            self.worker.start()
        return self

    def stop(self) -> bool:
        """Stop both; False when an encoding batch is still running (abandoned: see `exit_now`)."""
        if self.worker is not None:
            self.worker.stop()
        self.heartbeat.stop()
        return not encoding_in_flight()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _holder(db: Database, name: str) -> dict[str, Any] | None:
    holder = KnowledgeBaseLock(db, name).holder()
    return holder | {"since": _iso(holder["since"])} if holder else None


def knowledge_base_status(engine: Engine, verify: bool = True) -> dict[str, Any]:
    """`alignbot status --json`. `verify`: open the vector store, repair it against the database and count what
    it holds; otherwise `vectors` is the database's record of the works whose vector is stored (which the repair
    keeps equal to the store's count), read without importing the store's client."""
    db = engine.db
    generation = current_generation(db)
    processes = []
    for row in live_processes(db):
        seen = row.generation_seen
        processes.append(
            {
                "pid": row.pid,
                "host": row.host,
                "role": row.role,
                "command": row.command,
                "started_at": _iso(row.started_at),
                "last_beat": _iso(row.beat_at),
                "generation_seen": seen,
                "generation_lag": generation - seen if seen is not None else None,
            }
        )
    return {
        "works": db.count_works(),
        "vectors": engine.vectors.count() if verify else db.count_vector_marked(),
        "vectors_verified": verify,
        "pending_vectors": db.count_needing_vectors(),
        "database": db.engine.url.render_as_string(hide_password=True),
        "schema": schema.current_revision(db.engine),
        # which vector store, and where
        **(engine.vectors.describe() if verify else describe_vector_store(engine.settings)),
        "embedding_model": engine.embedder.name,
        "generation": generation,
        "writer_lock": _holder(db, "writer"),
        "embedding_worker": _holder(db, "embedder"),
        "processes": processes,
    }


def status_lines(info: dict[str, Any]) -> list[str]:
    """`alignbot status` as text: one line per figure, one per live process."""
    lines = []
    for key, value in info.items():
        if key in ("writer_lock", "embedding_worker"):
            since = datetime.fromisoformat(value["since"]) if value and value["since"] else None
            value = describe(value | {"since": since}) if value else "free" if key == "writer_lock" else "none"
        elif key == "processes":
            continue
        elif key == "works" and value == 0:
            value = "0 (empty: `alignbot ingest` loads the bundled reading list)"
        lines.append(f"{key:16} {value}")
    lines.append(f"{'processes':16} {len(info['processes'])} live")
    for process in info["processes"]:
        lag = process["generation_lag"]
        lines.append(
            f"  {process['role']:12} pid {process['pid']} on {process['host']}, last beat {process['last_beat']}"
            f"{f', generation lag {lag}' if lag is not None else ''}: {process['command']}"
        )
    return lines


def stop_on_sigterm(code: int, notice: str, grace: float = 1.0) -> None:
    """SIGTERM stops the command as Ctrl-C does (KeyboardInterrupt: after the last stored batch), and in any
    case within `grace` seconds: whatever is in flight is a transaction, so nothing stored is lost. Past the
    grace the command still reports an interruption (`notice` on stderr, exit `code`), as the clean path does:
    a loaded machine can take longer than the grace to unwind, and the outcome is the same."""

    def give_up() -> None:
        sys.stderr.write(f"\n{notice}\n")
        exit_now(code)

    def handler(_signum: int, _frame: Any) -> None:
        TERMINATING.set()
        timer = threading.Timer(grace, give_up)
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    default_unraisable = sys.unraisablehook

    def unraisable(info: Any) -> None:
        # The interrupt can land in a finalizer (a weakref callback during garbage collection), where Python
        # prints "Exception ignored in … Traceback" and swallows it; the command raises it again from plain code
        # (TERMINATING, bot.ingest.vectorize), so that print would only alarm.
        if TERMINATING.is_set() and isinstance(info.exc_value, KeyboardInterrupt):
            return
        default_unraisable(info)

    sys.unraisablehook = unraisable
    signal.signal(signal.SIGTERM, handler)


def exit_now(code: int) -> None:
    """Exit with `code` now (output flushed; everything stored is committed): the interpreter's teardown would
    wait for an abandoned encoding batch to finish, past the 2 s a stopping process has."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def leave_if_terminated(code: int) -> None:
    """After SIGTERM, `exit_now(code)`."""
    if TERMINATING.is_set():
        exit_now(code)
