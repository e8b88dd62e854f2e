"""State that every process serving one knowledge base shares through its database: request rate-limit
buckets, moderator page sessions and answered webhook deliveries. (Metadata API pacing is
`Database.reserve_slot`; the Reddit bot's claims are bot.reddit.handled.)

Each operation is one short transaction, atomic on SQLite and PostgreSQL alike, so N replicas of the HTTP
server behave as one: a token gets its limit once, not N times, and a moderator's session works on any of them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, Text, case, delete, func, select, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from bot.storage.database import upsert_insert


class RateBucket(SQLModel, table=True):
    """A token bucket: `tokens` requests left at unix time `updated`, refilled at the caller's rate."""

    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, description="token:<id>, or <purpose>:<client address>.")
    tokens: float
    updated: float = Field(index=True)
    allowed: bool = Field(default=True, description="Whether the last take was allowed (read by RETURNING).")


class PageSessionRow(SQLModel, table=True):
    """A moderator's signed-in page session. The cookie's random id is stored hashed: a leaked database
    does not sign anyone in."""

    __tablename__ = "page_session"

    id_hash: str = Field(primary_key=True)
    token_id: int = Field(index=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    csrf: str
    expires: float = Field(index=True, description="Unix time; every request extends it (idle timeout).")


class WebhookDelivery(SQLModel, table=True):
    """A webhook delivery being answered (result None) or answered, by (token, delivery id)."""

    __tablename__ = "webhook_delivery"

    token_id: int = Field(primary_key=True)
    delivery_id: str = Field(primary_key=True)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    received: float = Field(index=True)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class RateBuckets:
    """Token buckets in the database; `take` is one atomic upsert (no read-then-write race between replicas)."""

    # Buckets idle this long are full again at any sane rate: deleted now and then so the table stays small.
    IDLE_SECONDS = 3600.0

    def __init__(self, engine: SAEngine, clock: Any = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._swept = float("-inf")

    def take(self, key: str, rate_per_minute: float, burst: int) -> float:
        """Take one request from `key`'s bucket: 0 when allowed, else the seconds until one is."""
        rate = rate_per_minute / 60.0
        now = self.clock()
        table = RateBucket.__table__  # type: ignore[attr-defined]
        elapsed = case((table.c.updated < now, now - table.c.updated), else_=0.0)  # clocks of replicas may differ
        refilled = table.c.tokens + elapsed * rate
        refilled = case((refilled > burst, float(burst)), else_=refilled)
        statement = upsert_insert(self.engine)(table).values(
            key=key, tokens=float(burst) - 1, updated=now, allowed=True
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "tokens": case((refilled >= 1, refilled - 1), else_=refilled),
                "updated": case((table.c.updated < now, now), else_=table.c.updated),
                "allowed": refilled >= 1,
            },
        ).returning(table.c.tokens, table.c.allowed)
        with self.engine.begin() as connection:
            tokens, allowed = connection.execute(statement).one()
            if now - self._swept > self.IDLE_SECONDS:  # many anonymous addresses would grow the table
                self._swept = now
                connection.execute(delete(table).where(table.c.updated < now - self.IDLE_SECONDS))
        return 0.0 if allowed else (1 - tokens) / rate


@dataclass
class PageSession:
    id: str
    token_id: int
    name: str
    csrf: str
    expires: float


class PageSessions:
    """Moderator page sessions with an idle timeout, readable by every replica."""

    def __init__(self, engine: SAEngine, idle_seconds: float, clock: Any = time.time) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.clock = clock

    def create(self, token_id: int, name: str) -> PageSession:
        """A new session for the holder of API token `token_id`, with a random id and CSRF token."""
        now = self.clock()
        session = PageSession(
            secrets.token_urlsafe(32), token_id, name, secrets.token_urlsafe(32), now + self.idle_seconds
        )
        table = PageSessionRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.expires < now))
            values = {"id_hash": _hash(session.id), "token_id": token_id, "name": name, "csrf": session.csrf}
            connection.execute(table.insert().values(**values, expires=session.expires))
        return session

    def get(self, session_id: str | None) -> PageSession | None:
        """The live session, its idle timeout extended; None when unknown or expired."""
        if not session_id:
            return None
        now = self.clock()
        table = PageSessionRow.__table__  # type: ignore[attr-defined]
        live = (table.c.id_hash == _hash(session_id)) & (table.c.expires >= now)
        extend = update(table).where(live).values(expires=now + self.idle_seconds)
        with self.engine.begin() as connection:
            row = connection.execute(extend.returning(table.c.token_id, table.c.name, table.c.csrf)).first()
        if row is None:
            return None
        return PageSession(session_id, row.token_id, row.name, row.csrf, now + self.idle_seconds)

    def delete(self, session_id: str | None) -> None:
        table = PageSessionRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.id_hash == _hash(session_id or "")))

    def __len__(self) -> int:
        table = PageSessionRow.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).where(table.c.expires >= self.clock())).scalar_one()


class Deliveries:
    """Webhook deliveries by (token, delivery id): the first replica to claim one answers it, a retry gets
    the stored answer. Forums retry on timeouts, possibly to another replica while the first still works."""

    KEEP_SECONDS = 7 * 24 * 3600.0
    ABANDONED_SECONDS = 60.0

    def __init__(self, engine: SAEngine, clock: Any = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._swept = float("-inf")

    def claim(self, token_id: int, delivery_id: str) -> bool:
        """True when this call is the first for the delivery (the caller answers it, then calls `finish`), or
        takes over a claim left unanswered for ABANDONED_SECONDS (its replica died while answering)."""
        now = self.clock()
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        try:
            with self.engine.begin() as connection:
                connection.execute(table.insert().values(token_id=token_id, delivery_id=delivery_id, received=now))
        except IntegrityError:
            where = (table.c.token_id == token_id) & (table.c.delivery_id == delivery_id) & table.c.result.is_(None)
            abandoned = where & (table.c.received < now - self.ABANDONED_SECONDS)
            with self.engine.begin() as connection:
                return connection.execute(update(table).where(abandoned).values(received=now)).rowcount == 1
        if now - self._swept > 3600:
            self._swept = now
            with self.engine.begin() as connection:
                connection.execute(delete(table).where(table.c.received < now - self.KEEP_SECONDS))
        return True

    def result(self, token_id: int, delivery_id: str) -> dict[str, Any] | None:
        """The stored answer of a claimed delivery; None while it is still being answered."""
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        where = (table.c.token_id == token_id) & (table.c.delivery_id == delivery_id)
        with self.engine.connect() as connection:
            return connection.execute(select(table.c.result).where(where)).scalar_one_or_none()

    def finish(self, token_id: int, delivery_id: str, result: dict[str, Any]) -> None:
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        where = (table.c.token_id == token_id) & (table.c.delivery_id == delivery_id)
        with self.engine.begin() as connection:
            connection.execute(update(table).where(where).values(result=result))

    def release(self, token_id: int, delivery_id: str) -> None:
        """Forget a claim whose answer failed, so the forum's retry is answered afresh."""
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        where = (table.c.token_id == token_id) & (table.c.delivery_id == delivery_id) & table.c.result.is_(None)
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(where))
