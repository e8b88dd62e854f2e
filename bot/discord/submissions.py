"""Discord forum posts as moderation submissions, and the links and ids moderators paste.

A submission is a forum post (a thread in a forum channel): its title, its starter message and any
Markdown/HTML/text attachment make the body. Co-authors are named on a line such as
"Co-authors: @alice, bob"; a linkpost or canonical source on "Linkpost: URL" / "Canonical: URL".
The submitter is the primary author and confirmed (they posted it); named co-authors are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.moderation.schemas import Submission, SubmissionAuthor, guess_format

_MESSAGE_LINK = re.compile(
    r"https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(?P<guild>\d+|@me)/(?P<channel>\d+)"
    r"(?:/(?P<message>\d+))?"
)
_ID = re.compile(r"^\s*(\d{15,22})\s*$")
# Line starts take [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines after it.
_COAUTHORS = re.compile(r"^[^\S\n]*(?:\*\*|__)?co-?authors?(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.+)$", re.I | re.M)
_LINKPOST = re.compile(r"^[^\S\n]*(?:link\s*-?\s*post|url)\s*:\s*<?(https?://\S+?)>?\s*$", re.I | re.M)
_CANONICAL = re.compile(
    r"^[^\S\n]*(?:canonical(?:\s+(?:url|link|source))?|originally\s+posted\s+(?:at|on)|cross-?posted\s+from)\s*:?\s*"
    r"<?(https?://\S+?)>?\s*$",
    re.I | re.M,
)
_USER_MENTION = re.compile(r"<@!?(\d+)>")
ATTACHMENT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".html": "html", ".htm": "html"}
ATTACHMENT_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class DiscordRef:
    """Where a pasted link or id points: a channel or thread, and maybe one message in it."""

    channel_id: int
    message_id: int | None = None
    guild_id: int | None = None


def parse_ref(text: str) -> DiscordRef | None:
    """A message or channel link (discord.com/channels/G/C[/M]) or a bare id (taken as a thread id)."""
    match = _MESSAGE_LINK.search(text)
    if match:
        guild = match["guild"]
        return DiscordRef(
            channel_id=int(match["channel"]),
            message_id=int(match["message"]) if match["message"] else None,
            guild_id=int(guild) if guild.isdigit() else None,
        )
    match = _ID.match(text)
    if match:
        return DiscordRef(channel_id=int(match[1]))
    return None


def submission_id(thread_id: int) -> str:
    return f"discord-{thread_id}"


def thread_id_of(submission_id_: str) -> int | None:
    return int(submission_id_[8:]) if submission_id_.startswith("discord-") and submission_id_[8:].isdigit() else None


def jump_url(guild_id: int | None, channel_id: int, message_id: int | None = None) -> str:
    base = f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}"
    return f"{base}/{message_id}" if message_id else base


@dataclass
class ForumPost:
    """What a forum post says, in plain values (so this module needs no Discord objects)."""

    thread_id: int
    title: str
    author: str
    content: str
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (filename, text)
    mentions: dict[int, str] = field(default_factory=dict)  # user id -> name, to read "<@id>" co-authors
    created_at: datetime | None = None


def _names(raw: str, mentions: dict[int, str]) -> list[str]:
    raw = _USER_MENTION.sub(lambda m: mentions.get(int(m[1]), m[0]), raw)
    parts = re.split(r",|;|\band\b|&", raw)
    return [name for name in (_trimmed(p, "@*_`") for p in parts) if name]


def _trimmed(text: str, marks: str = "") -> str:
    """`text` without whitespace of any kind, NUL or `marks` around it ("@dana", "**bob**", "\tcarol"): what
    is left is never blank to the model, which strips whitespace and NUL and rejects a blank handle or title."""
    kept = [i for i, c in enumerate(text) if not (c.isspace() or c == "\x00" or c in marks)]
    return text[kept[0] : kept[-1] + 1] if kept else ""


def to_submission(post: ForumPost, *, forum: str, members_forum: bool = False) -> Submission:
    """The moderation service's submission for a forum post."""
    body = post.content.strip()
    body_format = guess_format(body) if body else "markdown"
    for filename, text in post.attachments:
        suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
        kind = ATTACHMENT_SUFFIXES.get(suffix)
        if kind is None or not text.strip():
            continue
        if not body:
            body, body_format = text.strip(), kind  # type: ignore[assignment]
        elif kind == body_format:
            body = f"{body}\n\n{text.strip()}"
    authors = [SubmissionAuthor(handle=post.author, confirmed=True)]
    for match in _COAUTHORS.finditer(post.content):
        for name in _names(match[1], post.mentions):
            if name.casefold() not in {a.handle.casefold() for a in authors}:
                authors.append(SubmissionAuthor(handle=name, confirmed=False))
    linkpost = _LINKPOST.search(post.content)
    canonical = _CANONICAL.search(post.content)
    return Submission(
        id=submission_id(post.thread_id),
        forum=forum,
        title=_trimmed(post.title) or "(untitled)",
        body=body,
        body_format=body_format,
        url=linkpost[1] if linkpost else None,
        canonical_url=canonical[1] if canonical else None,
        submitter=post.author,
        authors=authors,
        members_forum=members_forum,
        posted_at=post.created_at,
    )
