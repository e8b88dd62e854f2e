"""The moderation service every adapter calls: `Moderator(engine)`, a facade over its parts.

Each job lives in its own module: importing (`imports`, `members`), the near-duplicate index (`index`),
checks (`checks`), the related-work audit (`audit`), cited-by (`citedby`), the queue and decisions (`queue`),
and the one intake every front end sends submissions through (`intake`). Nothing here acts on a forum: a
check records a report for a moderator, a decision records the moderator's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlmodel import Session

from bot.engine import Engine
from bot.moderation.citedby import cited_by
from bot.moderation.common import ModerationError, Progress, Store
from bot.moderation.imports import Posts, load_submission, read_jsonl, validation_message
from bot.moderation.index import DuplicateIndex
from bot.moderation.members import Members
from bot.moderation.queue import LogEntry, ReviewQueue
from bot.moderation.schemas import (
    CheckReport,
    CitedByResult,
    DecisionRecord,
    Finding,
    ImportReport,
    MemberRecord,
    PostRecord,
    QueueItem,
    RelatedWorkAudit,
    ReportDetail,
    Submission,
)
from bot.moderation.severity import Severity

if TYPE_CHECKING:  # the rules and text parsing load on first use: the queue needs neither
    from bot.moderation.audit import Auditor
    from bot.moderation.checks import Checker
    from bot.moderation.config import ModerationConfig
    from bot.moderation.intake import Intake, SubmissionIntake
    from bot.moderation.shingles import BandIndex, SketchParams
    from bot.storage.tables.moderation import Member

__all__ = [
    "LogEntry",
    "ModerationError",
    "Moderator",
    "Progress",
    "dump",
    "load_submission",
    "read_jsonl",
    "validation_message",
]


class Moderator:
    """The rule file is read, and the parts that run rules (audit, checks, intake: stateless, over the shared
    parts) are built, on first use: the review queue, decisions and cited-by never load the rules."""

    def __init__(self, engine: Engine, config: ModerationConfig | None = None, config_path: Path | None = None):
        self.engine = engine
        self.db = engine.db
        self.config_path = config_path or engine.settings.knowledge_dir / "moderation.yaml"
        store = Store(engine, (lambda: config) if config is not None else self._load_config)
        self.store = store
        self.duplicates = DuplicateIndex(store)  # the one near-duplicate index every part shares
        self.member_list = Members(store)
        self.posts = Posts(store, self.duplicates)
        self.reviews = ReviewQueue(store, self.posts)

    def _load_config(self) -> ModerationConfig:
        from bot.moderation.config import load_config

        return load_config(self.config_path)

    @property
    def config(self) -> ModerationConfig:
        """The rules (ConfigError when the rule file is invalid)."""
        return self.store.config

    @property
    def params(self) -> SketchParams:
        return self.store.params

    @cached_property
    def auditor(self) -> Auditor:
        from bot.moderation.audit import Auditor

        return Auditor(self.store)

    @cached_property
    def checker(self) -> Checker:
        from bot.moderation.checks import Checker

        return Checker(self.store, self.duplicates, self.member_list, self.auditor)

    @cached_property
    def intake(self) -> SubmissionIntake:
        """The intake every front end uses: `receive(submission, origin=…)` (see `bot.moderation.intake`)."""
        from bot.moderation.intake import SubmissionIntake

        return SubmissionIntake(self.checker, self.reviews, self.posts)

    def receive(
        self,
        submission: Submission,
        *,
        origin: str,
        record: bool = True,
        rules: set[str] | None = None,
        published: PostRecord | None = None,
        crosspost_of: PostRecord | None = None,
        notify_at: Severity | str = Severity.LOW,
    ) -> Intake:
        """Check a submission from `origin` and act on the result (`SubmissionIntake.receive`)."""
        return self.intake.receive(
            submission,
            origin=origin,
            record=record,
            rules=rules,
            published=published,
            crosspost_of=crosspost_of,
            notify_at=notify_at,
        )

    def session(self) -> Session:
        return self.store.session()

    # --- community data ------------------------------------------------------------------------

    def import_members(self, path: Path) -> ImportReport:
        return self.member_list.import_file(path)

    def store_members(
        self,
        records: Iterable[MemberRecord],
        report: ImportReport | None = None,
        user_ids: dict[str, str] | None = None,
    ) -> ImportReport:
        return self.member_list.save(records, report, user_ids)

    def members(self, handles: Iterable[str]) -> dict[str, Member]:
        return self.member_list.get(handles)

    def ingest_posts(self, path: Path, progress: Progress | None = None) -> ImportReport:
        return self.posts.import_file(path, progress)

    def store_posts(
        self, records: Iterable[PostRecord], report: ImportReport | None = None, source: str | None = None
    ) -> ImportReport:
        return self.posts.save(records, report, source)

    def index(self, progress: Progress | None = None) -> BandIndex:
        return self.duplicates.get(progress)

    def source_text(self, kind: str, source_id: str) -> str | None:
        return self.duplicates.source_text(kind, source_id)

    # --- submissions -----------------------------------------------------------------------------

    def check(self, submission: Submission, dry_run: bool = False, rules: set[str] | None = None) -> CheckReport:
        """Run the enabled rules on a submission and, unless `dry_run`, record the report as open."""
        return self.receive(submission, origin="cli", record=not dry_run, rules=rules).report

    def audit(self, body: str, body_format: str = "markdown", title: str | None = None) -> RelatedWorkAudit:
        return self.auditor.audit(body, body_format, title)

    def audit_finding(
        self, body: str, body_format: str = "markdown", title: str | None = None, author: str = ""
    ) -> Finding:
        return self.auditor.finding(body, body_format, title, author)

    def cited_by(self, reference: str, *, published_only: bool = False) -> CitedByResult:
        """Posts that link `reference` (any of its work's keys); `published_only` for anyone to see."""
        return cited_by(self.store, reference, published_only=published_only)

    # --- review queue and audit log ----------------------------------------------------------------

    def queue(self, status: str | None = "open") -> list[QueueItem]:
        return self.reviews.queue(status)

    def review(self, report_id: int) -> ReportDetail:
        return self.reviews.review(report_id)

    def report_exists(self, report_id: int) -> bool:
        return self.reviews.exists(report_id)

    def decide(self, report_id: int, status: str, moderator: str, reason: str) -> DecisionRecord:
        return self.reviews.decide(report_id, status, moderator, reason)

    def audit_log(self, limit: int = 100, offset: int = 0) -> list[LogEntry]:
        return self.reviews.audit_log(limit, offset)

    def report_counts(self) -> dict[str, int]:
        return self.reviews.report_counts()

    def stats(self) -> dict[str, int]:
        return self.reviews.stats()


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
