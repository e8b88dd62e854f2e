"""Ingestion in two resumable phases.

1. Records: parse files, merge records of the same work (arXiv id without version, DOI, forum post,
   URL, normalised title), store them with a per-file checkpoint in the same transaction. Fast, so
   lexical search works on a large knowledge base within seconds of starting.
2. Vectors: embed every work whose vector is missing or stale and upsert it into Chroma, then mark it
   in the database. Encoding (torch, which releases the GIL) overlaps with storing the previous batch.

Interrupting either phase loses nothing stored: the next run skips checkpointed lines and embeds
only what still lacks a vector.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from bot.domain import PUBLIC_ORIGINS, Conflict, IngestReport, Origin, WorkRecord
from bot.embedding import Embedder
from bot.identifiers import canonical_url, normalize_arxiv_id, normalize_text, normalize_title, surname, work_keys
from bot.ingest.parsers import ParseError, parse_path
from bot.retrieval.corpus import embedding_text
from bot.storage import Database, IngestCheckpoint, VectorStore, Work, WorkConflict

RECORD_BATCH = 1000
VECTOR_BATCH = 256

# progress(phase, advanced_by, total_or_None)
Progress = Callable[[str, int, int | None], None]


def _no_progress(_phase: str, _advance: int, _total: int | None) -> None:
    return None


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


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


def _union(existing: list[str], extra: Iterable[str | None]) -> list[str]:
    merged = list(existing)
    seen = {x.lower() for x in merged}
    for item in extra:
        if item and item.lower() not in seen:
            merged.append(item)
            seen.add(item.lower())
    return merged


def default_origin(record: WorkRecord) -> Origin:
    """The origin of a record handed over without one: the curated list if it says so, else untrusted records."""
    return Origin(kind="curated" if record.curated else "records", name=record.source or "unknown")


def _provenance(origin: Origin, at: datetime) -> dict[str, str]:
    return {"kind": origin.kind, "name": origin.name, "at": at.isoformat()}


def new_work(record: WorkRecord, work_id: str, origin: Origin | None = None) -> Work:
    origin = origin or default_origin(record)
    work = Work(
        id=work_id,
        kind=record.kind,
        title=record.title,
        authors=list(record.authors),
        year=record.year,
        abstract=record.abstract,
        summary=record.summary,
        url=record.url,
        venue=record.venue,
        arxiv_id=record.arxiv_id,
        doi=record.doi,
        aliases=_union([], record.aliases),
        topics=_union([], record.topics),
        sources=[record.source] if record.source else [],
        curated=origin.kind == "curated",
    )
    now = datetime.now(UTC)
    work.provenance = {f: _provenance(origin, now) for f in PROVENANCE_FIELDS if getattr(work, f) not in _EMPTY}
    work.text_hash = text_hash(embedding_text(work))
    return work


# What the curated list says about a work and nobody else may change on a curated work.
CURATED_FIELDS = ("title", "summary", "aliases", "topics", "kind")
# Bibliographic facts: the curated list (checked against public records) sets them; other sources fill gaps.
FACT_FIELDS = ("year", "url", "venue", "doi", "arxiv_id")
PROVENANCE_FIELDS = (*CURATED_FIELDS, *FACT_FIELDS, "authors", "abstract")
_EMPTY: tuple[object, ...] = (None, "", [])
_ONLY_CURATED = "a curated work's value is changed only by the curated list"


def _equivalent(field: str, stored: object, proposed: object) -> bool:
    if not isinstance(stored, str) or not isinstance(proposed, str):
        return False
    if field == "url":
        arxiv = normalize_arxiv_id(stored)
        return canonical_url(stored) == canonical_url(proposed) or (
            arxiv is not None and arxiv == normalize_arxiv_id(proposed)
        )
    a, b = normalize_text(stored), normalize_text(proposed)
    if field == "title":  # the short title before the subtitle is the same title
        return a.startswith(b) or b.startswith(a)
    return a == b or (field == "venue" and (a in b or b in a))


def _covers(longer: list[str], shorter: list[str]) -> bool:
    """Whether `longer` names everyone in `shorter` (by surname): a completion of it, not another list."""
    remaining = [surname(a) for a in longer]
    for author in shorter:
        name = surname(author)
        if name not in remaining:
            return False
        remaining.remove(name)
    return True


class _FieldMerge:
    """One record merged into a copy of a work, field by field, noting who set what and what was refused."""

    def __init__(self, work: Work, record: WorkRecord, origin: Origin) -> None:
        self.work = work.model_copy(deep=True)
        self.record = record
        self.origin = origin
        self.curated = origin.kind == "curated"
        # A write that is neither our list nor a public bibliographic record may not change a curated work.
        self.guarded = work.curated and not self.curated and origin.kind not in PUBLIC_ORIGINS
        self.now = datetime.now(UTC)
        self.conflicts: list[Conflict] = []
        self.changed = False

    def set(self, field: str, value: object) -> None:
        self.changed = True
        setattr(self.work, field, value)
        self.work.provenance = {**self.work.provenance, field: _provenance(self.origin, self.now)}

    def refuse(self, field: str, proposed: object, reason: str) -> None:
        stored = getattr(self.work, field)
        if _equivalent(field, stored, proposed):
            return  # another spelling of what we have (title casing, a versioned arXiv link): nothing to review
        self.conflicts.append(
            Conflict(
                work_id=self.work.id,
                field=field,
                stored=stored,
                proposed=proposed,
                origin=self.origin,
                reason=reason,
                at=self.now,
            )
        )

    def offer(self, field: str, value: object, *, wins: bool) -> None:
        """Set `field` when this origin wins it or it is empty; a guarded write that would change it is refused."""
        current = getattr(self.work, field)
        if value in _EMPTY:
            return
        if value == current:
            owner = self.work.provenance.get(field, {})
            if self.curated and owner.get("kind") != "curated":
                self.set(field, value)  # the same value, now vouched for by the curated list
            return
        fills_gap = current in _EMPTY and not (self.guarded and field in CURATED_FIELDS)
        if wins or fills_gap:
            self.set(field, value)
        elif self.guarded:
            self.refuse(field, value, _ONLY_CURATED)

    def authors(self) -> None:
        """The most complete list wins whatever its source (on a tie, the curated list's spelling)."""
        proposed, current = list(self.record.authors), self.work.authors
        if not proposed or proposed == current:
            return self.offer("authors", proposed, wins=False)
        longer = len(proposed) > len(current) or (self.curated and len(proposed) == len(current))
        if self.guarded and not (longer and _covers(proposed, current)):
            if not _covers(current, proposed):  # a shorter prefix of what we have is just less complete
                self.refuse("authors", proposed, "not a completion of the curated work's author list")
            return None
        if longer:
            self.set("authors", proposed)
        return None

    def abstract(self) -> None:
        """Abstracts fill gaps; a public record's fuller abstract also replaces a shorter one."""
        proposed, current = self.record.abstract, self.work.abstract
        fuller = self.origin.kind in PUBLIC_ORIGINS and len(proposed or "") > len(current or "")
        self.offer("abstract", proposed, wins=fuller)

    def names(self, field: str) -> None:
        """Aliases and topics: the curated list's own; elsewhere every source's, together."""
        proposed: list[str] = getattr(self.record, field)
        if self.curated:
            return self.offer(field, _union([], proposed), wins=True)
        merged = _union(getattr(self.work, field), proposed)
        if self.work.curated:
            if self.guarded and merged != getattr(self.work, field):
                self.refuse(field, [x for x in merged if x not in getattr(self.work, field)], _ONLY_CURATED)
            return None
        return self.offer(field, merged, wins=True)


def merge_record(work: Work, record: WorkRecord, origin: Origin | None = None) -> tuple[Work, list[Conflict]]:
    """`work` with `record` merged into a copy, and the changes refused because they would alter a curated work.

    The curated list wins what it curates (title, summary, aliases, topics, kind) and its bibliographic facts
    (year, link, venue, DOI); the most complete author list wins whatever its source; abstracts, venues and DOIs
    fill gaps from any source. Nothing is truncated. Every field changed records its origin in `provenance`.
    """
    merge = _FieldMerge(work, record, origin or default_origin(record))
    for field in ("title", "kind", "summary"):
        value = getattr(record, field)
        if field == "kind" and value == "paper" and not merge.curated:
            continue  # the default kind: a file or API record that says nothing about it proposes nothing
        merge.offer(field, value, wins=merge.curated)
    merge.authors()
    merge.abstract()
    for field in FACT_FIELDS:
        merge.offer(field, getattr(record, field), wins=merge.curated and field != "arxiv_id")
    merge.names("aliases")
    merge.names("topics")
    merged = merge.work
    merged.curated = merged.curated or merge.curated
    if merge.changed or not merge.conflicts:  # a write refused in full is not a source of the work
        merged.sources = _union(merged.sources, [record.source])
    merged.text_hash = text_hash(embedding_text(merged))
    return merged, merge.conflicts


def merge_into(work: Work, record: WorkRecord, origin: Origin | None = None) -> Work:
    """Merge a record into a copy of `work` (see `merge_record`)."""
    return merge_record(work, record, origin)[0]


def _same(a: Work, b: Work) -> bool:
    fields = set(Work.model_fields) - {"updated_at", "vector_hash"}
    return all(getattr(a, f) == getattr(b, f) for f in fields)


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
    """

    def __init__(self, db: Database) -> None:
        self.db = db

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
    ) -> None:
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
) -> None:
    """Phase 1 for one file, resuming from its checkpoint unless the file changed. Its records' fields are
    attributed to the file, as the curated list when `curated`."""
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
        merger.store(records, report, checkpoint, origin=origin)
        progress(label, checkpoint.lines_done - position, None)
        position = checkpoint.lines_done
    checkpoint.complete = True
    db.write_batch([], [], [], checkpoint)


def embed_pending(
    db: Database,
    vectors: VectorStore,
    embedder: Embedder,
    report: IngestReport,
    progress: Progress | None = None,
    curated_only: bool = False,
) -> None:
    """Phase 2: embed works whose vectors are missing or stale; the store of batch n overlaps encoding n+1."""
    progress = progress or _no_progress
    total = db.count_needing_vectors(curated_only)
    progress("embedding", 0, total)
    if total == 0:
        return

    def store(batch: list[Work], embeddings) -> int:  # type: ignore[no-untyped-def]
        vectors.upsert([w.id for w in batch], embeddings)
        db.mark_vectors({w.id: w.text_hash for w in batch})
        return len(batch)

    pending: Future[int] | None = None
    last_id = ""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vector-store") as pool:
        try:
            while batch := db.works_needing_vectors(VECTOR_BATCH, after=last_id, curated_only=curated_only):
                last_id = batch[-1].id
                embeddings = embedder.encode([embedding_text(w) for w in batch])
                if pending is not None:
                    # Taken before progress runs: an interrupt there must not count this batch again below.
                    stored, pending = pending.result(), None
                    report.embedded += stored
                    progress("embedding", stored, total)
                pending = pool.submit(store, batch, embeddings)
        finally:
            if pending is not None:
                stored = pending.result()
                report.embedded += stored
                progress("embedding", stored, total)
