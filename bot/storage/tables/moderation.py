"""Moderation tables, created on the engine's own database: community members, forum posts and pages,
the reverse link index, sketches for near-duplicate search, and the review queue with its audit log.

Table names carry a `mod_` prefix so they never collide with the knowledge-base tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


class Member(SQLModel, table=True):
    __tablename__ = "mod_member"

    key: str = Field(primary_key=True, description="Case-folded handle: handles are matched without case.")
    handle: str
    name: str | None = None
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    karma: int | None = None
    user_id: str | None = Field(default=None, index=True, description="ForumMagnum _id when imported from an API.")
    updated_at: datetime = Field(default_factory=now)


class Post(SQLModel, table=True):
    """A forum post, or a page outside any forum (`forum` is None: a blog, a personal site)."""

    __tablename__ = "mod_post"

    id: str = Field(primary_key=True)
    forum: str | None = Field(default=None, index=True)
    author: str = Field(index=True)
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_format: str = "markdown"
    text: str = Field(default="", sa_column=Column(Text, nullable=False), description="Plain text of the body.")
    url: str | None = Field(default=None, sa_column=Column(Text))
    canonical_url: str | None = Field(default=None, sa_column=Column(Text))
    posted_at: datetime | None = None
    status: str = Field(default="published", index=True)
    rejected_reason: str | None = Field(default=None, sa_column=Column(Text))
    source: str | None = None
    updated_at: datetime = Field(default_factory=now)


class PostLink(SQLModel, table=True):
    """One outbound link or id in a post: the reverse index behind `alignbot citedby`."""

    __tablename__ = "mod_post_link"

    id: int | None = Field(default=None, primary_key=True)
    post_id: str = Field(index=True, foreign_key="mod_post.id")
    key: str = Field(index=True, description="arxiv:…, doi:…, post:… or url:… (see bot.moderation.text.link_key)")
    url: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False), description="The link text.")
    location: str = "body"  # body | footnote | references
    section: str = Field(default="", sa_column=Column(Text, nullable=False))


class TextSketch(SQLModel, table=True):
    """LSH band keys of a stored text (`post:<id>` or `work:<id>`), so the index loads without re-hashing."""

    __tablename__ = "mod_text_sketch"

    name: str = Field(primary_key=True)
    params: str
    text_hash: str
    windows: int
    keys: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Report(SQLModel, table=True):
    __tablename__ = "mod_report"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: str = Field(index=True)
    forum: str
    title: str = Field(sa_column=Column(Text, nullable=False))
    submitter: str
    status: str = Field(default="open", index=True)  # open | approved | rejected | needs-changes | superseded
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submission: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    superseded_by: int | None = Field(default=None, index=True, description="The later report that replaced it.")


class Decision(SQLModel, table=True):
    """The audit log: every moderator decision, never edited or deleted."""

    __tablename__ = "mod_decision"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(index=True, foreign_key="mod_report.id")
    previous_status: str
    status: str
    moderator: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_at: datetime = Field(default_factory=now)
