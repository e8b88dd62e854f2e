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
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bot.domain import IngestReport, WorkRecord
from bot.embedding import Embedder
from bot.identifiers import normalize_title, work_keys
from bot.ingest.parsers import ParseError, parse_path
from bot.retrieval.corpus import embedding_text
from bot.storage import Database, IngestCheckpoint, VectorStore, Work

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


def new_work(record: WorkRecord, work_id: str) -> Work:
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
        curated=record.curated,
    )
    work.text_hash = text_hash(embedding_text(work))
    return work


def merge_into(work: Work, record: WorkRecord) -> Work:
    """Merge a record into a copy of `work`. Richer fields win; curated records win outright."""
    merged = work.model_copy(deep=True)
    if record.curated:
        # Our reading list is hand-checked: its bibliographic fields override scraped ones.
        merged.title = record.title
        merged.authors = list(record.authors) or merged.authors
        merged.year = record.year or merged.year
        merged.url = record.url or merged.url
        merged.venue = record.venue or merged.venue
        merged.kind = record.kind
        merged.summary = record.summary or merged.summary
        merged.curated = True
    else:
        if len(record.authors) > len(merged.authors) and not merged.curated:
            merged.authors = list(record.authors)
        merged.year = merged.year or record.year
        merged.url = merged.url or record.url
        merged.venue = merged.venue or record.venue
        merged.summary = merged.summary or record.summary
    if record.abstract and len(record.abstract) > len(merged.abstract or ""):
        merged.abstract = record.abstract
    merged.arxiv_id = merged.arxiv_id or record.arxiv_id
    merged.doi = merged.doi or record.doi
    merged.aliases = _union(merged.aliases, record.aliases)
    merged.topics = _union(merged.topics, record.topics)
    merged.sources = _union(merged.sources, [record.source])
    merged.text_hash = text_hash(embedding_text(merged))
    return merged


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
    """Merges batches of records into the database, keeping the key map in memory for speed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys = db.key_map()

    def store(
        self, records: list[WorkRecord], report: IngestReport, checkpoint: IngestCheckpoint | None = None
    ) -> None:
        wanted = {self.keys[k] for r in records for k in record_keys(r) if k in self.keys}
        existing = self.db.works(sorted(wanted))
        created: dict[str, Work] = {}
        changed: dict[str, Work] = {}
        new_keys: dict[str, str] = {}
        for record in records:
            report.read += 1
            keys = record_keys(record)
            work_id = next((self.keys[k] for k in keys if k in self.keys), None)
            if work_id is None:
                work_id = new_work_id(record, self.keys)
                created[work_id] = new_work(record, work_id)
                keys = [*keys, f"id:{work_id}"]
                report.added += 1
            else:
                current = created.get(work_id) or changed.get(work_id) or existing[work_id]
                merged = merge_into(current, record)
                if _same(current, merged):
                    report.unchanged += 1
                else:
                    merged.updated_at = datetime.now(UTC)
                    (created if work_id in created else changed)[work_id] = merged
                    report.merged += 1
            for key in keys:
                if key not in self.keys:
                    self.keys[key] = work_id
                    new_keys[key] = work_id
        self.db.write_batch(created.values(), changed.values(), new_keys.items(), checkpoint)


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
    """Phase 1 for one file, resuming from its checkpoint unless the file changed."""
    progress = progress or _no_progress
    source = str(path.resolve())
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
        merger.store(records, report, checkpoint)
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
