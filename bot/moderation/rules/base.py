"""What a moderation rule is: `Rule` (id, settings, default wording, the check) and the facts it reads.

Rules only read a `CheckContext` (the submission, its parsed body, members, confirmed text matches and
the related-work audit): the checks gather those facts once, so rules stay pure and easy to test.
Nothing here acts; a finding only suggests an action and drafts a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from bot.moderation.schemas import ADVISORY_RULES, Finding, RelatedWorkAudit, Submission
from bot.moderation.severity import Severity
from bot.storage.tables.moderation import Member

if TYPE_CHECKING:  # reading stored findings back declares the rules; only checking needs text parsing
    from bot.moderation.config import ModerationConfig
    from bot.moderation.shingles import Overlap
    from bot.moderation.text import ParsedBody

# Every rule's templates may use these; a rule names the others it fills in.
BASE_PLACEHOLDERS = frozenset({"author", "forum", "title"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RuleConfig(Strict):
    """A rule's section in the rule file. A rule with thresholds declares a subclass with them."""

    enabled: bool = True
    severity: Severity
    summary: str
    action: str
    message: str


@dataclass
class SourceMatch:
    """A stored text (forum post, page, or knowledge-base work) the submission's text overlaps with."""

    kind: str  # "post" (in a forum), "page" (outside any forum) or "work" (knowledge base)
    id: str
    title: str
    authors: list[str]
    url: str | None
    forum: str | None = None
    status: str | None = None
    rejected_reason: str | None = None
    posted_at: datetime | None = None
    full: Overlap | None = None  # on the whole body, quotations included
    own: Overlap | None = None  # on the text outside quotations
    authored_by: set[str] = field(default_factory=set)  # submission handles that are authors of the source

    def ref(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "authors": self.authors,
            "url": self.url,
            "forum": self.forum,
            "status": self.status,
            "rejected_reason": self.rejected_reason,
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
        }


@dataclass
class CheckContext:
    submission: Submission
    parsed: ParsedBody
    members: dict[str, Member]  # case-folded handle → member
    matches: list[SourceMatch]
    own_shingles: int
    quoted_share: float
    audit: RelatedWorkAudit | None
    config: ModerationConfig

    def member(self, handle: str) -> Member | None:
        return self.members.get(handle.casefold())

    def in_group(self, handle: str, group: str) -> bool:
        member = self.member(handle)
        return member is not None and group.casefold() in {g.casefold() for g in member.groups}

    def values(self) -> dict[str, Any]:
        """The placeholders every rule fills in."""
        s = self.submission
        return {"author": s.author, "forum": s.forum, "title": s.title}


def render(template: str, values: dict[str, Any]) -> str:
    return template.format_map({k: "" if v is None else v for k, v in values.items()})


class Rule:
    """One moderation rule, declared in one class: subclass it, fill in the class attributes and `check`,
    and add the class to `bot.moderation.rules.RULES`. The rule file then has a section named `id` with
    `enabled`, `severity`, the three templates and the fields of `Config`; the queue, the HTTP API, the CLI's
    `--rule` and the docs' rule list all read the registry."""

    id: ClassVar[str]
    severity: ClassVar[Severity]
    advisory: ClassVar[bool] = False  # never a reason to reject: shown, but not counted as a flag
    needs_audit: ClassVar[bool] = False  # reads `ctx.audit`, the related-work audit (a search: run only if needed)
    summary: ClassVar[str]
    action: ClassVar[str]
    message: ClassVar[str]
    placeholders: ClassVar[frozenset[str]] = frozenset()  # beyond author, forum and title
    Config: ClassVar[type[RuleConfig]] = RuleConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.advisory and "id" in cls.__dict__:
            ADVISORY_RULES.add(cls.id)

    def check(self, ctx: CheckContext, conf: Any) -> list[Finding]:
        raise NotImplementedError

    @property
    def field_name(self) -> str:
        """The attribute on the rules section (`config.rules.not_own_content`)."""
        return self.id.replace("-", "_")

    @property
    def allowed_placeholders(self) -> frozenset[str]:
        return BASE_PLACEHOLDERS | self.placeholders

    def defaults(self) -> dict[str, Any]:
        """The rule file's section when it says nothing: the built-in severity and wording."""
        return {"severity": self.severity, "summary": self.summary, "action": self.action, "message": self.message}

    def default_config(self) -> RuleConfig:
        return self.Config(**self.defaults())

    def finding(self, conf: RuleConfig, values: dict[str, Any], evidence: dict[str, Any]) -> Finding:
        return Finding.of_rule(
            self.advisory,
            rule=self.id,
            severity=conf.severity,
            summary=render(conf.summary, values),
            evidence=evidence,
            action=render(conf.action, values),
            message=render(conf.message, values),
        )
