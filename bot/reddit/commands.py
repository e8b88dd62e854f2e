"""Which comments ask the bot for something: a mention of `u/<bot>` or a comment opening with a command.

Pure functions over comment text, so what triggers (and what does not) is tested without Reddit. Only an
explicit request triggers: the bot never answers "source?" on its own in a subreddit, where an unasked
reading list reads as spam. Quoted lines and code are not requests: a member quoting someone's
"!cite …" must not make the bot answer twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.chat import SOCIAL_WORDS
from bot.retrieval.query import content_words

Kind = Literal["related", "cite", "bibliography"]

# Indentation is [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines after it (quadratic).
_FENCED = re.compile(r"^[^\S\n]*(```|~~~).*?^[^\S\n]*\1[^\n]*$", re.DOTALL | re.MULTILINE)
_INDENTED = re.compile(r"^(?: {4}|\t).*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass(frozen=True)
class Request:
    kind: Kind
    text: str  # the question or reference, without the mention or command; may be empty
    via: Literal["mention", "command"]


def mention_pattern(username: str) -> re.Pattern[str]:
    """`u/name` or `/u/name`, any case, not as part of a longer name or a link path."""
    return re.compile(rf"(?<![\w/.-])/?u/{re.escape(username)}(?![\w-])", re.IGNORECASE)


def clean(body: str) -> str:
    """The comment as its author wrote it for this thread: no code, quotations or spoilers."""
    text = _FENCED.sub(" ", body)
    text = _INDENTED.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _without_spoilers(text)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _without_spoilers(text: str) -> str:
    """Each `>!…!<` replaced by a space. A scan, not `>!.*?!<`: with no `!<` the regex read to the end of
    the comment from every `>!`."""
    parts: list[str] = []
    i = 0
    while (start := text.find(">!", i)) != -1 and (end := text.find("!<", start + 2)) != -1:
        parts += [text[i:start], " "]
        i = end + 2
    return "".join([*parts, text[i:]])


def _command(text: str, commands: dict[str, Kind]) -> tuple[Kind, str] | None:
    """(kind, argument) when `text` opens with a command word; the argument is the rest of the text."""
    match = re.match(r"(\S+?):?(?:\s+(.*))?$", text, re.DOTALL)
    if match is None:
        return None
    kind = commands.get(match[1].casefold())
    if kind is None:
        return None
    return kind, " ".join((match[2] or "").split())


def parse_request(body: str, username: str | None, commands: dict[str, Kind]) -> Request | None:
    """The request a comment makes of the bot, or None.

    `commands` maps lower-cased command words ("!cite") to what they ask for. A comment opening with a
    command is a request; so is a comment mentioning the bot, unless it only says "thanks" and the like.
    A mention followed by a command ("u/bot !cite X") is that command.
    """
    text = clean(body)
    if not text:
        return None
    found = _command(text, commands)
    if found:
        return Request(found[0], found[1], "command")
    if not username:
        return None
    pattern = mention_pattern(username)
    if not pattern.search(text):
        return None
    rest = " ".join(pattern.sub(" ", text).split())
    found = _command(rest, commands)
    if found:
        return Request(found[0], found[1], "mention")
    words = content_words(rest)
    if words and all(w in SOCIAL_WORDS for w in words) and "?" not in rest:
        return None  # "thanks u/bot!"
    return Request("related", rest.strip(" ,:;-"), "mention")
