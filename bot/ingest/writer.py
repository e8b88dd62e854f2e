"""The engine's write path: store records under the writer lock, then embed only what this write stored.

Every writer (file ingest, `sync`, `enrich`, `fetch`, `POST /v1/papers`, the reading list at start) goes
through `KnowledgeWriter.write`. The record phase is serialised per batch across processes (see
`RecordMerger`); embedding is bounded by the write: a request embeds the works it stored, and whatever else is
pending is left to the background worker (`bot.ingest.vectorize.EmbeddingWorker`) or `alignbot ingest`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from bot.domain import IngestReport
from bot.embedding import Embedder
from bot.ingest.parsers import ParseError
from bot.ingest.pipeline import RecordMerger, ingest_file
from bot.ingest.vectorize import Progress, embed_pending
from bot.storage import Database, VectorStore, VectorStoreUnavailable
from bot.storage.coordination import KnowledgeBaseLock

log = logging.getLogger(__name__)

# store(merger, report, written ids): the record phase of one write.
Store = Callable[[RecordMerger, IngestReport, set[str]], object]
# What a write embeds: what it stored; every pending work (`alignbot ingest`); curated pending works (the
# reading list on every start: a large interrupted ingest is not finished by whatever command opens next).
EmbedScope = Literal["stored", "all", "curated", "none"]


class KnowledgeWriter:
    def __init__(
        self, db: Database, vectors: Callable[[], VectorStore], embedder: Embedder, on_change: Callable[[], None]
    ) -> None:
        self.db, self.vectors, self.embedder = db, vectors, embedder
        self.on_change = on_change  # readers' indexes are stale
        self.lock = KnowledgeBaseLock(db, "writer")
        # One merger for the process: its key map stays loaded between writes and is reloaded only when
        # another process wrote in between (the lock's epoch says so).
        self.merger = RecordMerger(db, self.lock)

    def ingest_files(
        self,
        paths: Iterable[Path],
        *,
        force: bool,
        curated: bool,
        progress: Progress | None,
        on_error: Callable[[ParseError], None],
        embed: bool,
    ) -> IngestReport:
        """Files, each resumed from its checkpoint; then every pending vector is embedded (curated ones only when
        loading the reading list)."""

        def read_files(merger: RecordMerger, report: IngestReport, written: set[str]) -> None:
            for path in paths:
                ingest_file(
                    self.db,
                    merger,
                    Path(path),
                    report,
                    force=force,
                    curated=curated,
                    on_error=on_error,
                    progress=progress,
                    written=written,
                )

        return self.write(read_files, ("curated" if curated else "all") if embed else "none", progress)

    def write(self, store: Store, embed: EmbedScope, progress: Progress | None = None) -> IngestReport:
        """Store records, let readers see them, then embed as `embed` says.

        KeyboardInterrupt (Ctrl-C, or SIGTERM in the CLI) stops after the last stored batch; the report says
        `interrupted` and the next call resumes."""
        report = IngestReport()
        written: set[str] = set()
        try:
            store(self.merger, report, written)
            self.on_change()  # lexical search sees the new works while they are being embedded
            if embed == "all":
                # Opening the store repairs it first, so vectors lost with it (a Chroma directory moved aside,
                # a server back empty) count as pending.
                _ = self.vectors()
            if embed == "stored" and written:
                embed_pending(self.db, self.vectors(), self.embedder, report, progress, ids=sorted(written))
            elif embed in ("all", "curated") and self.db.count_needing_vectors(embed == "curated"):
                embed_pending(self.db, self.vectors(), self.embedder, report, progress, embed == "curated")
        except VectorStoreUnavailable as exc:
            # The records are stored; their vectors follow with the worker or `alignbot ingest`.
            log.warning("%s: embedding postponed", exc)
            report.embedding_error = str(exc)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            self.on_change()
        return report
