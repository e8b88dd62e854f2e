"""One intake for submissions from every front end (Discord, Reddit, the HTTP API and webhook, the CLI).

Front ends translate what they saw into a `Submission` (and, where it applies, the copy already published
at the origin and the original of a crosspost) and render the `Intake` they get back. What is checked,
what is recorded, what is stored and what is worth notifying moderators about is decided here, the same
way for every origin:

- A crosspost's original is stored first, with its own author, so the rules can tell a crosspost of one's
  own post from one of someone else's. Its duplicate-post finding is dropped: a crosspost repeats its
  original by design.
- The related-work audit reads the post's own text: a crosspost, or a linkpost with no body, is not audited.
- Recording a check opens a report and supersedes the submission's report awaiting a decision.
- A submission already published where it was posted (a Reddit post) is stored as a post right after the
  check, so a later repost is caught as a duplicate; any other joins the stored posts when a moderator
  approves or rejects it.
- Moderators are notified of the findings at or above the front end's threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.moderation.checks import Checker
from bot.moderation.imports import Posts
from bot.moderation.queue import ReviewQueue
from bot.moderation.rules.copying import DuplicatePost
from bot.moderation.schemas import CheckReport, Finding, PostRecord, ReportDetail, Submission, flags, rule_ids
from bot.moderation.severity import Severity

log = logging.getLogger(__name__)

ORIGINS = ("discord", "reddit", "http", "cli")


@dataclass
class Intake:
    """What became of a submission: the check's report, and what it means for moderators."""

    origin: str
    report: CheckReport
    detail: ReportDetail | None  # the recorded report as the queue shows it; None when nothing was recorded
    notify: list[Finding] = field(default_factory=list)  # findings at or above the notification threshold
    stored: bool = False  # the submission became a stored post now (published at its origin)

    @property
    def flags(self) -> list[Finding]:
        """Findings that count against the submission (advisory ones aside)."""
        return flags(self.report.findings)

    @property
    def rules(self) -> list[str]:
        return rule_ids(self.flags)

    @property
    def severity(self) -> Severity | None:
        """The highest severity among the flags."""
        return Severity.highest(f.severity for f in self.flags)


class SubmissionIntake:
    def __init__(self, checker: Checker, queue: ReviewQueue, posts: Posts) -> None:
        self.checker = checker
        self.queue = queue
        self.posts = posts

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
        """Check a submission from `origin` and act on the result as the module docstring says.

        `record=False` is a dry run: nothing is recorded or superseded (a published copy is still stored, as
        the post exists whatever the check says). `rules` runs only those rules. `published` is the
        submission as already published at its origin; `crosspost_of` the original it crossposts."""
        self.checker.validate_rules(rules)
        if crosspost_of is not None:
            self.posts.save([crosspost_of], source=origin)
        own_text = crosspost_of is None and not (submission.url and not submission.body.strip())
        findings = self.checker.run(submission, rules, audit=own_text)
        if crosspost_of is not None:
            findings = [f for f in findings if not _repeats(f, crosspost_of)]
        detail = self.queue.record(submission, findings) if record else None
        report = CheckReport(
            report_id=detail.report_id if detail else None, submission_id=submission.id, findings=findings
        )
        if published is not None:
            self.posts.save([published], source=origin)
        threshold = Severity(notify_at)
        intake = Intake(
            origin=origin,
            report=report,
            detail=detail,
            notify=[f for f in findings if f.severity >= threshold],
            stored=published is not None,
        )
        log.info(
            "moderation: %s from %s: %s, %s",
            submission.id,
            origin,
            f"report {report.report_id}" if detail else "not recorded",
            ", ".join(intake.rules) or "no flags",
        )
        return intake


def _repeats(finding: Finding, original: PostRecord) -> bool:
    """A crosspost's duplicate-post finding against its own original: Reddit links the original by design."""
    source = finding.evidence.get("source") or {}
    return finding.rule == DuplicatePost.id and source.get("id") == original.id
