"""API tokens: several named tokens with scopes, stored as SHA-256 hashes on the engine's database.

Why plain SHA-256 and no salt: secrets are 256 random bits made here, not passwords people choose, so no
dictionary or brute-force attack applies; a slow KDF would only cost CPU on every request. The hash is
the lookup key, so verifying a token is one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import col, select

from bot.storage import Database
from bot.storage.tables.tokens import ApiToken

SCOPES: tuple[str, ...] = ("read", "write", "moderate", "metrics")
SCOPE_HELP = {
    "read": "related work, citations, bibliographies, cited-by (every token has it)",
    "write": "ingest papers, send forum webhooks (new and edited posts are checked and queued)",
    "moderate": "check and audit posts, the review queue, decisions, the audit log and the moderator page",
    "metrics": "GET /metrics (for a Prometheus scraper; not needed when the server runs with METRICS_OPEN)",
}
PREFIX = "abt_"  # recognisable in logs and by secret scanners


def _now() -> datetime:
    return datetime.now(UTC)


class TokenInfo(BaseModel):
    """A token as the CLI lists it and as request handlers see it: never the secret or its hash."""

    id: int
    name: str
    scopes: list[str]
    rate_per_minute: float | None = None
    created_at: datetime
    revoked: bool

    def allows(self, scope: str) -> bool:
        # Every token may read: a forum plugin that writes also shows related work.
        return scope == "read" or scope in self.scopes


class TokenError(ValueError):
    pass


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id or 0,
        name=row.name,
        scopes=list(row.scopes),
        rate_per_minute=row.rate_per_minute,
        created_at=row.created_at,
        revoked=row.revoked,
    )


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, scopes: Iterable[str], rate_per_minute: float | None = None) -> tuple[TokenInfo, str]:
        """A new token and its secret: the secret is shown once and only its hash is kept."""
        name = name.strip()
        if not name:
            raise TokenError("a token needs a name (who or what uses it)")
        wanted = list(dict.fromkeys(s.strip().lower() for s in scopes if s.strip())) or ["read"]
        unknown = [s for s in wanted if s not in SCOPES]
        if unknown:
            raise TokenError(f"unknown scope(s) {', '.join(unknown)}; scopes are {', '.join(SCOPES)}")
        if rate_per_minute is not None and rate_per_minute <= 0:
            raise TokenError("the rate must be positive")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(name=name, token_hash=hash_secret(secret), scopes=wanted, rate_per_minute=rate_per_minute)
        with self.db.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return _info(row), secret

    def list(self, include_revoked: bool = True) -> list[TokenInfo]:
        with self.db.session() as session:
            query = select(ApiToken).order_by(col(ApiToken.id))
            if not include_revoked:
                query = query.where(col(ApiToken.revoked).is_(False))
            return [_info(r) for r in session.exec(query).all()]

    def revoke(self, id_or_name: str) -> list[TokenInfo]:
        """Revoke a token by id, or every live token with that name; returns what was revoked."""
        with self.db.session() as session:
            query = select(ApiToken).where(col(ApiToken.revoked).is_(False))
            if id_or_name.isdigit():
                query = query.where(ApiToken.id == int(id_or_name))
            else:
                query = query.where(ApiToken.name == id_or_name)
            rows = session.exec(query).all()
            for row in rows:
                row.revoked, row.revoked_at = True, _now()
                session.add(row)
            session.commit()
            return [_info(r) for r in rows]

    def verify(self, secret: str) -> TokenInfo | None:
        """The live token with this secret, or None."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        with self.db.session() as session:
            row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
        if row is None or row.revoked or not hmac.compare_digest(row.token_hash, digest):
            return None
        return _info(row)

    def get(self, token_id: int) -> TokenInfo | None:
        """A live token by id: sessions re-check it on every request, so revoking ends them."""
        with self.db.session() as session:
            row = session.get(ApiToken, token_id)
        return None if row is None or row.revoked else _info(row)
