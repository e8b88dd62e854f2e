"""What every request handler shares: the engine, the moderator, tokens, limits, sessions, metrics."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
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


class ApiError(Exception):
    """An error answered as `{"error": …, "detail": …}` with a 4xx status."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


@dataclass
class PageSession:
    id: str
    token_id: int
    name: str
    csrf: str
    expires: float


class SessionStore:
    """Moderator page sessions, server-side: the cookie holds only a random id, so logging out or
    revoking the token ends the session at once. Sessions live in memory and end with the process."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, PageSession] = {}
        self._lock = threading.Lock()

    def create(self, token: TokenInfo) -> PageSession:
        session = PageSession(
            id=secrets.token_urlsafe(32),
            token_id=token.id,
            name=token.name,
            csrf=secrets.token_urlsafe(32),
            expires=time.monotonic() + self.idle_seconds,
        )
        with self._lock:
            now = time.monotonic()
            for sid in [s for s, v in self._sessions.items() if v.expires < now]:
                del self._sessions[sid]
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> PageSession | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            now = time.monotonic()
            if session.expires < now:
                del self._sessions[session_id]
                return None
            session.expires = now + self.idle_seconds  # idle timeout: activity extends it
            return session

    def delete(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def __len__(self) -> int:
        return len(self._sessions)


class DeliveryLog:
    """Recently answered webhook deliveries by (token, delivery id): forums retry on timeouts."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> Any:
        with self._lock:
            return self._seen.get(key)

    def put(self, key: tuple[int, str], value: Any) -> None:
        with self._lock:
            self._seen[key] = value
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)


@dataclass
class AppContext:
    engine: Engine
    moderator: Moderator
    settings: ServerSettings
    tokens: TokenStore
    templates: Jinja2Templates
    limiter: RateLimiter = field(default_factory=RateLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    sessions: SessionStore = field(default_factory=lambda: SessionStore(12 * 3600))
    deliveries: DeliveryLog = field(default_factory=DeliveryLog)

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
