"""What every request handler shares: the engine, the moderator, tokens, limits, sessions, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from bot.engine import Engine
from bot.http.config import ServerSettings
from bot.http.metrics import Metrics
from bot.http.ratelimit import RateLimiter, retry_after
from bot.http.tokens import TokenInfo, TokenStore
from bot.moderation.service import Moderator
from bot.storage.shared import Deliveries, PageSession, PageSessions

__all__ = ["ApiError", "AppContext", "PageSession", "context"]


class ApiError(Exception):
    """An error answered as `{"error": …, "detail": …}` with a 4xx status."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


@dataclass
class AppContext:
    engine: Engine
    moderator: Moderator
    settings: ServerSettings
    tokens: TokenStore
    templates: Jinja2Templates
    # In the database, shared by every replica: a token's limit, a moderator's session, a delivery answered once.
    limiter: RateLimiter
    sessions: PageSessions
    deliveries: Deliveries
    metrics: Metrics = field(default_factory=Metrics)

    def client_address(self, request: Request) -> str:
        # Behind trusted proxies, ProxyHeadersMiddleware has already put the forwarded client here.
        return request.client.host if request.client else "unknown"

    def limit_token(self, token: TokenInfo) -> None:
        rate = token.rate_per_minute or self.settings.rate_per_minute
        self._take(f"token:{token.id}", rate, self.settings.rate_burst, "token")

    def limit_address(self, request: Request, purpose: str) -> None:
        rate = self.settings.anonymous_rate_per_minute
        burst = max(1, min(self.settings.rate_burst, int(rate)))
        self._take(f"{purpose}:{self.client_address(request)}", rate, burst, purpose)

    def _take(self, key: str, rate: float, burst: int, kind: str) -> None:
        wait = self.limiter.take(key, rate, burst)
        if wait:
            self.metrics.rate_limited[kind] += 1
            raise ApiError(
                429,
                "rate limit exceeded",
                f"at most {rate:g} requests a minute; retry in {retry_after(wait)} s",
                headers={"Retry-After": retry_after(wait)},
            )


def context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]
