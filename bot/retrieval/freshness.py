"""One process's corpus index kept at the knowledge base's generation, whoever writes.

Before serving a read, `current` compares the generation the index shows with the database's (one
primary-key read, at most every `poll_seconds`, at once after this process's own write) and applies the
works changed since: milliseconds for a few works. While one thread updates, the others keep reading the
index they had; a rebuild (the first load, a large or pruned change log) never blocks readers once there is
an index to serve.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.retrieval.corpus import CorpusIndex
from bot.storage import Database

POLL_SECONDS = 2.0


class FollowedCorpus:
    def __init__(self, db: Database, path: Path, poll_seconds: float = POLL_SECONDS) -> None:
        self.db = db
        self.path = path
        self.poll_seconds = poll_seconds
        self._index: CorpusIndex | None = None
        self._checked_at = float("-inf")
        self._due = False
        self._updating = False
        self._lock = threading.Lock()

    @property
    def generation_seen(self) -> int | None:
        """The generation of the index this process serves; None before it loaded one."""
        index = self._index
        return index.generation if index is not None else None

    def stale(self) -> None:
        """This process wrote: the next read checks the generation without waiting for the poll."""
        self._due = True

    def follow(self) -> int | None:
        """Bring a loaded index to the database's generation now, whatever the poll (a heartbeat calls this, so
        an idle process is current before its next read); returns the generation seen."""
        if self._index is not None:
            self.stale()
            self.current()
        return self.generation_seen

    def current(self) -> CorpusIndex:
        with self._lock:
            index = self._index
            if index is None:  # nothing to serve yet: every reader waits for the first load
                self._index = CorpusIndex.load_or_build(self.db, self.path)
                self._checked_at = time.monotonic()
                return self._index
            due = self._due or time.monotonic() - self._checked_at >= self.poll_seconds
            if self._updating or not due:
                return index
            self._updating, self._due = True, False
        try:
            followed = index.follow(self.db)
            if followed is not index and followed.full.delta_size == 0:
                followed.save(self.path)  # rebuilt: the next process to start loads it as is
        finally:
            with self._lock:
                self._updating = False
                self._checked_at = time.monotonic()
        with self._lock:
            if self._index is index:
                self._index = followed
            return self._index
