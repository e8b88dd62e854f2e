"""What the knowledge base knows about one work, and where each field came from: what `alignbot show` prints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.domain import Conflict, FieldSource
from bot.identifiers import exact_keys_in
from bot.storage import Database, Work

SHOWN_FIELDS = (
    "kind",
    "title",
    "authors",
    "year",
    "venue",
    "url",
    "arxiv_id",
    "doi",
    "aliases",
    "topics",
    "summary",
    "abstract",
)


class WorkDetail(BaseModel):
    """A stored work with every field, the origin of each (`provenance`), and refused changes (`conflicts`)."""

    id: str
    kind: str
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    url: str | None
    arxiv_id: str | None
    doi: str | None
    aliases: list[str]
    topics: list[str]
    summary: str | None
    abstract: str | None
    curated: bool
    sources: list[str]
    enriched_at: datetime | None = Field(description="When `alignbot enrich` last asked the metadata APIs.")
    updated_at: datetime
    provenance: dict[str, FieldSource] = Field(description="Field -> the origin that set its value, and when.")
    conflicts: list[Conflict] = Field(description="Changes refused to protect the curated list, oldest first.")


def find_work(db: Database, reference: str) -> Work | None:
    """The work named by its id, or exactly by an arXiv id, DOI or link."""
    reference = reference.strip()
    work = db.works([reference]).get(reference)
    if work is not None:
        return work
    for key in exact_keys_in(reference):
        work = db.work_for_key(key)
        if work is not None:
            return work
    return None


def work_detail(db: Database, work: Work) -> WorkDetail:
    return WorkDetail(
        **work.model_dump(include=set(WorkDetail.model_fields) - {"provenance", "conflicts"}),
        provenance={field: FieldSource(**source) for field, source in work.provenance.items()},
        conflicts=[row.conflict() for row in db.conflicts(work.id)],
    )
