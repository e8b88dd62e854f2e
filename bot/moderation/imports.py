"""Reading community data: JSON Lines of members and posts, submission files, and storing posts with their
links (the reverse index behind `citedby`) and sketches (the duplicate index)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete
from sqlmodel import col

from bot.moderation.common import ModerationError, Progress, Store
from bot.moderation.schemas import ImportReport, PostRecord, Submission
from bot.storage.tables.moderation import Post, PostLink, now

if TYPE_CHECKING:
    from bot.moderation.index import DuplicateIndex
    from bot.moderation.text import ParsedBody

RecordT = TypeVar("RecordT", bound=BaseModel)


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed object or None, error) for each non-blank line."""
    # Bytes that are not UTF-8 come through as lone surrogates, so the line is reported, not the import stopped.
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            column = next((n for n, c in enumerate(line, start=1) if "\udc80" <= c <= "\udcff"), None)
            if column is not None:
                yield line_no, None, f"{path}:{line_no}: not UTF-8 text (column {column})"
                continue
            try:
                yield line_no, json.loads(line.strip()), None
            except json.JSONDecodeError as exc:
                yield line_no, None, f"{path}:{line_no}: invalid JSON: {exc.msg} (column {exc.colno})"
            except RecursionError:
                yield line_no, None, f"{path}:{line_no}: invalid JSON: nested too deeply"


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "record"
        msg = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def load_submission(path: Path) -> Submission:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModerationError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ModerationError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except RecursionError as exc:
        raise ModerationError(f"{path}: invalid JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        raise ModerationError(f"{path}: a submission is a JSON object, not {type(data).__name__}")
    try:
        return Submission.model_validate(data)
    except ValidationError as exc:
        raise ModerationError(f"{path}: {validation_message(exc)}") from exc


def import_jsonl(
    path: Path, model: type[RecordT], store: Callable[[list[RecordT], ImportReport], object], batch_size: int
) -> ImportReport:
    """Validate JSON Lines into `model` and store them in batches; bad lines become `file:line: reason`."""
    report = ImportReport()
    batch: list[RecordT] = []
    for line_no, obj, error in read_jsonl(path):
        report.read += 1
        if error is None:
            try:
                batch.append(model.model_validate(obj))
            except ValidationError as exc:
                error = f"{path}:{line_no}: {validation_message(exc)}"
        if error:
            report.errors.append(error)
        if len(batch) >= batch_size:
            store(batch, report)
            batch = []
    store(batch, report)
    return report


class Posts:
    """Stored forum posts and pages: what duplicates are searched among and `citedby` reads."""

    def __init__(self, store: Store, index: DuplicateIndex) -> None:
        self.store = store
        self.index = index

    def import_file(self, path: Path, progress: Progress | None = None) -> ImportReport:
        """Posts and pages from JSON Lines; a bad line is reported as file:line and skipped."""

        def save(batch: list[PostRecord], report: ImportReport) -> None:
            self.save(batch, report, source=str(path))
            if progress and batch:
                progress("posts", len(batch), None)

        return import_jsonl(path, PostRecord, save, 100)

    def save(
        self, records: Iterable[PostRecord], report: ImportReport | None = None, source: str | None = None
    ) -> ImportReport:
        """Store posts with their links and sketches in one transaction per batch."""
        records = list(records)
        if report is None:
            report = ImportReport(read=len(records))
        if not records:
            return report
        from bot.moderation.text import parse_body  # Markdown and HTML parsing: only when posts are stored

        prepared = []
        for record in records:
            parsed = parse_body(record.body, record.body_format or "markdown")
            prepared.append((record, parsed, parsed.text, self.index.keys(parsed.text)))
        with self.store.session() as session:
            for record, parsed, text, keys in prepared:
                row = session.get(Post, record.id)
                if row is None:
                    row = Post(id=record.id, author=record.author, title=record.title, body=record.body)
                    report.added += 1
                else:
                    report.updated += 1
                    session.execute(delete(PostLink).where(col(PostLink.post_id) == record.id))
                row.forum, row.author, row.authors = record.forum, record.author, list(record.authors)
                row.title, row.body, row.body_format, row.text = record.title, record.body, record.body_format, text
                row.url, row.canonical_url, row.posted_at = record.url, record.canonical_url, record.posted_at
                row.status, row.rejected_reason = record.status, record.rejected_reason
                row.source, row.updated_at = source, now()
                session.add(row)
                session.flush()
                links = link_rows(record.id, parsed)
                session.add_all(links)
                report.links += len(links)
                session.merge(self.index.sketch_row(f"post:{record.id}", text, keys))
            session.commit()
        self.index.added([(f"post:{record.id}", keys) for record, _parsed, _text, keys in prepared])
        return report


def link_rows(post_id: str, parsed: ParsedBody) -> list[PostLink]:
    rows, seen = [], set()
    for link in parsed.links:
        if link.key is None or (link.key, link.url, link.location) in seen:
            continue
        seen.add((link.key, link.url, link.location))
        rows.append(
            PostLink(
                post_id=post_id,
                key=link.key,
                url=link.url,
                text=link.text,
                location=link.location,
                section=link.section,
            )
        )
    return rows
