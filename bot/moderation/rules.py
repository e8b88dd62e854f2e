"""The moderation rules: one function per rule id, each turning the facts of a check into findings.

Rules only read a `CheckContext` (the submission, its parsed body, members, confirmed text matches and
the related-work audit): the service gathers those facts once, so rules stay pure and easy to test.
Nothing here acts; a finding only suggests an action and drafts a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from unidecode import unidecode

from bot.identifiers import canonical_url
from bot.moderation.config import ModerationConfig, RuleConfig, render
from bot.moderation.normalize import strip_invisible
from bot.moderation.schemas import Finding, RelatedWorkAudit, Submission
from bot.moderation.shingles import Overlap
from bot.moderation.text import ParsedBody
from bot.storage.tables.moderation import Member


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


def person_name(value: str) -> str:
    """A name as authorship compares it: case, accents ("Łukasz" is "lukasz"), invisible characters and
    punctuation aside, but other scripts are not transliterated: a handle of Cyrillic look-alikes ("zоe")
    must not pass as the author "zoe" and so make her text its own."""
    text = unicodedata.normalize("NFKC", strip_invisible(value))
    text = "".join(unidecode(ch) if unicodedata.name(ch, "").startswith("LATIN") else ch for ch in text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text.replace("'", "").replace("’", "")).split())


def person_forms(handle: str, member: Member | None) -> set[str]:
    """Ways a person's name can appear in an author list: handle and display name, spaced or not."""
    forms = set()
    for value in (handle, member.name if member else None):
        if value:
            norm = person_name(value)
            if norm:
                forms.update({norm, norm.replace(" ", "")})
    return forms


def is_author(handle: str, member: Member | None, authors: list[str]) -> bool:
    forms = person_forms(handle, member)
    for author in authors:
        norm = person_name(author)
        if norm in forms or norm.replace(" ", "") in forms:
            return True
    return False


def _finding(conf: RuleConfig, rule: str, values: dict[str, Any], evidence: dict[str, Any]) -> Finding:
    return Finding(
        rule=rule,
        severity=conf.severity,
        summary=render(conf.summary, values),
        evidence=evidence,
        action=render(conf.action, values),
        message=render(conf.message, values),
    )


def _base_values(ctx: CheckContext) -> dict[str, Any]:
    s = ctx.submission
    return {"author": s.author, "forum": s.forum, "title": s.title}


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


# --- rules ---------------------------------------------------------------------------------------


