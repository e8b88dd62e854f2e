"""What `alignbot sync` remembers between runs (see bot.sync.state): a cursor per source, and synced forum posts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class SyncCursor(SQLModel, table=True):
    """Where the sync of one source (`arxiv:cs:cs:AI`, `forum:lesswrong`) stands."""

    __tablename__ = "sync_cursor"

    source: str = Field(primary_key=True)
    next_from: str | None = Field(default=None, description="Where the next run starts (date or timestamp).")
    window_from: str | None = Field(default=None, description="The run in progress: its start …")
    window_until: str | None = Field(default=None, description="… its end, if one was asked for …")
    high_water: str | None = Field(
        default=None, description="… and where the next run starts once it completes (arXiv: its first answer's date)."
    )
    token: str | None = Field(default=None, sa_column=Column(Text), description="Resumption token or page offset.")
    seen: int = 0
    kept: int = 0
    updated_at: datetime = Field(default_factory=_now)

    @property
    def in_progress(self) -> bool:
        return self.token is not None


class SyncedPost(SQLModel, table=True):
    """A forum post made into a work: its forum, and its karma as of the last sync (karma changes daily, so it
    lives here rather than among the work's bibliographic fields)."""

    __tablename__ = "sync_forum_post"

    post_id: str = Field(primary_key=True)
    site: str
    work_id: str = Field(index=True)
    karma: int | None = None
    posted_at: str | None = None
    updated_at: datetime = Field(default_factory=_now)
