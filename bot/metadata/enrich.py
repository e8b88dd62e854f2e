"""`alignbot enrich`: fill missing abstracts, full author lists, venues and DOIs of stored works from the live APIs.

For each work with an arXiv id or a DOI: arXiv first (an arXiv paper's own abstract and full author list), then
Semantic Scholar and OpenAlex while the abstract, venue or DOI is still missing. Answers are merged with the
ingest merge rules under the origin `enrich:<api>`: they fill gaps and complete author lists, and never change
what the curated list says. Requests go through the clients' shared pacing (one arXiv request every 3 s across
every process on the database).

Resumable: works are stored in batches, and each work that every API answered is marked (`enriched_at`) in the
database, so a re-run (after Ctrl-C, a crash or an API outage) asks only about the rest. A work whose lookup
failed stays unmarked and is asked about again next time; what failed stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from bot.domain import Origin, WorkRecord
from bot.engine import Engine
from bot.ingest.pipeline import Progress, merge_into
from bot.metadata.base import MetadataClient
from bot.metadata.errors import MetadataError
from bot.metadata.fetch import CLIENTS, client_for
from bot.storage import Work

log = logging.getLogger(__name__)

SOURCES = ("arxiv", "s2", "openalex")
BATCH = 25  # works looked up before their answers are stored together
MAX_FAILURES = 5  # consecutive failures after which an API is left alone for the rest of the run
# What enrichment is for: while any of these is missing, the next API is asked.
WANTED = ("abstract", "venue", "doi")
COMPARED = ("title", "authors", "year", "abstract", "url", "venue", "doi", "arxiv_id", "topics")


class WorkChange(BaseModel):
    id: str
    title: str
    fields: dict[str, str] = Field(description="Field -> the API whose answer changed it (arxiv, s2, openalex).")


class EnrichReport(BaseModel):
    dry_run: bool = Field(description="Nothing was stored; `changed` says what storing would change.")
    checked: int = Field(default=0, description="Works whose APIs were asked.")
    changed: list[WorkChange] = Field(default_factory=list)
    filled: dict[str, int] = Field(default_factory=dict, description="Field -> how many works it changed in.")
    not_found: int = Field(default=0, description="Works no API knew.")
    errors: list[str] = Field(
        default_factory=list, description="`work id: API: what went wrong`; asked again next run."
    )
    skipped_sources: list[str] = Field(default_factory=list, description="APIs left alone after repeated failures.")
    remaining: int = Field(default=0, description="Works still to ask about (a re-run continues with them).")
    embedded: int = 0
    interrupted: bool = False


def _identifier(client: MetadataClient, work: Work) -> str | None:
    for reference in (work.arxiv_id, work.doi):
        if reference:
            try:
                identifier = client.parse_identifier(reference)
            except ValueError:  # arXiv cannot look a DOI up
                continue
            if identifier:
                return identifier
    return None


class _Enricher:
    def __init__(self, engine: Engine, sources: Sequence[str], dry_run: bool) -> None:
        self.engine = engine
        self.clients = {name: client_for(name, engine.settings, limiter=engine.db) for name in sources}
        self.failures = dict.fromkeys(sources, 0)
        self.report = EnrichReport(dry_run=dry_run)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def ask(self, work: Work) -> tuple[list[tuple[str, WorkRecord]], bool]:
        """The APIs' records of `work`, in the order they apply, and whether every API asked answered."""
        records: list[tuple[str, WorkRecord]] = []
        current, complete = work, True
        for name, client in self.clients.items():
            if self.failures[name] >= MAX_FAILURES:
                complete = False
                continue
            if name != "arxiv" and records and all(getattr(current, f) for f in WANTED):
                break  # nothing left that the other APIs would add
            identifier = _identifier(client, work)
            if identifier is None:
                continue
            try:
                found = client.lookup(identifier)
            except MetadataError as exc:
                self.failures[name] += 1
                if self.failures[name] == MAX_FAILURES:
                    self.report.skipped_sources.append(name)
                self.report.errors.append(f"{work.id}: {exc}")
                complete = False
                continue
            self.failures[name] = 0
            if found is not None:
                # Named by the work's id, so the merge lands on this work whatever other keys the answer has.
                record = found.model_copy(update={"id": work.id})
                records.append((name, record))
                current = merge_into(current, record, Origin(kind="enrich", name=name))
        self._note(work, current, records)
        return records, complete

    def _note(self, before: Work, after: Work, records: list[tuple[str, WorkRecord]]) -> None:
        self.report.checked += 1
        if not records:
            self.report.not_found += 1
            return
        fields = {
            f: after.provenance.get(f, {}).get("name", "?") for f in COMPARED if getattr(before, f) != getattr(after, f)
        }
        if fields:
            self.report.changed.append(WorkChange(id=before.id, title=before.title, fields=fields))
            for field in fields:
                self.report.filled[field] = self.report.filled.get(field, 0) + 1

    def store(self, asked: list[tuple[Work, list[tuple[str, WorkRecord]], bool]]) -> None:
        """One batch's answers, API by API in the order they were merged, then the marks of finished works."""
        for name in self.clients:
            records = [record for _work, found, _ok in asked for source, record in found if source == name]
            if records:
                stored = self.engine.ingest_records(records, embed=False, origin=Origin(kind="enrich", name=name))
                if stored.interrupted:  # the engine stopped after its last stored batch: mark nothing more
                    raise KeyboardInterrupt
        done = [work.id for work, _found, complete in asked if complete]
        self.engine.db.mark_enriched(done, datetime.now(UTC))


def enrich(
    engine: Engine,
    *,
    sources: Sequence[str] = SOURCES,
    dry_run: bool = False,
    again: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
) -> EnrichReport:
    """Ask the APIs about every stored work with an arXiv id or DOI not yet enriched (`again`: all of them)
    and store what they add. KeyboardInterrupt stops after the last stored batch; the report says so."""
    for name in sources:
        if name not in CLIENTS:
            raise ValueError(f"unknown source {name!r}: use {', '.join(CLIENTS)}")
    sources = [name for name in SOURCES if name in sources]  # arXiv first: its own record of its papers
    total = engine.db.count_to_enrich(include_done=again)
    total = min(total, limit) if limit is not None else total
    progress = progress or (lambda _phase, _advance, _total: None)
    progress("enriching", 0, total)
    enricher = _Enricher(engine, sources, dry_run)
    report = enricher.report
    after, seen = "", 0
    try:
        while seen < total and (works := engine.db.works_to_enrich(min(BATCH, total - seen), after, again)):
            after = works[-1].id
            asked = []
            for work in works:
                found, complete = enricher.ask(work)
                asked.append((work, found, complete))
                progress("enriching", 1, None)
            seen += len(works)
            if not dry_run:
                enricher.store(asked)
        if not dry_run and report.changed:
            embedded = engine.embed_pending(progress=progress)
            report.embedded, report.interrupted = embedded.embedded, embedded.interrupted
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        enricher.close()
    report.remaining = engine.db.count_to_enrich(include_done=False) if not again else max(0, total - seen)
    log.info("enrich: %d checked, %d changed, %d errors", report.checked, len(report.changed), len(report.errors))
    return report
