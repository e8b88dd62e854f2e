"""Read-only queries on the moderation tables that the service has no method for (yet): the audit log
across all reports, report existence, and the stored source texts that evidence points to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from bot.moderation.schemas import DecisionRecord
from bot.moderation.service import Moderator
from bot.storage.tables.moderation import Decision, Post, Report


@dataclass
class LogEntry:
    decision: DecisionRecord
    title: str
    submission_id: str


def report_exists(moderator: Moderator, report_id: int) -> bool:
    with moderator.session() as session:
        return session.get(Report, report_id) is not None


def audit_log(moderator: Moderator, limit: int = 100, offset: int = 0) -> list[LogEntry]:
    """Every decision on every report, newest first."""
    with moderator.session() as session:
        rows = session.exec(
            select(Decision, Report.title, Report.submission_id)
            .join(Report, col(Report.id) == Decision.report_id)
            .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return [
        LogEntry(DecisionRecord.model_validate(d, from_attributes=True), title, submission_id)
        for d, title, submission_id in rows
    ]


def report_counts(moderator: Moderator) -> dict[str, int]:
    with moderator.session() as session:
        rows = session.exec(select(Report.status, func.count()).group_by(Report.status)).all()
    return {status: n for status, n in rows}


def source_text(moderator: Moderator, kind: str, source_id: str) -> str | None:
    """The plain text a finding's source was compared with: a stored post or page, or a work's abstract
    and summary (what the duplicate index sketches)."""
    if kind in ("post", "page"):
        with moderator.session() as session:
            post = session.get(Post, source_id)
        return post.text if post else None
    if kind == "work":
        work = moderator.engine.work(source_id)
        return "\n\n".join(t for t in (work.abstract, work.summary) if t) if work else None
    return None
