"""Papers from the live metadata APIs into the knowledge base, on demand: what every adapter calls.

1. An identifier the knowledge base already holds (an arXiv id, a DOI, an S2 or OpenAlex id fetched
   before) is answered from the database without any request, unless `refresh` is asked for.
2. Otherwise the API is asked. That happens outside every engine lock, so `ask` and `cite` keep
   answering while an API is slow or hangs; the HTTP layer bounds the wait (`metadata_deadline_seconds`).
3. The records are stored through `Engine.ingest_records`, so merging and deduplication are the
   engine's: a paper fetched twice, or already on the reading list, is merged into its work, not added.

Nothing is written until the API has answered in full and the answer has been parsed, so a timeout or
a garbled answer stores nothing.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, Field

from bot.domain import Origin, RankedWork, WorkRecord
from bot.engine import Engine
from bot.ingest.pipeline import merge_into, new_work, new_work_id, record_keys
from bot.metadata.arxiv import ArxivClient
from bot.metadata.base import MetadataClient, exact_arxiv_id
from bot.metadata.http import SlotReserver
from bot.metadata.openalex import OpenAlexClient
from bot.metadata.semantic_scholar import SemanticScholarClient
from bot.settings import Settings
from bot.storage import Database, Work

log = logging.getLogger(__name__)

Source = Literal["arxiv", "s2", "openalex"]
CLIENTS: dict[str, type[MetadataClient]] = {
    ArxivClient.name: ArxivClient,
    SemanticScholarClient.name: SemanticScholarClient,
    OpenAlexClient.name: OpenAlexClient,
}
MAX_LIMIT = 25  # works one search may add: a handful is what people mean, and each costs the API a slot
MAX_QUERY = 1000
FetchStatus = Literal["added", "updated", "present"]
# Bookkeeping, not what the work says: a fetch that only adds its API to `sources` leaves the work "present".
_BOOKKEEPING = {"updated_at", "vector_hash", "sources", "provenance"}


class FetchedWork(BaseModel):
    status: FetchStatus = Field(
        description="added: a new work; updated: merged into a work it enriched; present: already there as is."
    )
    work: RankedWork


class FetchResult(BaseModel):
    source: Source
    query: str
    identifier: str | None = Field(description="The API identifier looked up; null for a search.")
    from_knowledge_base: bool = Field(description="The work was already stored, so no API was asked.")
    dry_run: bool = Field(description="Nothing was stored; `status` says what storing would do.")
    works: list[FetchedWork] = Field(description="Empty when the API has no such paper or nothing matched.")


def client_for(source: str, settings: Settings, *, limiter: SlotReserver | None = None) -> MetadataClient:
    return _client_class(source)(settings, limiter=limiter)


def _client_class(source: str) -> type[MetadataClient]:
    try:
        return CLIENTS[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}: use {', '.join(CLIENTS)}") from None


def parse_request(source: str, query: str) -> tuple[str, str | None]:
    """(the query with whitespace folded, the API identifier it names or None for a search).

    Raises ValueError with a message for users: an unknown source, an empty or overlong query, an
    identifier the source cannot look up. Cheap and offline, so adapters check before deferring work.
    """
    client = _client_class(source)
    query = " ".join(query.split())
    if not query:
        raise ValueError("give an identifier (arXiv id, DOI, link) or words to search for")
    if len(query) > MAX_QUERY:
        raise ValueError(f"the query is longer than {MAX_QUERY} characters")
    identifier = client.parse_identifier(query)
    if identifier is None and " " not in query and query.lower().startswith(("http://", "https://")):
        raise ValueError(f"{client.label} cannot look up this link: give an arXiv id, a DOI or a link to one")
    return query, identifier


def default_source(reference: str) -> Source:
    """arXiv for arXiv ids and links (its own metadata), Semantic Scholar for DOIs and titles."""
    return "arxiv" if exact_arxiv_id(reference) else "s2"


def fetch_papers(
    engine: Engine,
    source: str,
    query: str,
    *,
    limit: int = 1,
    refresh: bool = False,
    dry_run: bool = False,
) -> FetchResult:
    """Look `query` up (an identifier) or search for it (anything else) in `source`, and store what comes back.

    Raises ValueError for a request that cannot be made and `MetadataError` when the API fails; in both
    cases nothing is stored.
    """
    query, identifier = parse_request(source, query)
    limit = max(1, min(limit, MAX_LIMIT))
    client_class = _client_class(source)
    result = FetchResult(
        source=source,  # type: ignore[arg-type]  # checked by _client_class
        query=query,
        identifier=identifier,
        from_knowledge_base=False,
        dry_run=dry_run,
        works=[],
    )
    if identifier is not None and not refresh:
        for key in client_class.known_keys(identifier):
            work = engine.db.work_for_key(key)
            if work is not None:
                stored = FetchedWork(status="present", work=work.ranked(1.0))
                return result.model_copy(update={"from_knowledge_base": True, "works": [stored]})
    # The network: no engine lock is held here. The database paces requests across processes.
    with client_for(source, engine.settings, limiter=engine.db) as client:
        if identifier is not None:
            found = client.lookup(identifier)
            records = [found] if found is not None else []
        else:
            records = client.search(query, limit)
    log.info("%s: %d record(s) for %r", client_class.label, len(records), identifier or query)
    if not records:
        return result
    origin = Origin(kind="fetch", name=source)
    works = _preview(engine.db, records, origin) if dry_run else _store(engine, records, origin)
    return result.model_copy(update={"works": works})


def _existing(db: Database, record: WorkRecord) -> Work | None:
    """The stored work a record would merge into: its first key that is known, as the merger decides."""
    for key in record_keys(record):
        work = db.work_for_key(key)
        if work is not None:
            return work
    return None


def _changed(before: Work, after: Work) -> bool:
    return before.model_dump(exclude=_BOOKKEEPING) != after.model_dump(exclude=_BOOKKEEPING)


def _store(engine: Engine, records: list[WorkRecord], origin: Origin) -> list[FetchedWork]:
    # Statuses compare the works before and after; another writer in between can only blur the label,
    # never the stored data, which the engine merges under its own lock.
    before = [_existing(engine.db, r) for r in records]
    engine.ingest_records(records, origin=origin)
    works: dict[str, FetchedWork] = {}
    for record, old in zip(records, before, strict=True):
        new = _existing(engine.db, record)
        if new is None:  # pragma: no cover - ingest_records stores every record it is given
            continue
        status: FetchStatus = "added" if old is None else "updated" if _changed(old, new) else "present"
        works.setdefault(new.id, FetchedWork(status=status, work=new.ranked(1.0)))
    return list(works.values())


def _preview(db: Database, records: list[WorkRecord], origin: Origin) -> list[FetchedWork]:
    """What storing would do, computed with the engine's merge rules and stored nowhere."""
    works: dict[str, FetchedWork] = {}
    for record in records:
        old = _existing(db, record)
        if old is None:
            # The id storing would give; a preview skips the rare suffix for an id another work already holds.
            work = new_work(record, new_work_id(record, {}), origin)
            works.setdefault(work.id, FetchedWork(status="added", work=work.ranked(1.0)))
            continue
        merged = merge_into(old, record, origin)
        status: FetchStatus = "updated" if _changed(old, merged) else "present"
        works.setdefault(old.id, FetchedWork(status=status, work=merged.ranked(1.0)))
    return list(works.values())
