"""The domain: works (papers and posts), and what the engine answers about them.

These pydantic models are the engine's public vocabulary: every adapter (CLI, Discord, Reddit, HTTP)
receives them and only renders them. `model_dump()` gives the documented JSON schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator


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


class WorkRecord(CleanInput):
    """One record of a work as a source describes it, before records of the same work are merged."""

    id: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    title: str = Field(min_length=1)
    authors: list[str] = Field(default_factory=list)
    year: int | None = Field(default=None, ge=1000, le=2100)
    abstract: str | None = None
    url: str | None = None
    venue: str | None = None
    kind: str = "paper"
    summary: str | None = None
    aliases: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    source: str | None = None
    curated: bool = False


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
        "authors, year, description, organisation.",
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
    interrupted: bool = False
    embedding_error: str | None = None  # the vector store was down: stored works wait for their vectors
