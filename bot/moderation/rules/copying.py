"""Rules about text that is not new: someone else's text, a near-duplicate post, a crosspost without its original."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from bot.identifiers import canonical_url
from bot.moderation.rules.base import CheckContext, Rule, RuleConfig, SourceMatch
from bot.moderation.schemas import Finding
from bot.moderation.severity import Severity

if TYPE_CHECKING:
    from bot.moderation.shingles import Overlap

_SOURCE = frozenset({"source_title", "source_url"})


def _source_values(match: SourceMatch, overlap: Overlap) -> dict[str, Any]:
    authors = match.authors
    shown = ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "") if authors else "unknown authors"
    return {
        "source_title": match.title,
        "source_url": match.url or match.id,
        "source_authors": shown,
        "percent": round(100 * max(overlap.containment, overlap.jaccard)),
    }


def _overlap_evidence(overlap: Overlap) -> dict[str, Any]:
    return {
        "containment": overlap.containment,
        "coverage": overlap.coverage,
        "jaccard": overlap.jaccard,
        "shared_shingles": overlap.shared,
        "passages": overlap.passages,
    }


class NotOwnContent(Rule):
    """Most of the post's own text (quotations excluded) comes from a known text none of whose authors wrote it."""

    id = "not-own-content"
    severity = Severity.HIGH
    placeholders = _SOURCE | {"source_authors", "percent"}
    summary = '{percent}% of the text comes from "{source_title}" by {source_authors}'
    action = "Reject unless the author shows the text is theirs; suggest a linkpost with their own commentary."
    message = (
        'Hi {author}, most of "{title}" appears to come from "{source_title}" ({source_url}) by '
        "{source_authors}. Membership is for posting your own work. You are welcome to share it as a linkpost "
        "with the excerpt in a quotation and your own commentary."
    )

    class Config(RuleConfig):
        min_containment: float = Field(
            0.5, gt=0, le=1, description="Share of the post's own words aligned with the source."
        )
        min_shingles: int = Field(30, ge=1, description="Posts with less own text than this are not judged.")

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
        if ctx.own_shingles < conf.min_shingles:
            return []  # (almost) all of it is marked as a quotation, or there is too little text to judge
        for match in ctx.matches:
            if match.own is None or match.own.containment < conf.min_containment:
                continue
            if match.authored_by or not match.authors:
                continue  # the author's own text (crossposts are their own rule); unknown authorship is no evidence
            if match.kind == "post" and match.id == ctx.submission.id:
                continue
            values = {**ctx.values(), **_source_values(match, match.own)}
            values["percent"] = round(100 * match.own.containment)
            evidence = {
                "source": match.ref(),
                **_overlap_evidence(match.own),
                "own_shingles": ctx.own_shingles,
                "quoted_share": ctx.quoted_share,
            }
            return [self.finding(conf, values, evidence)]
        return []


class DuplicatePost(Rule):
    """A near-duplicate of a stored post, including a resubmission of a rejected one (with its reason)."""

    id = "duplicate-post"
    severity = Severity.HIGH
    placeholders = _SOURCE | {"source_authors", "percent", "rejected_reason"}
    summary = 'Near-duplicate ({percent}%) of "{source_title}" by {source_authors}'
    action = "Reject as a duplicate, or edit the earlier post instead."
    message = (
        'Hi {author}, "{title}" is nearly identical to "{source_title}" ({source_url}). Please edit '
        "the existing post instead of posting it again."
    )

    class Config(RuleConfig):
        min_jaccard: float = Field(0.6, gt=0, le=1)
        min_containment: float = Field(0.8, gt=0, le=1, description="Share of the post found in the earlier one.")
        same_forum_only: bool = False

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
        s = ctx.submission
        findings = []
        for match in ctx.matches:
            if match.kind != "post" or match.full is None or match.id == s.id:
                continue
            if conf.same_forum_only and (match.forum or "").casefold() != s.forum.casefold():
                continue
            o = match.full
            if o.jaccard < conf.min_jaccard and o.containment < conf.min_containment:
                continue
            values = {**ctx.values(), **_source_values(match, o), "rejected_reason": match.rejected_reason or ""}
            evidence = {
                "source": match.ref(),
                **_overlap_evidence(o),
                "resubmission_of_rejected": match.status == "rejected",
                "same_author": bool(match.authored_by),
            }
            finding = self.finding(conf, values, evidence)
            if match.status == "rejected":
                reason = match.rejected_reason or "no reason recorded"
                resubmitted = f'Resubmission of rejected post "{match.title}" (rejected: {reason})'
                finding.summary = f"{resubmitted}; {finding.summary}"
            findings.append(finding)
        return findings[:3]


class CrosspostMissingCanonical(Rule):
    """The author's own text from elsewhere, posted without naming the original."""

    id = "crosspost-missing-canonical"
    severity = Severity.MEDIUM
    placeholders = _SOURCE | {"percent"}
    summary = 'Crosspost of the author\'s own "{source_title}" without a canonical link'
    action = "Ask the author to add the original as the linkpost URL or canonical link."
    message = (
        'Hi {author}, "{title}" looks like a crosspost of {source_url}. Please add that link as the '
        "canonical source so readers and search engines find the original."
    )

    class Config(RuleConfig):
        min_containment: float = Field(0.6, gt=0, le=1)

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
        s = ctx.submission
        if s.url or s.canonical_url:
            return []
        for match in ctx.matches:
            if match.full is None or not match.authored_by or match.id == s.id:
                continue
            if match.kind == "post" and (match.forum or "").casefold() == s.forum.casefold():
                continue  # the same forum: that is a duplicate, not a crosspost
            if max(match.full.containment, match.full.coverage) < conf.min_containment:
                continue
            if _links_to(ctx, match.url):
                continue  # the body itself names the original ("crossposted from my blog: …")
            values = {**ctx.values(), **_source_values(match, match.full)}
            evidence = {"source": match.ref(), **_overlap_evidence(match.full), "url": None, "canonical_url": None}
            return [self.finding(conf, values, evidence)]
        return []


def _links_to(ctx: CheckContext, url: str | None) -> bool:
    if not url:
        return False
    target = canonical_url(url)
    return any(canonical_url(link.url) == target for link in ctx.parsed.links)
