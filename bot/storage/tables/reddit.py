"""What the Reddit bot has handled: one row per comment or submission (see bot.reddit.handled for the
claim, act, finish order that makes replies at-most-once)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class RedditHandled(SQLModel, table=True):
    __tablename__ = "reddit_handled"

    item_id: str = Field(primary_key=True, description="Reddit fullname: t1_… (comment) or t3_… (submission).")
    kind: str = Field(description="comment | submission")
    action: str = Field(index=True, description="pending, replied, modnote, modmail, report, dry-run, clean, failed…")
    detail: str | None = Field(default=None, sa_column=Column(Text), description="Reply id, report id or error.")
    handled_at: datetime = Field(default_factory=_now)