def coauthor_convenience(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.coauthor_convenience
    s = ctx.submission
    group = conf.members_group
    if not s.members_forum or len(s.authors) < 2 or ctx.in_group(s.author, group):
        return []
    # The source the text comes from: the best confirmed match that is at least partly the post's own text.
    source = next(
        (m for m in ctx.matches if m.own and m.own.containment >= conf.min_source_containment and m.authored_by),
        None,
    )
    flagged: list[dict[str, Any]] = []
    for coauthor in s.authors[1:]:
        if not ctx.in_group(coauthor.handle, group):
            continue
        reasons = []
        if not coauthor.confirmed:
            reasons.append("has not confirmed co-authorship")
        if source is not None and coauthor.handle not in source.authored_by:
            reasons.append(f"is not an author of the source of the text ({source.title})")
        if reasons:
            flagged.append({"handle": coauthor.handle, "confirmed": coauthor.confirmed, "reasons": reasons})
    if not flagged:
        return []
    primary = ctx.member(s.author)
    values = {
        **_base_values(ctx),
        "coauthor": ", ".join(f["handle"] for f in flagged),
        "coauthors": ", ".join(a.handle for a in s.authors[1:]),
        "group": group,
        "source_title": source.title if source else "",
        "source_url": (source.url or source.id) if source else "",
    }
    evidence = {
        "author": {"handle": s.author, "member": False, "groups": list(primary.groups) if primary else []},
        "members_group": group,
        "flagged_coauthors": flagged,
        "source": {**source.ref(), "containment": source.own.containment} if source and source.own else None,
    }
    return [_finding(conf, "coauthor-convenience", values, evidence)]


def coauthor_unconfirmed(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.coauthor_unconfirmed
    s = ctx.submission
    findings = []
    for coauthor in s.authors[1:]:
        if coauthor.confirmed:
            continue
        values = {
            **_base_values(ctx),
            "coauthor": coauthor.handle,
            "coauthors": ", ".join(a.handle for a in s.authors[1:]),
        }
        member = ctx.member(coauthor.handle)
        evidence = {
            "coauthor": coauthor.handle,
            "confirmed": False,
            "known_member": member is not None,
            "groups": list(member.groups) if member else [],
            "submitter": s.submitter,
        }
        findings.append(_finding(conf, "coauthor-unconfirmed", values, evidence))
    return findings


def not_own_content(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.not_own_content
    if ctx.own_shingles < conf.min_shingles:
        return []  # (almost) all of it is marked as a quotation, or there is too little text to judge
    for match in ctx.matches:
        if match.own is None or match.own.containment < conf.min_containment:
            continue
        if match.authored_by or not match.authors:
            continue  # the author's own text (crossposts are their own rule); unknown authorship is no evidence
        if match.kind == "post" and match.id == ctx.submission.id:
            continue
        values = {**_base_values(ctx), **_source_values(match, match.own)}
        values["percent"] = round(100 * match.own.containment)
        evidence = {
            "source": match.ref(),
            **_overlap_evidence(match.own),
            "own_shingles": ctx.own_shingles,
            "quoted_share": ctx.quoted_share,
        }
        return [_finding(conf, "not-own-content", values, evidence)]
    return []


def duplicate_post(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.duplicate_post
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
        values = {**_base_values(ctx), **_source_values(match, o), "rejected_reason": match.rejected_reason or ""}
        evidence = {
            "source": match.ref(),
            **_overlap_evidence(o),
            "resubmission_of_rejected": match.status == "rejected",
            "same_author": bool(match.authored_by),
        }
        finding = _finding(conf, "duplicate-post", values, evidence)
        if match.status == "rejected":
            reason = match.rejected_reason or "no reason recorded"
            finding.summary = f'Resubmission of rejected post "{match.title}" (rejected: {reason}); {finding.summary}'
        findings.append(finding)
    return findings[:3]


def _links_to(ctx: CheckContext, url: str | None) -> bool:
    if not url:
        return False
    target = canonical_url(url)
    return any(canonical_url(link.url) == target for link in ctx.parsed.links)


def crosspost_missing_canonical(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.crosspost_missing_canonical
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
        values = {**_base_values(ctx), **_source_values(match, match.full)}
        evidence = {"source": match.ref(), **_overlap_evidence(match.full), "url": None, "canonical_url": None}
        return [_finding(conf, "crosspost-missing-canonical", values, evidence)]
    return []


def related_work(ctx: CheckContext) -> list[Finding]:
    conf = ctx.config.rules.related_work
    if ctx.audit is None:
        return []
    return [related_work_finding(ctx.audit, conf, _base_values(ctx))]


def related_work_finding(audit: RelatedWorkAudit, conf: RuleConfig, values: dict[str, Any]) -> Finding:
    uncited = "\n".join(f"- {w.title} ({w.year or 'n.d.'}) {w.url or ''}".rstrip() for w in audit.uncited)
    values = {**values, "cited_count": audit.cited_count, "uncited_list": uncited or "(no suggestions)"}
    finding = _finding(conf, "related-work", values, audit.model_dump(mode="json"))
    details = []
    for section in audit.sections:
        if section.kind == "related-work":
            details.append(
                f'"{section.heading}" spans {section.paragraphs} paragraph(s) and cites {section.cited_total} '
                f"work(s) ({section.cited_in_section} in the text, {section.cited_in_footnotes} in its footnotes)"
            )
    if audit.uncited:
        details.append("closest uncited: " + "; ".join(w.title for w in audit.uncited[:3]))
    if details:
        finding.summary = f"{finding.summary}; " + "; ".join(details)
    return finding


RULES: dict[str, Callable[[CheckContext], list[Finding]]] = {
    "coauthor-convenience": coauthor_convenience,
    "coauthor-unconfirmed": coauthor_unconfirmed,
    "not-own-content": not_own_content,
    "duplicate-post": duplicate_post,
    "crosspost-missing-canonical": crosspost_missing_canonical,
    "related-work": related_work,
}


def run_rules(ctx: CheckContext, only: set[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id, rule in RULES.items():
        if not ctx.config.rules.rule(rule_id).enabled or (only is not None and rule_id not in only):
            continue
        findings.extend(rule(ctx))
    return findings
