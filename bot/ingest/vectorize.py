"""Phase 2 of ingestion: vectors for works whose vector is missing or stale, leased so no work is embedded twice.

Whoever embeds (a write embedding what it stored, `alignbot ingest`, the background worker) leases a batch
through the database first (`bot.storage.coordination.claim_pending`), embeds it, upserts the vectors into
Chroma and marks the works. A lease of a killed process expires and its works are leased again.

Encoding runs in a helper thread the caller waits on in short steps, so Ctrl-C or SIGTERM (and a worker's stop
event) end the wait at once rather than after the batch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot.domain import IngestReport
from bot.embedding import Embedder
from bot.retrieval.corpus import embedding_text
from bot.storage import Database, VectorStore, VectorStoreUnavailable
from bot.storage.coordination import LEASE_SECONDS, KnowledgeBaseLock, claim_pending, release_claims, renew_claims

log = logging.getLogger(__name__)

# Leased, encoded (sorted by token count, bot.embedding) and stored together. Most texts reach the 128-token cut,
# so a bigger batch pads hardly less, and would keep the progress bar and an interrupted run's loss coarser.
VECTOR_BATCH = 128
WORKER_BATCH = 32  # small: the background worker lets readers in between batches
SETTLED_SECONDS = 5.0  # the worker leaves works this fresh to the write that stored them (see claim_pending)

# progress(phase, advanced_by, total_or_None)
Progress = Callable[[str, int, int | None], None]
T = TypeVar("T")


class Stopped(Exception):
    """The stop event was set while a batch was being encoded."""


# Set by the CLI's SIGTERM handler (bot.processes.stop_on_sigterm), which then raises KeyboardInterrupt. When the
# signal lands inside a finalizer (a garbage-collection callback) Python prints "Exception ignored in" and the
# interrupt is lost, so the embedding loops raise it again from plain code at their next step.
TERMINATING = threading.Event()


def _raise_if_terminating() -> None:
    if TERMINATING.is_set():
        raise KeyboardInterrupt


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def interruptible(
    function: Callable[..., T],
    *args: Any,
    stop: threading.Event | None = None,
    every: tuple[float, Callable[[], None]] | None = None,
) -> T:
    """`function(*args)` in a daemon thread, waited on in steps: a signal handler raising in the waiting (main)
    thread, or `stop`, ends the wait at once; the abandoned call finishes or dies with the process.
    `every=(seconds, tick)` calls `tick` that often while waiting."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="encode", daemon=True).start()
    last_tick = time.monotonic()
    while not done.wait(0.1):
        _raise_if_terminating()
        if stop is not None and stop.is_set():
            raise Stopped
        if every is not None and time.monotonic() - last_tick > every[0]:
            every[1]()
            last_tick = time.monotonic()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def encoding_in_flight() -> bool:
    """Whether an encoding batch (maybe one abandoned by an interrupt) is still running in this process."""
    return any(thread.name == "encode" and thread.is_alive() for thread in threading.enumerate())


def embed_pending(
    db: Database,
    vectors: VectorStore,
    embedder: Embedder,
    report: IngestReport,
    progress: Progress | None = None,
    curated_only: bool = False,
    *,
    ids: Sequence[str] | None = None,
    batch_size: int | None = None,
    stop: threading.Event | None = None,
    pause: Callable[[float], None] | None = None,
    settled: float | None = None,
) -> None:
    """Embed works needing vectors (only `ids` when given), a leased batch at a time, until none is left that
    another process does not hold. `pause(seconds_the_batch_took)` runs between batches; `settled`: see
    `claim_pending`."""
    progress = progress or (lambda _phase, _advance, _total: None)
    total = db.count_needing_vectors(curated_only) if ids is None else len(ids)
    progress("embedding", 0, total)
    owner = new_owner()
    try:
        while not (stop is not None and stop.is_set()):
            _raise_if_terminating()
            size = batch_size or VECTOR_BATCH
            batch = claim_pending(db, owner, size, ids=ids, curated_only=curated_only, settled=settled)
            if not batch:
                return
            started = time.monotonic()
            texts = [embedding_text(w) for w in batch]
            renew = (LEASE_SECONDS / 3, lambda: renew_claims(db, owner))  # slow batches keep their works
            embeddings = interruptible(embedder.encode, texts, stop=stop, every=renew)
            vectors.upsert([w.id for w in batch], embeddings)
            db.mark_vectors({w.id: w.text_hash for w in batch})
            release_claims(db, owner, [w.id for w in batch])
            report.embedded += len(batch)
            progress("embedding", len(batch), total)
            if pause is not None:
                pause(time.monotonic() - started)
    finally:
        release_claims(db, owner)  # leases of an interrupted batch: free for others now, not when they expire


