"""API token dependencies: `read_access` (may be open) and `require(scope)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.http.context import ApiError, context
from bot.http.tokens import TokenInfo

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `alignbot token create NAME --scope …`, sent as `Authorization: Bearer <token>`.",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def _token(request: Request, credentials: HTTPAuthorizationCredentials | None, scope: str) -> TokenInfo:
    ctx = context(request)
    if credentials is None:
        raise ApiError(401, "missing API token", "send 'Authorization: Bearer <token>'", headers=_CHALLENGE)
    token = ctx.tokens.verify(credentials.credentials)
    if token is None:
        # Failed guesses are limited per address, so nobody can try tokens at full speed.
        ctx.limit_address(request, "bad-token")
        raise ApiError(401, "invalid or revoked API token", headers=_CHALLENGE)
    if not token.allows(scope):
        raise ApiError(403, f"this token lacks the '{scope}' scope", {"token": token.name, "scopes": token.scopes})
    ctx.limit_token(token)
    return token


def require(scope: str) -> Callable[..., TokenInfo]:
    def dependency(request: Request, credentials: Credentials) -> TokenInfo:
        return _token(request, credentials, scope)

    return dependency


def _read_access(request: Request, credentials: Credentials) -> TokenInfo | None:
    """Reads need a token unless the server runs with open reads; then anonymous callers are limited
    per address and a token, if sent, still counts against its own (usually larger) limit."""
    ctx = context(request)
    if credentials is None and ctx.settings.open_reads:
        ctx.limit_address(request, "anonymous")
        return None
    return _token(request, credentials, "read")


read_access = Depends(_read_access)
