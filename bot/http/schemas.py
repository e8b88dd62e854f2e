"""Request and response bodies of the HTTP API.

Responses reuse the engine's and the moderation layer's pydantic models, so the JSON is exactly what
`alignbot … --json` prints; only requests (and a few HTTP-only answers) are defined here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from bot.citations import Style
from bot.domain import MAX_TITLE, CleanInput, Message, WorkRecord
from bot.exports import ExportFormat
from bot.moderation.schemas import ReportStatus, Submission

MAX_TEXT = 200_000  # characters of one post or thread: far beyond any real one, small enough to process


class _Request(CleanInput):
    # A misspelt field ("questoin") is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class RelatedRequest(_Request):
    question: str = Field(
        min_length=1,
        max_length=10_000,
        pattern=r"\S",
        description="What related work is wanted for; may be a bare 'source?' answered from the context.",
    )
    k: StrictInt = Field(default=5, ge=1, le=50, description="How many works.")
    context: list[Message | str] = Field(
        default_factory=list, max_length=200, description="Recent messages of the thread, oldest first."
    )


class CiteRequest(_Request):
    reference: str = Field(
        min_length=1, max_length=2_000, pattern=r"\S", description="'Jacovi & Goldberg', an arXiv id, a link…"
    )
    style: Style = Style.apa
    format: ExportFormat | None = Field(default=None, description="Also return the match as this document.")
    alternatives: StrictInt = Field(default=3, ge=0, le=10)
    context: list[Message | str] = Field(
        default_factory=list,
        max_length=200,
        description="Recent messages of the thread, oldest first: they order works the reference fits nearly equally.",
    )


class BibliographyRequest(_Request):
    thread: str | list[Message | str] = Field(
        description="Plain text (one message a paragraph) or a list of {author, text} messages (or strings)."
    )
    style: Style = Style.apa
    format: ExportFormat | None = Field(default=None, description="Also return every work as this document.")


class AuditRequest(_Request):
    body: str = Field(max_length=MAX_TEXT)
    body_format: Literal["markdown", "html"] = "markdown"
    title: str | None = Field(default=None, max_length=1_000, description="Helps find related work.")


class PaperRecord(WorkRecord):
    """A work record as the API takes it: unknown fields are errors, and numbers fit the database. The size caps
    and the http(s) rule for links are the record's own, the same as in files."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=MAX_TITLE, pattern=r"\S")
    year: int | None = Field(default=None, ge=1, le=9999)


class PapersRequest(_Request):
    records: list[PaperRecord] = Field(
        min_length=1, description="Records as in the JSON Lines ingest format; `curated` is ignored."
    )


class FetchRequest(_Request):
    source: Literal["arxiv", "s2", "openalex"] = Field(description="arXiv, Semantic Scholar or OpenAlex.")
    query: str = Field(
        min_length=1,
        max_length=1_000,
        pattern=r"\S",
        description="An id or link to look up (arXiv id, DOI, S2 or OpenAlex id), or words to search for.",
    )
    limit: StrictInt = Field(default=1, ge=1, le=25, description="Works a search adds, best first.")
    refresh: StrictBool = Field(default=False, description="Ask the API even when the work is already stored.")
    dry_run: StrictBool = Field(default=False, description="Show what would be stored; store nothing.")


class DecisionRequest(_Request):
    status: ReportStatus
    reason: str = Field(min_length=1, max_length=5_000, description="Why; shown with a later resubmission.")
    moderator: str | None = Field(
        default=None,
        max_length=200,
        description="Who decides, when a shared token acts for several people; recorded as '<moderator> via <token>'.",
    )


class WebhookEvent(_Request):
    event: Literal["post.created", "post.edited"]
    delivery_id: str | None = Field(
        default=None, max_length=200, description="The forum's id of this delivery: a retry is not queued again."
    )
    submission: Submission


class WebhookResult(BaseModel):
    event: str
    delivery_id: str | None
    submission_id: str
    report_id: int
    queued: bool = Field(description="False when this delivery id was seen before (nothing new recorded).")
    rules: list[str] = Field(description="Rules that fired, excluding the advisory related-work audit.")
    severity: str | None = Field(description="Highest severity among them: a forum may hold the post until review.")


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in one line.")
    detail: Any = Field(default=None, description="Specifics: the invalid fields, the limit, …")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str
    chroma: str
    works: int | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed JSON or a request the engine cannot answer."},
    401: {"model": ErrorBody, "description": "No token, or an unknown or revoked one."},
    403: {"model": ErrorBody, "description": "The token lacks the scope."},
    404: {"model": ErrorBody, "description": "No such report (or no such path)."},
    413: {"model": ErrorBody, "description": "The body is over the size limit."},
    415: {"model": ErrorBody, "description": "The body is not JSON."},
    422: {"model": ErrorBody, "description": "The JSON does not match the schema."},
    429: {"model": ErrorBody, "description": "Rate limited: retry after the Retry-After header's seconds."},
}
