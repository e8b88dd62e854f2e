"""`create_app(engine, moderator, settings)`: the forum plugin API, health and metrics, and the moderator page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.engine import Engine
from bot.http import api, pages
from bot.http.auth import require
from bot.http.config import ServerSettings
from bot.http.context import ApiError, AppContext, context
from bot.http.metrics import MetricsMiddleware
from bot.http.middleware import BodyLimitMiddleware
from bot.http.ratelimit import RateLimiter
from bot.http.schemas import ERROR_RESPONSES, Health
from bot.http.tokens import SCOPE_HELP, TokenStore
from bot.moderation.service import Moderator
from bot.storage.shared import Deliveries, PageSessions

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

DESCRIPTION = f"""
Related work, citations and moderation for forums that are not on Discord or Reddit.

Send an API token as `Authorization: Bearer <token>` (`alignbot token create NAME --scope …`). Scopes:

{chr(10).join(f"- `{name}`: {text}" for name, text in SCOPE_HELP.items())}

Errors are JSON `{{"error": "…", "detail": …}}` with a 4xx status; 429 carries `Retry-After`.
"""


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/v1/", "/healthz", "/metrics", "/openapi", "/docs", "/redoc")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if _wants_html(request):
            session = pages.display_session(request)
            response = pages.render(
                request, "error.html", exc.status, error=exc.error, detail=exc.detail, session=session
            )
            response.headers.update(exc.headers or {})
            return response
        return _error(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(pages.LoginRequired)
    async def login_required(_request: Request, exc: pages.LoginRequired) -> Response:
        return pages.login_redirect(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            message = f"no such page: {request.url.path}" if _wants_html(request) else "not found"
        if _wants_html(request):
            session = pages.display_session(request)
            return pages.render(request, "error.html", exc.status_code, error=message, detail=None, session=session)
        return _error(exc.status_code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            position = bad_json["loc"][-1] if bad_json.get("loc") else "?"
            reason = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
            return _error(400, "invalid JSON", f"{reason} at character {position}")
        content_type = request.headers.get("content-type", "")
        if request.method == "POST" and content_type and "json" not in content_type.lower():
            return _error(
                415, "send JSON", f"the body must be JSON with 'Content-Type: application/json', not {content_type!r}"
            )
        detail = []
        for e in errors:
            loc = [str(p) for p in e.get("loc", ())]
            field = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
            msg = "unknown field" if e.get("type") == "extra_forbidden" else e.get("msg", "invalid")
            detail.append({"field": field or "body", "in": loc[0] if loc else "body", "message": msg})
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in detail[:5])
        return _error(422, f"invalid request: {summary}", detail)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal error", "the server logged the details")


def create_app(engine: Engine, moderator: Moderator, settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    if not (HERE / "templates" / "base.html").is_file():
        # A wheel built without package data (templates, static files) would fail on the first page instead.
        raise RuntimeError(f"{HERE / 'templates'} is missing: install alignbot with its package data")
    app = FastAPI(
        # FastAPI's docs pages load swagger-ui/redoc from a CDN into our origin: off unless configured.
        docs_url="/docs" if settings.docs else None,
        redoc_url="/redoc" if settings.docs else None,
        title="alignbot",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "read", "description": "Any token (or none, with open reads)."},
            {"name": "write", "description": "Tokens with the `write` scope."},
            {"name": "moderate", "description": "Tokens with the `moderate` scope."},
            {"name": "ops", "description": "Health: no token. Metrics: the `metrics` scope unless configured open."},
        ],
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    ctx = AppContext(
        engine=engine,
        moderator=moderator,
        settings=settings,
        tokens=TokenStore(engine.db),
        templates=templates,
        limiter=RateLimiter(engine.db.engine),
        sessions=PageSessions(engine.db.engine, settings.session_hours * 3600),
        deliveries=Deliveries(engine.db.engine),
    )
    app.state.ctx = ctx

    def body_limit(path: str) -> int:
        return settings.max_ingest_body_bytes if path == "/v1/papers" else settings.max_body_bytes

    # The last added is outermost: metrics wrap the size limit, so refused requests are counted too.
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(MetricsMiddleware, metrics=ctx.metrics)
    if settings.trust_proxy_headers and not settings.trusted_proxies:
        log.warning(
            "ALIGNBOT_HTTP_TRUST_PROXY_HEADERS is deprecated: set ALIGNBOT_HTTP_TRUSTED_PROXIES to your proxies' "
            "addresses (now trusting %s)",
            ", ".join(settings.proxy_networks()),
        )
    if settings.proxy_networks():
        # Before the metrics and the routes, which then see the client. uvicorn's middleware takes the rightmost
        # untrusted X-Forwarded-For entry, so a client cannot choose its address by sending the header itself.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxy_networks())

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    _install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/healthz", response_model=Health, tags=["ops"], responses={503: {"model": Health}})
    def healthz(request: Request) -> Response:
        """Whether the database and the vector store answer (its field keeps the documented name `chroma`)."""
        eng = context(request).engine
        works: int | None = None
        try:
            with eng.db.session() as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            works = eng.db.count_works()
            database = "ok"
        except Exception as exc:
            database = f"error: {type(exc).__name__}"
        try:
            eng.vectors.count()
            vectors = "ok"
        except Exception as exc:
            vectors = f"error: {type(exc).__name__}"
        ok = database == "ok" and vectors == "ok"
        health = Health(status="ok" if ok else "unavailable", database=database, chroma=vectors, works=works)
        return JSONResponse(health.model_dump(), status_code=200 if ok else 503)

    metrics_access = [] if settings.metrics_open else [Depends(require("metrics"))]
    # The text is documented by hand: a PlainTextResponse route would document its JSON errors as text too.
    metrics_answers: dict[int | str, dict[str, Any]] = {
        200: {"description": "Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    if not settings.metrics_open:
        metrics_answers.update({status: ERROR_RESPONSES[status] for status in (401, 403, 429)})

    @app.get("/metrics", tags=["ops"], dependencies=metrics_access, responses=metrics_answers)
    def metrics(request: Request) -> PlainTextResponse:
        """Prometheus text format: requests and latency by route, works, reports by status."""
        c = context(request)
        gauges: dict[str, tuple[str, list[tuple[dict[str, str], float]]]] = {
            "alignbot_works": ("Works in the knowledge base.", [({}, c.engine.db.count_works())]),
            "alignbot_reports": (
                "Moderation reports by status.",
                [({"status": s}, n) for s, n in sorted(c.moderator.report_counts().items())],
            ),
            "alignbot_page_sessions": ("Signed-in moderator page sessions.", [({}, len(c.sessions))]),
        }
        return PlainTextResponse(c.metrics.render(gauges), media_type="text/plain; version=0.0.4")

    return app