def repair(db: Database, vectors: VectorStore) -> dict[str, int]:
    """Make Chroma agree with the database (the source of truth) after a crash or a lost server.

    Vectors of unknown works are deleted; works marked as embedded whose vector is gone are unmarked so they
    are embedded again. Vectors are upserted before works are marked, so a concurrent embedder never looks lost.
    """
    marked = db.vector_marked_ids()
    if vectors.count() == len(marked):
        return {"deleted_vectors": 0, "unmarked_works": 0}
    stored = vectors.all_ids()
    known = set(db.works(sorted(stored - marked)))
    orphans = sorted(stored - marked - known)
    lost = sorted(marked - stored)
    vectors.delete(orphans)
    db.clear_vector_marks(lost)
    if orphans or lost:
        log.warning("repaired stores: %d orphan vectors deleted, %d works to re-embed", len(orphans), len(lost))
    return {"deleted_vectors": len(orphans), "unmarked_works": len(lost)}


class EmbeddingWorker:
    """The knowledge base's one background embedder: embeds what writes left pending, in small batches.

    Every process may start one; the `embedder` lock makes one of them work and the others stand by, taking
    over when it ends (its lock dies with it). Between batches it sleeps half as long as the batch took, so
    readers sharing the CPU keep answering while a large backlog is embedded.
    """

    def __init__(
        self,
        db: Database,
        vectors: Callable[[], VectorStore],
        embedder: Embedder,
        *,
        batch_size: int = WORKER_BATCH,
        idle_seconds: float = 2.0,
    ) -> None:
        self.db, self.vectors, self.embedder = db, vectors, embedder
        self.batch_size, self.idle_seconds = batch_size, idle_seconds
        self.report = IngestReport()  # what this worker embedded, counted batch by batch
        self.stop_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedding-worker", daemon=True)

    def start(self) -> EmbeddingWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        self.stop_event.set()
        self._thread.join(timeout)

    def _pause(self, batch_seconds: float) -> None:
        self.stop_event.wait(max(0.05, batch_seconds / 2))

    @property
    def embedded(self) -> int:
        return self.report.embedded

    def run_once(self) -> int:
        """Embed everything pending now (leased batch by batch); how many works were embedded."""
        before = self.report.embedded
        embed_pending(
            self.db,
            self.vectors(),
            self.embedder,
            self.report,
            batch_size=self.batch_size,
            stop=self.stop_event,
            pause=self._pause,
            settled=SETTLED_SECONDS,
        )
        return self.report.embedded - before

    def _run(self) -> None:
        lock = KnowledgeBaseLock(self.db, "embedder")
        while not self.stop_event.is_set():
            try:
                if not lock.try_acquire():
                    self.stop_event.wait(self.idle_seconds * 2)  # another process is the worker
                    continue
            except Exception as exc:
                log.warning("embedding worker: %s", exc)
                self.stop_event.wait(self.idle_seconds)
                continue
            try:
                while not self.stop_event.is_set():
                    if not (self.db.count_needing_vectors() and self.run_once()):
                        self.stop_event.wait(self.idle_seconds)
            except Stopped:
                return
            except VectorStoreUnavailable as exc:
                log.warning("embedding worker: %s; retrying", exc)
                self.stop_event.wait(self.idle_seconds * 5)
            except Exception:
                log.exception("embedding worker failed; retrying")
                self.stop_event.wait(self.idle_seconds * 5)
            finally:
                lock.release()
