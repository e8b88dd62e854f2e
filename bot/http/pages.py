"""The moderator web page: server-rendered HTML forms, no JavaScript needed.

Login takes an API token with the `moderate` scope and starts a server-side session (the cookie holds a
random id). Every form carries the session's CSRF token; login uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot.citations import Style
from bot.http.context import ApiError, AppContext, PageSession, context
from bot.http.evidence import passage_pairs
from bot.moderation.rules.related import RelatedWork
from bot.moderation.schemas import REPORT_STATUSES, RelatedWorkAudit
from bot.moderation.service import ModerationError

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "alignbot_session"
LOGIN_COOKIE = "alignbot_login"
DECISIONS = (  # the order of the radio buttons: the commonest outcome first
    ("approved", "Approve"),
    ("needs-changes", "Needs changes"),
    ("rejected", "Reject"),
    ("open", "Reopen"),
)
QUEUE_TABS = ("open", "needs-changes", "approved", "rejected", "superseded", "all")
MAX_FORM_FIELD = 5_000
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    ctx = context(request)
    response = ctx.templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"  # moderator data must not linger in shared caches
    return response


def _safe_next(value: str | None) -> str:
    # Only paths on this site: "//evil.example" and "https://…" would make the login an open redirect.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/queue"
    return value


def display_session(request: Request) -> PageSession | None:
    """The session for the page header of an error page (no checks: the page shows nothing of value)."""
    return context(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def current_session(request: Request) -> PageSession:
    """The signed-in moderator, or a redirect to the login page. Re-checks the token every time."""
    ctx = context(request)
    session = ctx.sessions.get(request.cookies.get(SESSION_COOKIE))
    token = ctx.tokens.get(session.token_id) if session else None
    if session is None or token is None or not token.allows("moderate"):
        if session is not None:
            ctx.sessions.delete(session.id)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # back to the page the form was on, not to a POST-only address
            path = request.url.path.removesuffix("/decision") if "/reports/" in path else "/queue"
        raise LoginRequired(path)
    ctx.limit_token(token)
    return session


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=0, max_fields=20, max_part_size=64_000)
    except Exception as exc:  # malformed multipart or urlencoded bodies
        raise ApiError(400, "could not read the form", str(exc)) from exc


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FORM_FIELD] if isinstance(value, str) else ""


def _check_csrf(session: PageSession, form: FormData) -> None:
    if not hmac.compare_digest(_field(form, "csrf").encode(), session.csrf.encode()):
        raise ApiError(403, "the form expired or came from another site", "reload the page and try again")


def _cookie_args(ctx: AppContext) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": ctx.settings.secure_cookies, "path": "/"}


# --- login ----------------------------------------------------------------------------------------------


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/queue", status_code=303)


def _login_page(request: Request, next_path: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    ctx = context(request)
    nonce = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, next=next_path, csrf=nonce, error=error, session=None)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **_cookie_args(ctx))
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, _safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = context(request)
    form = await _form(request)
    next_path = _safe_next(_field(form, "next"))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), _field(form, "csrf").encode()):
        return _login_page(request, next_path, "The login form expired. Please try again.", 400)
    ctx.limit_address(request, "login")
    secret = _field(form, "token").strip()
    token = ctx.tokens.verify(secret) if secret else None
    if token is None:
        return _login_page(request, next_path, "That token is not valid (or was revoked).", 401)
    if not token.allows("moderate"):
        return _login_page(request, next_path, "That token lacks the moderate scope.", 403)
    session = ctx.sessions.create(token.id, token.name)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, session.id, **_cookie_args(ctx))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx = context(request)
    session = ctx.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        _check_csrf(session, await _form(request))
        ctx.sessions.delete(session.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- queue, report, audit log -----------------------------------------------------------------------------


@router.get("/queue")
def queue_page(request: Request, status: str = "open") -> HTMLResponse:
    session = current_session(request)
    ctx = context(request)
    if status not in QUEUE_TABS:
        status = "open"
    items = ctx.moderator.queue(None if status == "all" else status)
    counts = ctx.moderator.report_counts()
    counts["all"] = sum(counts.values())
    return render(request, "queue.html", session=session, items=items, status=status, tabs=QUEUE_TABS, counts=counts)


def _report_page(
    request: Request,
    session: PageSession,
    report_id: int,
    *,
    error: str | None = None,
    chosen: str | None = None,
    reason: str = "",
    recorded: int | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    if not 1 <= report_id <= 2**62 or not ctx.moderator.report_exists(report_id):  # SQLite ints are 64-bit
        raise ApiError(404, f"no report {report_id}")
    detail = ctx.moderator.review(report_id)
    findings = []
    for finding in detail.findings:
        audit = None
        if finding.rule == RelatedWork.id:  # its evidence is the audit
            try:
                audit = RelatedWorkAudit.model_validate(finding.evidence)
            except ValidationError:
                audit = None
        findings.append(
            {"finding": finding, "pairs": passage_pairs(ctx.moderator, finding, detail.submission), "audit": audit}
        )
    others = [
        i for i in ctx.moderator.queue(None) if i.submission_id == detail.submission_id and i.report_id != report_id
    ]
    recorded_decision = next((d for d in detail.decisions if d.id == recorded), None)
    return render(
        request,
        "report.html",
        status,
        session=session,
        report=detail,
        findings=findings,
        others=others,
        decisions=DECISIONS,
        error=error,
        chosen=chosen,
        reason=reason,
        recorded=recorded_decision,
    )


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: int, recorded: int | None = None) -> HTMLResponse:
    session = current_session(request)
    return _report_page(request, session, report_id, recorded=recorded)


@router.post("/reports/{report_id}/decision")
async def decide(request: Request, report_id: int) -> Response:
    session = current_session(request)
    form = await _form(request)
    _check_csrf(session, form)
    status, reason = _field(form, "status"), _field(form, "reason").strip()
    error = None
    if status not in REPORT_STATUSES:
        error = "Choose a decision: approve, needs changes, reject or reopen."
    elif not reason:
        error = "Give a reason: the author sees it, and it is shown if the post is submitted again."
    if error:
        return _report_page(request, session, report_id, error=error, chosen=status, reason=reason, status=400)
    ctx = context(request)
    if not 1 <= report_id <= 2**62 or not ctx.moderator.report_exists(report_id):
        raise ApiError(404, f"no report {report_id}")
    try:
        # Threadpool: deciding stores the post and sketches it for the duplicate index (CPU work).
        decision = await run_in_threadpool(ctx.moderator.decide, report_id, status, session.name, reason)
    except ModerationError as exc:
        return _report_page(request, session, report_id, error=str(exc), chosen=status, reason=reason, status=400)
    return RedirectResponse(f"/reports/{report_id}?recorded={decision.id}#decision-status", status_code=303)


@router.get("/audit")
def audit_page(request: Request, page: int = 1) -> HTMLResponse:
    session = current_session(request)
    page = max(1, min(page, 100_000))
    per_page = 50
    entries = context(request).moderator.audit_log(per_page + 1, (page - 1) * per_page)
    return render(
        request,
        "audit.html",
        session=session,
        entries=entries[:per_page],
        page=page,
        more=len(entries) > per_page,
    )


# --- search -------------------------------------------------------------------------------------------------


@router.get("/search")
def search_page(request: Request, q: str = "", kind: str = "related", style: str = "apa") -> HTMLResponse:
    session = current_session(request)
    ctx = context(request)
    q = q.strip()[:2_000]
    kind = kind if kind in ("related", "cite", "citedby") else "related"
    style = style if style in {s.value for s in Style} else "apa"
    related = cited = cited_by = None
    error = None
    if q:
        try:
            if kind == "related":
                related = ctx.engine.ask(q, k=8)
            elif kind == "cite":
                cited = ctx.engine.cite(q, style=style)
            else:
                cited_by = ctx.moderator.cited_by(q)
        except ValueError as exc:  # ModerationError is a ValueError too
            error = str(exc)
    return render(
        request,
        "search.html",
        session=session,
        q=q,
        kind=kind,
        style=style,
        styles=[s.value for s in Style],
        related=related,
        cited=cited,
        cited_by=cited_by,
        error=error,
    )


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='')}", status_code=303)
