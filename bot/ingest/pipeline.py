"""Ingestion in two resumable phases.

1. Records: parse files, merge records of the same work (arXiv id without version, DOI, forum post,
   URL, normalised title; field rules in `bot.ingest.merge`), store them with a per-file checkpoint in the
   same transaction. Fast, so lexical search works on a large knowledge base within seconds of starting.
   Every batch is stored under the knowledge base's writer lock, so writers in other processes never
   insert the same work twice.
2. Vectors: embed works whose vector is missing or stale (`bot.ingest.vectorize`).

Interrupting either phase loses nothing stored: the next run skips checkpointed lines and embeds
only what still lacks a vector.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from bot.domain import Conflict, IngestReport, Origin, WorkRecord
from bot.identifiers import normalize_text, normalize_title, work_keys
from bot.ingest.merge import (  # noqa: F401 - re-exported: callers import the merge rules from here
    CURATED_FIELDS,
    FACT_FIELDS,
    PROVENANCE_FIELDS,
    _same,
    default_origin,
    merge_into,
    merge_record,
    new_work,
    text_hash,
)
from bot.ingest.parsers import ParseError, parse_path
from bot.storage import Database, IngestCheckpoint, Work, WorkConflict
from bot.storage.coordination import KnowledgeBaseLock

RECORD_BATCH = 1000

# progress(phase, advanced_by, total_or_None)
Progress = Callable[[str, int, int | None], None]


def _no_progress(_phase: str, _advance: int, _total: int | None) -> None:
    return None


def file_fingerprint(path: Path) -> str:
    """Size plus a hash of the first MiB: cheap, and changes when the file is replaced or edited."""
    digest = hashlib.blake2b(digest_size=12)
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
    return f"{path.stat().st_size}:{digest.hexdigest()}"


def count_lines(path: Path) -> int:
    """Lines for the progress bar; a damaged .gz counts up to the damage (the parser reports it)."""
    opener = gzip.open if path.suffix == ".gz" else open
    lines = 0
    with opener(path, "rb") as handle, contextlib.suppress(OSError, EOFError, zlib.error):
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return lines


def record_keys(record: WorkRecord) -> list[str]:
    return work_keys(work_id=record.id, arxiv_id=record.arxiv_id, doi=record.doi, url=record.url, title=record.title)


def new_work_id(record: WorkRecord, taken: dict[str, str]) -> str:
    """The id a new work of `record` gets: its best identifier, suffixed if a different work holds it."""
    if record.arxiv_id:
        candidate = f"arxiv:{record.arxiv_id}"
    elif record.id:
        candidate = record.id
    elif record.doi:
        candidate = f"doi:{record.doi}"
    elif record.url:
        candidate = f"url:{record.url}"
    else:
        candidate = f"title:{text_hash(normalize_title(record.title))}"
    # An id taken by a different work (inconsistent sources) gets a suffix rather than a silent merge.
    work_id, n = candidate, 1
    while f"id:{work_id}" in taken:
        n += 1
        work_id = f"{candidate}#{n}"
    return work_id


class RecordMerger:
    """Merges batches of records into the database, keeping the key map in memory for speed.

    `store(..., origin=…)` says where the records come from (the curated list and its file, another file,
    an API fetch or enrichment, an HTTP API token); without one, each record's own `curated` and `source`.
    Changes refused to protect curated works are stored as conflicts and listed in the report.

    Each batch is merged and stored under `lock` (the knowledge base's writer lock). When another writer
    took it since this merger's last batch, the cached key map and curated names are reloaded first.
    """

    def __init__(self, db: Database, lock: KnowledgeBaseLock | None = None) -> None:
        self.db = db
        self.lock = lock or KnowledgeBaseLock(db, "writer")
        self._epoch: int | None = None

    def forget(self) -> None:
        """Drop what is cached; it is loaded again, as stored now, on next use."""
        self.__dict__.pop("keys", None)
        self.__dict__.pop("curated_names", None)

    # Loaded on first use: an unchanged reading list (checked on every start) never needs them.
    @cached_property
    def keys(self) -> dict[str, str]:
        return self.db.key_map()

    @cached_property
    def curated_names(self) -> dict[str, str]:
        return self.db.curated_names()

    def _claims(self, record: WorkRecord, origin: Origin, work_id: str | None) -> tuple[WorkRecord, list[Conflict]]:
        """The record without aliases that name a different curated work (they would make its citations
        ambiguous), and a conflict for each."""
        if origin.kind == "curated" or not record.aliases:
            return record, []
        target = work_id or new_work_id(record, self.keys)
        kept, conflicts = [], []
        for alias in record.aliases:
            holder = self.curated_names.get(normalize_text(alias))
            if holder is None or holder == target:
                kept.append(alias)
            else:
                conflicts.append(
                    Conflict(
                        work_id=holder,
                        target_id=target,
                        field="aliases",
                        stored=None,
                        proposed=alias,
                        origin=origin,
                        reason=f"the name belongs to curated work {holder}; the write was for {target}",
                        at=datetime.now(UTC),
                    )
                )
        return (record.model_copy(update={"aliases": kept}) if conflicts else record), conflicts

    def _remember_names(self, work: Work) -> None:
        if work.curated:
            for name in [work.title, *work.aliases]:
                self.curated_names.setdefault(normalize_text(name), work.id)

    def store(
        self,
        records: list[WorkRecord],
        report: IngestReport,
        checkpoint: IngestCheckpoint | None = None,
        *,
        origin: Origin | None = None,
        written: set[str] | None = None,
    ) -> None:
        """Merge and store one batch (and `checkpoint`) under the writer lock; the ids of the works it added
        or changed are added to `written`."""
        with self.lock.hold() as epoch:
            if self._epoch is not None and epoch != self._epoch + 1:
                self.forget()  # another writer stored works since our last batch
            self._epoch = epoch
            try:
                stored = self._store(records, report, checkpoint, origin)
            except BaseException:
                self.forget()  # the caches may name works the failed transaction did not store
                raise
        if written is not None:
            written.update(stored)

    def _store(
        self,
        records: list[WorkRecord],
        report: IngestReport,
        checkpoint: IngestCheckpoint | None,
        origin: Origin | None,
    ) -> set[str]:
        wanted = {self.keys[k] for r in records for k in record_keys(r) if k in self.keys}
        existing = self.db.works(sorted(wanted))
        created: dict[str, Work] = {}
        changed: dict[str, Work] = {}
        new_keys: dict[str, str] = {}
        conflicts: dict[str, Conflict] = {}
        for record in records:
            report.read += 1
            record_origin = origin or default_origin(record)
            keys = record_keys(record)
            work_id = next((self.keys[k] for k in keys if k in self.keys), None)
            record, refused = self._claims(record, record_origin, work_id)
            if work_id is None:
                work_id = new_work_id(record, self.keys)
                created[work_id] = new_work(record, work_id, record_origin)
                self._remember_names(created[work_id])
                keys = [*keys, f"id:{work_id}"]
                report.added += 1
            else:
                current = created.get(work_id) or changed.get(work_id) or existing[work_id]
                merged, kept_out = merge_record(current, record, record_origin)
                refused += kept_out
                # Keys of refused values (a title or DOI the curated work does not have) must not lead to it.
                dropped = {f"doi:{record.doi}"} if any(c.field == "doi" for c in kept_out) else set()
                if any(c.field == "title" for c in kept_out):
                    dropped |= {k for k in keys if k.startswith("title:")}
                if any(c.field == "url" for c in kept_out):
                    dropped |= {k for k in keys if k.startswith(("url:", "post:"))}
                keys = [k for k in keys if k not in dropped]
                if _same(current, merged):
                    report.unchanged += 1
                else:
                    merged.updated_at = datetime.now(UTC)
                    (created if work_id in created else changed)[work_id] = merged
                    self._remember_names(merged)
                    report.merged += 1
            for conflict in refused:
                conflicts.setdefault(_conflict_key(conflict), conflict)
            for key in keys:
                if key not in self.keys:
                    self.keys[key] = work_id
                    new_keys[key] = work_id
        report.conflicts += conflicts.values()
        known = self.db.conflict_keys(list(conflicts)) if conflicts else set()
        rows = [WorkConflict.of(key, conflict) for key, conflict in conflicts.items() if key not in known]
        self.db.write_batch(created.values(), changed.values(), new_keys.items(), checkpoint, conflicts=rows)
        return {*created, *changed}


def _conflict_key(conflict: Conflict) -> str:
    """The same refused change from the same origin is one conflict, however often it is sent."""
    what = json.dumps([conflict.work_id, conflict.target_id, conflict.field, conflict.origin.label, conflict.proposed])
    return hashlib.blake2b(what.encode("utf-8"), digest_size=16).hexdigest()


def _batched(items: Iterator[tuple[int, WorkRecord | ParseError]], size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_file(
    db: Database,
    merger: RecordMerger,
    path: Path,
    report: IngestReport,
    *,
    force: bool = False,
    curated: bool = False,
    on_error: Callable[[ParseError], None] = lambda _e: None,
    progress: Progress | None = None,
    written: set[str] | None = None,
) -> None:
    """Phase 1 for one file, resuming from its checkpoint unless the file changed. Its records' fields are
    attributed to the file, as the curated list when `curated`; ids of the works stored go to `written`."""
    progress = progress or _no_progress
    source = str(path.resolve())
    origin = Origin(kind="curated" if curated else "file", name=source)
    fingerprint = file_fingerprint(path)
    checkpoint = db.checkpoint(source)
    if checkpoint is None or checkpoint.fingerprint != fingerprint or force:
        checkpoint = IngestCheckpoint(source=source, fingerprint=fingerprint)
    elif checkpoint.complete:
        return
    label = f"reading {path.name}"
    progress(label, 0, count_lines(path))
    progress(label, checkpoint.lines_done, None)
    position = checkpoint.lines_done
    for batch in _batched(parse_path(path, skip=checkpoint.lines_done), RECORD_BATCH):
        records = []
        for _line, item in batch:
            if isinstance(item, ParseError):
                report.errors.append(str(item))
                on_error(item)
            else:
                records.append(item.model_copy(update={"curated": True}) if curated else item)
        checkpoint.lines_done = batch[-1][0]
        merger.store(records, report, checkpoint, origin=origin, written=written)
        progress(label, checkpoint.lines_done - position, None)
        position = checkpoint.lines_done
    checkpoint.complete = True
    merger.store([], report, checkpoint)
