"""The forum plugin API under /v1. Handlers are plain `def`: FastAPI runs them in its threadpool, so
CPU-bound engine calls never block the event loop."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from bot.domain import AskResult, BibliographyResult, CiteResult, IngestReport, Message, Origin
from bot.http.auth import read_access, require
from bot.http.context import ApiError, AppContext, context
from bot.http.schemas import (
    ERROR_RESPONSES,
    AuditRequest,
    BibliographyRequest,
    CiteRequest,
    DecisionRequest,
    ErrorBody,
    FetchRequest,
    PapersRequest,
    RelatedRequest,
    WebhookEvent,
    WebhookResult,
)
from bot.http.tokens import TokenInfo
from bot.mentions import parse_thread
from bot.metadata.errors import MetadataError, MetadataRequestError, MetadataTimeout
from bot.metadata.fetch import FetchResult
from bot.moderation.config import RULE_IDS
from bot.moderation.schemas import (
    QUEUE_STATUSES,
    CheckReport,
    CitedByResult,
    DecisionRecord,
    QueueItem,
    RelatedWorkAudit,
    ReportDetail,
    Submission,
)
from bot.moderation.service import ModerationError
from bot.papers import Papers

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)  # type: ignore[arg-type]

RuleId = Literal[RULE_IDS]  # type: ignore[valid-type]
ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Report id (from the queue).")]
Writer = Annotated[TokenInfo, Depends(require("write"))]
Mod = Annotated[TokenInfo, Depends(require("moderate"))]


# --- reads (open, or any token: see ServerSettings.open_reads) --------------------------------------


@router.post("/related", response_model=AskResult, tags=["read"], dependencies=[read_access])
def related(body: RelatedRequest, request: Request) -> AskResult:
    """Related work for a question (the CLI's `ask --json`), optionally read with the thread's recent messages."""
    try:
        return context(request).engine.ask(body.question, k=body.k, context=body.context)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post("/cite", response_model=CiteResult, tags=["read"], dependencies=[read_access])
def cite(body: CiteRequest, request: Request) -> CiteResult:
    """Resolve a reference as people write it to one work and a formatted citation (`cite --json`)."""
    try:
        return context(request).engine.cite(
            body.reference,
            style=body.style,
            alternatives=body.alternatives,
            export_format=body.format,
            context=body.context,
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post("/bibliography", response_model=BibliographyResult, tags=["read"], dependencies=[read_access])
def bibliography(body: BibliographyRequest, request: Request) -> BibliographyResult:
    """Every work a thread refers to, resolved, in order of first mention (`bibliography --json`)."""
    if isinstance(body.thread, str):
        try:
            messages = parse_thread(body.thread)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
    else:
        messages = [m if isinstance(m, Message) else Message(text=m) for m in body.thread]
    return context(request).engine.bibliography(messages, style=body.style, export_format=body.format)


@router.get("/citedby/{reference:path}", response_model=CitedByResult, tags=["read"])
def cited_by(
    reference: Annotated[str, Path(max_length=2_000)], request: Request, reader: TokenInfo | None = read_access
) -> CitedByResult:
    """Posts that cite a paper or page, by arXiv id, DOI or any URL form (`citedby --json`).

    Only published posts, unless the token has the `moderate` scope (rejected, pending and members-only
    posts are moderators' business)."""
    moderator_reads = reader is not None and reader.allows("moderate")
    try:
        return context(request).moderator.cited_by(reference, published_only=not moderator_reads)
    except ModerationError as exc:
        raise ApiError(400, str(exc)) from exc


# --- writes -----------------------------------------------------------------------------------------


@router.post("/papers", response_model=IngestReport, tags=["write"])
def papers(body: PapersRequest, request: Request, token: Writer) -> IngestReport:
    """Ingest work records (the JSON Lines ingest format) and embed them; they are searchable on return."""
    ctx = context(request)
    if len(body.records) > ctx.settings.max_ingest_records:
        raise ApiError(413, "too many records", f"send at most {ctx.settings.max_ingest_records} records a request")
    # As plain records they go through the JSON Lines reader (ids without version, DOIs in lower case, whitespace
    # folded), so a paper sent here and the same paper in a file are one work. API records never count as our
    # curated reading list, say who sent them, and cannot change a curated work: such changes come back as
    # `conflicts` and wait for a moderator.
    records = [r.model_dump(exclude={"curated"}) | {"source": r.source or f"api:{token.name}"} for r in body.records]
    try:
        return ctx.engine.ingest_records(records, origin=Origin(kind="api", name=token.name))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post(
    "/papers/fetch",
    response_model=FetchResult,
    tags=["write"],
    responses={
        404: {"model": ErrorBody, "description": "The API has no paper with that identifier."},
        502: {"model": ErrorBody, "description": "The metadata API failed or sent an answer we cannot read."},
        504: {"model": ErrorBody, "description": "The metadata API did not answer in time."},
    },
)
def papers_fetch(body: FetchRequest, request: Request, _token: Writer) -> FetchResult:
    """Add papers from arXiv, Semantic Scholar or OpenAlex: an identifier is looked up (answered from the
    knowledge base without a request when already stored), anything else searched and the best `limit` added.
    Each work says whether it was `added`, `updated` (merged into a work it enriched) or already `present`.
    Nothing is stored when the API fails."""
    ctx = context(request)
    try:
        result = Papers(ctx.engine).fetch(
            body.source, body.query, limit=body.limit, refresh=body.refresh, dry_run=body.dry_run
        )
    except MetadataTimeout as exc:
        raise ApiError(504, str(exc), "nothing was stored; try again later") from exc
    except MetadataRequestError as exc:  # the API calls the identifier malformed: the caller's to fix
        raise ApiError(400, str(exc)) from exc
    except MetadataError as exc:
        raise ApiError(502, str(exc), "nothing was stored") from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    if not result.works and result.identifier is not None:
        raise ApiError(404, f"no such paper: {result.identifier}", {"source": body.source, "query": result.query})
    return result


@router.post("/webhooks/forum", response_model=WebhookResult, tags=["write"])
def forum_webhook(event: WebhookEvent, request: Request, token: Writer) -> WebhookResult:
    """A new or edited forum post: checked and queued for moderators as an open report.

    An edit queues a new report and supersedes the one still awaiting a decision (it stays for the record).
    A retried delivery with the same `delivery_id` returns the first answer with `queued: false`.
    """
    ctx = context(request)
    if event.delivery_id and (seen := _claim_delivery(ctx, token.id, event.delivery_id)) is not None:
        return seen
    try:
        result = _queue_forum_post(ctx, event)
    except BaseException:
        if event.delivery_id:  # nothing was answered: the forum's retry is handled afresh
            ctx.deliveries.release(token.id, event.delivery_id)
        raise
    if event.delivery_id:
        ctx.deliveries.finish(token.id, event.delivery_id, result.model_dump(mode="json"))
    return result


def _claim_delivery(ctx: AppContext, token_id: int, delivery_id: str) -> WebhookResult | None:
    """None when this replica answers the delivery; else the first answer (`queued: false`), waiting a few
    seconds for it when another replica is answering right now."""
    for _ in range(50):
        if ctx.deliveries.claim(token_id, delivery_id):
            return None
        stored = ctx.deliveries.result(token_id, delivery_id)
        if stored is not None:
            return WebhookResult.model_validate(stored).model_copy(update={"queued": False})
        time.sleep(0.1)
    raise ApiError(409, "delivery in progress", f"delivery {delivery_id} is being answered; retry later")


def _queue_forum_post(ctx: AppContext, event: WebhookEvent) -> WebhookResult:
    intake = ctx.moderator.receive(event.submission, origin="http")
    return WebhookResult(
        event=event.event,
        delivery_id=event.delivery_id,
        submission_id=intake.report.submission_id,
        report_id=intake.report.report_id or 0,
        queued=True,
        rules=intake.rules,
        severity=intake.severity,
    )


# --- moderation ---------------------------------------------------------------------------------------


@router.post("/check", response_model=CheckReport, tags=["moderate"])
def check(
    submission: Submission,
    request: Request,
    _token: Mod,
    dry_run: Annotated[bool, Query(description="Show what would be flagged; record nothing.")] = False,
    rule: Annotated[list[RuleId] | None, Query(description="Run only these rules.")] = None,
) -> CheckReport:
    """Run the moderation rules on a submission and record the report in the review queue (`check --json`)."""
    try:
        moderator = context(request).moderator
        return moderator.receive(
            submission, origin="http", record=not dry_run, rules=set(rule) if rule else None
        ).report
    except ModerationError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post("/audit", response_model=RelatedWorkAudit, tags=["moderate"])
def audit(body: AuditRequest, request: Request, _token: Mod) -> RelatedWorkAudit:
    """The related-work audit of a post: what it cites, where, and the closest works it does not cite."""
    return context(request).moderator.audit(body.body, body.body_format, title=body.title)


@router.get("/queue", response_model=list[QueueItem], tags=["moderate"])
def queue(
    request: Request,
    _token: Mod,
    status: Annotated[Literal[(*QUEUE_STATUSES, "all")], Query()] = "open",  # type: ignore[valid-type]
) -> list[QueueItem]:
    """Reports, oldest first: open ones by default (`queue --json`)."""
    return context(request).moderator.queue(None if status == "all" else status)


@router.get("/reports/{report_id}", response_model=ReportDetail, tags=["moderate"])
def review(report_id: ReportId, request: Request, _token: Mod) -> ReportDetail:
    """One report with its findings, the submission and every decision taken on it (`review --json`)."""
    moderator = context(request).moderator
    if not moderator.report_exists(report_id):
        raise ApiError(404, f"no report {report_id}")
    return moderator.review(report_id)


@router.post("/reports/{report_id}/decision", response_model=DecisionRecord, tags=["moderate"])
def decide(report_id: ReportId, body: DecisionRequest, request: Request, token: Mod) -> DecisionRecord:
    """Record a decision; the audit log keeps every one. The moderator is the token's name."""
    moderator = context(request).moderator
    if not moderator.report_exists(report_id):
        raise ApiError(404, f"no report {report_id}")
    who = f"{body.moderator.strip()} via {token.name}" if body.moderator and body.moderator.strip() else token.name
    try:
        return moderator.decide(report_id, body.status, who, body.reason)
    except ModerationError as exc:
        raise ApiError(400, str(exc)) from exc


@router.get("/decisions", response_model=list[DecisionRecord], tags=["moderate"])
def decisions(
    request: Request,
    _token: Mod,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[DecisionRecord]:
    """The audit log: every decision on every report, newest first."""
    return [e.decision for e in context(request).moderator.audit_log(limit, offset)]
