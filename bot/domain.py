"""The domain: works (papers and posts), and what the engine answers about them.

These pydantic models are the engine's public vocabulary: every adapter (CLI, Discord, Reddit, HTTP)
receives them and only renders them. `model_dump()` gives the documented JSON schemas.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator


def without_nul(value: Any) -> Any:
    """`value` with NUL characters removed from every string in it. They carry no meaning in text, and
    PostgreSQL refuses them where SQLite keeps them: inputs must not behave differently per database."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_nul(v) for v in value)
    return value


class CleanInput(BaseModel):
    """Base of models built from outside input: strings arrive without NUL characters."""

    @model_validator(mode="before")
    @classmethod
    def _drop_nul(cls, data: Any) -> Any:
        return without_nul(data)


# What a work is, as citations need to know it: a forum or blog post, a technical report (lab or institute
# publication), an arXiv-only preprint, a journal article, a conference or workshop paper. "paper" is a paper
# whose publication form no source told us (ingested files, metadata APIs); citations treat it by its venue.
WORK_KINDS = frozenset({"post", "report", "preprint", "article", "inproceedings", "book", "paper"})

# Size caps of a record, the same in files, the API and live metadata: far beyond any real work (the largest
# physics collaborations list ~5,000 authors), small enough that one record cannot exhaust memory.
MAX_ID = 300
MAX_TITLE = 2_000
MAX_ABSTRACT = 20_000
MAX_SUMMARY = 5_000
MAX_VENUE = 500
MAX_URL = 2_000
MAX_AUTHORS = 10_000
MAX_NAME = 300
MAX_ALIASES = 100
MAX_ALIAS = 300
MAX_TOPICS = 100
MAX_TOPIC = 100

Name = Annotated[str, StringConstraints(max_length=MAX_NAME)]
Alias = Annotated[str, StringConstraints(max_length=MAX_ALIAS)]
Topic = Annotated[str, StringConstraints(max_length=MAX_TOPIC)]
# Only web links: `javascript:`, `data:` and the like would reach rendered links on every front end.
_WEB_LINK = re.compile(r"^https?://[^\s/?#]", re.IGNORECASE)


class WorkRecord(CleanInput):
    """One record of a work as a source describes it, before records of the same work are merged."""

    id: str | None = Field(default=None, max_length=MAX_ID)
    arxiv_id: str | None = Field(default=None, max_length=MAX_ID)
    doi: str | None = Field(default=None, max_length=MAX_ID)
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    authors: list[Name] = Field(default_factory=list, max_length=MAX_AUTHORS)
    year: int | None = Field(default=None, ge=1000, le=2100)
    abstract: str | None = Field(default=None, max_length=MAX_ABSTRACT)
    url: str | None = Field(default=None, max_length=MAX_URL)
    venue: str | None = Field(default=None, max_length=MAX_VENUE)
    kind: str = Field(default="paper", max_length=40)
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    aliases: list[Alias] = Field(default_factory=list, max_length=MAX_ALIASES)
    topics: list[Topic] = Field(default_factory=list, max_length=MAX_TOPICS)
    source: str | None = Field(default=None, max_length=MAX_ID)
    curated: bool = False

    @field_validator("url")
    @classmethod
    def _web_link(cls, url: str | None) -> str | None:
        if url is not None and not _WEB_LINK.match(url):
            raise ValueError(f"{url[:60]!r} is not an http(s) link")
        return url


OriginKind = Literal["curated", "file", "api", "fetch", "enrich", "records"]
# Public bibliographic records: they complete works, but never override what the curated list says.
PUBLIC_ORIGINS: frozenset[str] = frozenset({"fetch", "enrich"})


class Origin(BaseModel):
    """Who sets a field: the curated list (which file), another file, a live API fetch or enrichment (which
    API), an HTTP API write (which token), or records handed to the engine in code."""

    kind: OriginKind
    name: str = Field(description="The file, the metadata API (arxiv, s2, openalex) or the API token.")

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


class FieldSource(Origin):
    """The provenance of one stored field: the origin that set its current value, and when."""

    at: datetime


class Conflict(BaseModel):
    """A write refused because it would change what the curated list says: kept for a moderator."""

    work_id: str = Field(description="The curated work whose data the write would have changed.")
    target_id: str | None = Field(default=None, description="The work the write was for, when another one.")
    field: str
    stored: Any = Field(description="The value kept.")
    proposed: Any = Field(description="The value refused.")
    origin: Origin
    reason: str
    at: datetime | None = None


class RankedWork(BaseModel):
    """A work as shown to users: enough to cite and link it, plus why it was picked."""

    id: str
    arxiv_id: str | None = None
    doi: str | None = None
    title: str
    authors: list[str]
    year: int | None = None
    url: str | None = None
    venue: str | None = None
    kind: str = "paper"
    score: float
    reason: str | None = None


class AskResult(BaseModel):
    query: str
    confident: bool
    results: list[RankedWork]
    answer: str


_API_NAMES = {"arxiv-api": "arXiv", "semantic-scholar": "Semantic Scholar", "openalex": "OpenAlex"}


def fetched_note(source: str | None) -> str:
    """What an answer says about a work just fetched live ("" for one already in the knowledge base)."""
    return f"fetched just now from {_API_NAMES.get(source, source)}" if source else ""


class CiteResult(BaseModel):
    query: str
    confident: bool
    match: RankedWork | None
    alternatives: list[RankedWork]
    formatted: str | None
    fetched: str | None = Field(
        default=None, description="The API the match was fetched from just now (live lookup), else null."
    )
    signals: dict[str, float] = Field(
        default_factory=dict,
        description="The signals that decided the match, with their values in [0, 1]: exact, alias, title, "
        "authors, year, description, organisation, context (how much of the thread's vocabulary the work shares, when "
        "the thread ordered works the reference fits nearly equally).",
    )
    export: str | None = Field(
        default=None, description="The match as a BibTeX, CSL-JSON or RIS document, when a format was asked for."
    )


class BibliographyEntry(BaseModel):
    mention: str = Field(description="The text in the thread that refers to the work.")
    author: str | None = Field(default=None, description="Who wrote the message with the mention.")
    work: RankedWork
    formatted: str
    fetched: str | None = Field(
        default=None, description="The API the work was fetched from just now (live lookup), else null."
    )


class UnresolvedMention(BaseModel):
    """A mention that is certainly a reference (link, id, quoted title, author citation) but named no work
    with confidence."""

    text: str = Field(description="The mention as written in the thread.")
    kind: str = Field(description="link, author or quote.")
    author: str | None = Field(default=None, description="Who wrote the message with the mention.")
    best_guess: RankedWork | None = Field(default=None, description="The closest work, when there is one.")


class BibliographyResult(BaseModel):
    entries: list[BibliographyEntry]
    unresolved: list[UnresolvedMention] = Field(
        description="Mentions that are certainly references but matched no work with confidence."
    )
    export: str | None = Field(
        default=None, description="Every entry's work as one BibTeX, CSL-JSON or RIS document, when asked for."
    )


class Message(CleanInput):
    """One message of a discussion thread, as the adapters hand them to the engine."""

    author: str | None = None
    text: str


class IngestReport(BaseModel):
    read: int = 0
    added: int = 0
    merged: int = 0
    unchanged: int = 0
    errors: list[str] = Field(default_factory=list)
    embedded: int = 0
    conflicts: list[Conflict] = Field(
        default_factory=list, description="Changes to curated works that were refused and kept for a moderator."
    )
    interrupted: bool = False
    embedding_error: str | None = None  # the vector store was down: stored works wait for their vectors
