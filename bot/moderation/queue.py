"""The review queue and its audit log: reports of checks, moderators' decisions on them, and the reads the
CLI, the Discord bot and the HTTP app show them with.

A submission has at most one report awaiting a decision: recording a new check of it supersedes the
earlier open (or needs-changes) report, which then names its successor and can no longer be decided on,
so a stale "no flags" report is never approved by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import SQLModel, col, select

import bot.moderation.rules  # noqa: F401 - declares the advisory rules, which reading findings back needs
from bot.moderation.common import ModerationError, Store
from bot.moderation.imports import Posts
from bot.moderation.schemas import (
    QUEUE_STATUSES,
    REPORT_STATUSES,
    SUPERSEDED,
    DecisionRecord,
    Finding,
    PostRecord,
    QueueItem,
    ReportDetail,
    Submission,
    flags,
    rule_ids,
)
from bot.moderation.severity import Severity
from bot.storage.tables.moderation import Decision, Member, Post, PostLink, Report, now

# Reports still waiting for the moderators (or the author): a new check of the submission replaces them.
_AWAITING = ("open", "needs-changes")


@dataclass
class LogEntry:
    """One decision in the audit log, with the report it was taken on."""

    decision: DecisionRecord
    title: str
    submission_id: str


class ReviewQueue:
    def __init__(self, store: Store, posts: Posts) -> None:
        self.store = store
        self.posts = posts

    def record(self, submission: Submission, findings: list[Finding]) -> ReportDetail:
        """Open a report for a check, superseding the submission's reports that await a decision."""
        with self.store.session() as session:
            row = Report(
                submission_id=submission.id,
                forum=submission.forum,
                title=submission.title,
                submitter=submission.submitter,
                findings=[f.model_dump(mode="json") for f in findings],
                submission=submission.model_dump(mode="json"),
            )
            session.add(row)
            session.commit()
            report_id = row.id
        self._supersede(submission.id)
        with self.store.session() as session:
            return self._detail(session.get(Report, report_id), [])  # type: ignore[arg-type]

    def _supersede(self, submission_id: str) -> None:
        """Leave only the newest awaiting report of a submission. Run after the new report is committed, so
        of two checks recorded at once on PostgreSQL the later to get here sees both and keeps the newest."""
        with self.store.session() as session:
            awaiting = session.exec(
                select(Report)
                .where(Report.submission_id == submission_id, col(Report.status).in_(_AWAITING))
                .order_by(col(Report.id).desc())
                .with_for_update()
            ).all()
            for old in awaiting[1:]:
                old.status, old.superseded_by, old.updated_at = SUPERSEDED, awaiting[0].id, now()
                session.add(old)
            session.commit()

    def exists(self, report_id: int) -> bool:
        with self.store.session() as session:
            return session.get(Report, report_id) is not None

    def queue(self, status: str | None = "open") -> list[QueueItem]:
        if status is not None and status not in QUEUE_STATUSES:
            raise ModerationError(f"status must be one of {', '.join(QUEUE_STATUSES)}, not {status!r}")
        with self.store.session() as session:
            query = select(Report).order_by(Report.created_at, Report.id)
            if status is not None:
                query = query.where(Report.status == status)
            return [queue_item(r) for r in session.exec(query).all()]

    def review(self, report_id: int) -> ReportDetail:
        with self.store.session() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise ModerationError(f"no report {report_id}")
            decisions = session.exec(
                select(Decision).where(Decision.report_id == report_id).order_by(Decision.decided_at, Decision.id)
            ).all()
            return self._detail(report, decisions)

    @staticmethod
    def _detail(report: Report, decisions: list[Decision]) -> ReportDetail:
        return ReportDetail(
            **queue_item(report).model_dump(),
            findings=[Finding.model_validate(f) for f in report.findings],
            submission=report.submission,
            decisions=[_decision(d) for d in decisions],
        )

    def decide(self, report_id: int, status: str, moderator: str, reason: str) -> DecisionRecord:
        """Record a moderator's decision. Approved and rejected submissions join the stored posts, so a
        later resubmission is caught as a duplicate with this rejection reason."""
        if status not in REPORT_STATUSES:
            raise ModerationError(f"status must be one of {', '.join(REPORT_STATUSES)}, not {status!r}")
        if not moderator.strip():
            raise ModerationError("a decision needs the moderator's name")
        if not reason.strip():
            raise ModerationError("a decision needs a reason")
        with self.store.session() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise ModerationError(f"no report {report_id}")
            if report.status == SUPERSEDED:
                raise ModerationError(
                    f"report {report_id} was superseded by report {report.superseded_by}, a later check of "
                    f"the same submission: decide on that one"
                )
            decision = Decision(
                report_id=report_id,
                previous_status=report.status,
                status=status,
                moderator=moderator.strip(),
                reason=reason.strip(),
            )
            report.status, report.updated_at = status, now()
            session.add(decision)
            session.add(report)
            session.commit()
            submission = Submission.model_validate(report.submission)
        if status in ("approved", "rejected"):
            self.posts.save([_as_post(submission, status, reason.strip())], source=f"report:{report_id}")
        return _decision(decision)

    def audit_log(self, limit: int = 100, offset: int = 0) -> list[LogEntry]:
        """Every decision on every report, newest first."""
        with self.store.session() as session:
            rows = session.exec(
                select(Decision, Report.title, Report.submission_id)
                .join(Report, col(Report.id) == Decision.report_id)
                .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
                .offset(offset)
                .limit(limit)
            ).all()
        return [LogEntry(_decision(d), title, submission_id) for d, title, submission_id in rows]

    def report_counts(self) -> dict[str, int]:
        """Reports by status."""
        with self.store.session() as session:
            rows = session.exec(select(Report.status, func.count()).group_by(Report.status)).all()
        return {status: n for status, n in rows}

    def stats(self) -> dict[str, int]:
        with self.store.session() as session:

            def count(model: type[SQLModel]) -> int:
                return session.exec(select(func.count()).select_from(model)).one()

            return {
                "members": count(Member),
                "posts": count(Post),
                "links": count(PostLink),
                "reports": count(Report),
                "decisions": count(Decision),
            }


def _as_post(submission: Submission, status: str, reason: str) -> PostRecord:
    return PostRecord(
        id=submission.id,
        forum=submission.forum,
        author=submission.author,
        authors=submission.handles,
        title=submission.title,
        body=submission.body,
        body_format=submission.body_format,
        url=submission.url,
        canonical_url=submission.canonical_url,
        posted_at=submission.posted_at,
        status="published" if status == "approved" else "rejected",
        rejected_reason=reason if status == "rejected" else None,
    )


def queue_item(report: Report) -> QueueItem:
    fired = flags(Finding.model_validate(f) for f in report.findings)
    return QueueItem(
        report_id=report.id or 0,
        submission_id=report.submission_id,
        forum=report.forum,
        title=report.title,
        submitter=report.submitter,
        status=report.status,
        created_at=report.created_at,
        rules=rule_ids(fired),
        severity=Severity.highest(f.severity for f in fired),
        superseded_by=report.superseded_by,
    )


def _decision(d: Decision) -> DecisionRecord:
    return DecisionRecord(
        id=d.id or 0,
        report_id=d.report_id,
        previous_status=d.previous_status,
        status=d.status,
        moderator=d.moderator,
        reason=d.reason,
        decided_at=d.decided_at,
    )
