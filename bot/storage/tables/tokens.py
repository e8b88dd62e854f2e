"""The HTTP API's tokens: only a hash of each secret is stored (see bot.http.tokens, which makes and checks them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    token_hash: str = Field(unique=True, index=True, description="sha256 hex of the secret")
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rate_per_minute: float | None = Field(default=None, description="Overrides the server's default rate.")
    created_at: datetime = Field(default_factory=_now)
    revoked: bool = Field(default=False, index=True)
    revoked_at: datetime | None = None
