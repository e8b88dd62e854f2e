"""Rules about who wrote a post: convenience co-authors and co-authors who have not confirmed."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import Field
from unidecode import unidecode

from bot.moderation.normalize import strip_invisible
from bot.moderation.rules.base import CheckContext, Rule, RuleConfig
from bot.moderation.schemas import Finding
from bot.moderation.severity import Severity
from bot.storage.tables.moderation import Member


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


class CoauthorConvenience(Rule):
    """The author is not a member of the members-only forum, a co-author is, and that co-author has not
    confirmed or did not write the text the post comes from."""

    id = "coauthor-convenience"
    severity = Severity.HIGH
    placeholders = frozenset({"coauthor", "coauthors", "group", "source_title", "source_url"})
    summary = "{coauthor} looks like a convenience co-author for {author}, who is not a {group} member"
    action = "Remove {coauthor} as co-author and ask {author} to submit through the normal route."
    message = (
        'Hi {author}, thanks for your post "{title}". Posting to {forum} is for members\' own work, '
        "so we removed the co-author added for access. Please submit through the normal route (post it on "
        "LessWrong and suggest it for the Alignment Forum)."
    )

    class Config(RuleConfig):
        members_group: str = Field("alignmentForum", min_length=1)
        min_source_containment: float = Field(0.5, gt=0, le=1)

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
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
            **ctx.values(),
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
        return [self.finding(conf, values, evidence)]


class CoauthorUnconfirmed(Rule):
    """A listed co-author has not confirmed."""

    id = "coauthor-unconfirmed"
    severity = Severity.MEDIUM
    placeholders = frozenset({"coauthor", "coauthors"})
    summary = "Co-author {coauthor} has not confirmed"
    action = "Ask {coauthor} to confirm co-authorship before approving."
    message = 'Hi {author}, before we publish "{title}", {coauthor} needs to confirm they are a co-author.'

    def check(self, ctx: CheckContext, conf: RuleConfig) -> list[Finding]:
        s = ctx.submission
        findings = []
        for coauthor in s.authors[1:]:
            if coauthor.confirmed:
                continue
            values = {
                **ctx.values(),
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
            findings.append(self.finding(conf, values, evidence))
        return findings
