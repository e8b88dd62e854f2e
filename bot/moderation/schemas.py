"""The moderation layer's JSON vocabulary: what is imported (submissions, members, posts) and what is
reported (findings, reports, audits, decisions). `model_dump()` gives the documented JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from bot.domain import CleanInput
from bot.moderation.severity import Severity

ReportStatus = Literal["open", "approved", "rejected", "needs-changes"]
REPORT_STATUSES: tuple[str, ...] = ("open", "approved", "rejected", "needs-changes")  # what a decision may set
# A report a later check of the same submission replaced: listed, never decided on.
SUPERSEDED = "superseded"
QUEUE_STATUSES: tuple[str, ...] = (*REPORT_STATUSES, SUPERSEDED)

_HTML_START = re.compile(r"^\s*<(?:p|div|h[1-6]|ul|ol|blockquote|section|article|span|figure|table)[\s>]", re.I)


def guess_format(body: str) -> Literal["markdown", "html"]:
    """ForumMagnum stores HTML; exports and blogs are mostly Markdown. A body opening with a block tag is HTML."""
    return "html" if _HTML_START.match(body) else "markdown"


class _Input(CleanInput):
    # Unknown keys are errors: a misspelt "canonicalUrl" must not silently become "no canonical link".
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubmissionAuthor(_Input):
    handle: str = Field(min_length=1)
    confirmed: bool = False


class Submission(_Input):
    id: str = Field(min_length=1)
    forum: str = Field(min_length=1)
    title: str = Field(min_length=1)
    body: str
    body_format: Literal["markdown", "html"] = "markdown"
    url: str | None = Field(default=None, description="Linkpost target.")
    canonical_url: str | None = None
    submitter: str = Field(min_length=1)
    authors: list[SubmissionAuthor] = Field(min_length=1, description="Primary author first.")
    members_forum: bool = Field(default=False, description="Asks for the members-only forum.")
    posted_at: datetime | None = None

    @field_validator("url", "canonical_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def author(self) -> str:
        return self.authors[0].handle

    @property
    def handles(self) -> list[str]:
        return [a.handle for a in self.authors]


class MemberRecord(_Input):
    handle: str = Field(min_length=1)
    name: str | None = None
    groups: list[str] = Field(default_factory=list)
    karma: int | None = Field(default=None, ge=-(2**31), lt=2**31)  # a 32-bit column


class PostRecord(_Input):
    """A post already in a forum, or a page outside any forum (no `forum`), as given in JSON Lines."""

    id: str = Field(min_length=1)
    forum: str | None = None
    author: str = Field(min_length=1)
    authors: list[str] = Field(default_factory=list, description="All authors; the author is added first.")
    title: str = Field(min_length=1)
    body: str
    body_format: Literal["markdown", "html"] | None = None
    url: str | None = None
    canonical_url: str | None = None
    posted_at: datetime | None = None
    status: str = "published"
    rejected_reason: str | None = None

    @model_validator(mode="after")
    def _normalise(self) -> PostRecord:
        if self.author not in self.authors:
            self.authors = [self.author, *self.authors]
        if self.body_format is None:
            self.body_format = guess_format(self.body)
        return self


# Ids of the advisory rules, added by their declarations (`bot.moderation.rules.base.Rule`; every service that
# reads reports back has loaded the rules): a finding from storage or JSON knows it is no flag without this module
# importing the rules.
ADVISORY_RULES: set[str] = set()


class Finding(BaseModel):
    rule: str
    severity: Severity
    summary: str
    evidence: dict[str, Any]
    action: str
    message: str
    # Not in the JSON (its shape is a documented contract): the rule that made the finding says.
    _advisory: bool | None = PrivateAttr(default=None)

    @property
    def advisory(self) -> bool:
        """Shown to moderators but never a flag against the submission (the related-work audit)."""
        if self._advisory is not None:
            return self._advisory
        if not ADVISORY_RULES:  # read back before any rule was declared: guessing could count an audit as a flag
            raise RuntimeError("the moderation rules are not loaded: import bot.moderation.rules first")
        return self.rule in ADVISORY_RULES

    @classmethod
    def of_rule(cls, advisory: bool, **fields: Any) -> Finding:
        finding = cls(**fields)
        finding._advisory = advisory
        return finding


def rule_ids(findings: Iterable[Finding]) -> list[str]:
    """The rules that made these findings, each once, in the findings' order."""
    return list(dict.fromkeys(f.rule for f in findings))


def flags(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that count against a submission: all but the advisory ones."""
    return [f for f in findings if not f.advisory]


class CheckReport(BaseModel):
    report_id: int | None = Field(description="None in dry-run mode: nothing was recorded.")
    submission_id: str
    findings: list[Finding]


class WorkRef(BaseModel):
    id: str
    title: str
    authors: list[str]
    year: int | None = None
    url: str | None = None


class Citation(BaseModel):
    """One reference as written in the post, and what it resolved to."""

    reference: str = Field(description="The link, id or mention as written.")
    text: str = Field(default="", description="Link text, when the reference is a link.")
    kind: Literal["link", "id", "mention"]
    location: Literal["body", "footnote", "references"]
    section: str = Field(description="Heading of the section it is in (a footnote counts where it is referred to).")
    key: str | None = None
    work: WorkRef | None = None


class SectionStats(BaseModel):
    heading: str
    kind: Literal["related-work", "references"]
    paragraphs: int
    words: int
    footnotes: int = Field(description="Footnotes referred to from the section.")
    cited_in_section: int
    cited_in_footnotes: int
    cited_total: int = Field(description="Distinct works cited in the section and its footnotes.")


class UncitedWork(WorkRef):
    score: float
    why: str


class RelatedWorkAudit(BaseModel):
    title: str | None = None
    cited_count: int = Field(description="Distinct works cited anywhere in the post.")
    cited_in_knowledge_base: int
    citations: list[Citation]
    unresolved_mentions: list[str]
    sections: list[SectionStats]
    uncited: list[UncitedWork]


class ImportReport(BaseModel):
    read: int = 0
    added: int = 0
    updated: int = 0
    links: int = 0
    errors: list[str] = Field(default_factory=list)


class CitingPost(BaseModel):
    post_id: str
    forum: str | None
    title: str
    author: str
    url: str | None
    posted_at: datetime | None
    links: list[dict[str, str]] = Field(description="The matching links: url, text, location, section.")


class CitedByResult(BaseModel):
    reference: str
    keys: list[str] = Field(description="Every key searched: the reference's own and the other keys of its work.")
    work: WorkRef | None
    posts: list[CitingPost]


class DecisionRecord(BaseModel):
    id: int
    report_id: int
    previous_status: str
    status: str
    moderator: str
    reason: str
    decided_at: datetime


class QueueItem(BaseModel):
    report_id: int
    submission_id: str
    forum: str
    title: str
    submitter: str
    status: str
    created_at: datetime
    rules: list[str] = Field(description="Rules that fired, excluding the advisory related-work audit.")
    severity: Severity | None = Field(description="Highest severity among those findings.")
    superseded_by: int | None = Field(
        default=None, description="The later report of the same submission that replaced this one."
    )


class ReportDetail(QueueItem):
    findings: list[Finding]
    submission: dict[str, Any]
    decisions: list[DecisionRecord]
