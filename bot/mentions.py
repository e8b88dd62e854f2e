"""Finding the works a discussion refers to: links and ids, author citations, quoted titles, known names.

Only shapes that people use to cite are considered, and every candidate must then resolve with
confidence, so ordinary words never become references.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.domain import Message
from bot.identifiers import ARXIV_IN_TEXT_RE, DOI_RE, URL_RE, normalize_text
from bot.retrieval.corpus import CorpusIndex

_NAME = r"[A-Z][^\W\d_]+(?:[-'][A-Z]?[^\W\d_]+)?"
_YEAR = r"(?:19|20)\d\d[a-z]?"
AUTHOR_CITATION = re.compile(
    rf"\b(?:{_NAME}\s+(?:et\s*al\.?|(?:&|and)\s+{_NAME}(?:\s+et\s*al\.?)?)(?:,?\s*\(?{_YEAR}\)?)?"
    rf"|{_NAME},?\s*\({_YEAR}\)|{_NAME},\s+{_YEAR})"
)
QUOTED = re.compile(r"[\"“'‘]([^\"“”'‘’\n]{4,120}?)[\"”'’](?!\w)")
THE_X_PAPER = re.compile(r"\bthe\s+((?:[\w\-]+\s+){0,5}?[\w\-]+)\s+(?:paper|post|report)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w\-']+")


@dataclass(frozen=True)
class Mention:
    text: str
    kind: str  # "link", "author", "quote", "name"
    author: str | None = None

    @property
    def strong(self) -> bool:
        """Shapes that are certainly meant as references: worth reporting when they do not resolve."""
        return self.kind in {"link", "author"}


def parse_thread(raw: str) -> list[Message]:
    """A thread given as a JSON list of {author, text} messages, or as plain text (one message a paragraph)."""
    stripped = raw.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"thread JSON is invalid at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
        messages = []
        for n, item in enumerate(data, start=1):
            if isinstance(item, str):
                messages.append(Message(text=item))
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                messages.append(Message(author=item.get("author"), text=item["text"]))
            else:
                raise ValueError(f"thread message {n} must be a string or an object with a 'text' string")
        return messages
    return [Message(text=p.strip()) for p in re.split(r"\n\s*\n", raw) if p.strip()]


def find_mentions(text: str, corpus: CorpusIndex, author: str | None = None) -> list[Mention]:
    mentions: list[Mention] = []
    for url in URL_RE.findall(text):
        mentions.append(Mention(url.rstrip(".,;)"), "link", author))
    without_urls = URL_RE.sub(" ", text)
    for match in ARXIV_IN_TEXT_RE.finditer(without_urls):
        mentions.append(Mention(match.group(0).strip(), "link", author))
    for match in DOI_RE.finditer(without_urls):
        mentions.append(Mention(match.group(1).rstrip(".,;"), "link", author))
    for match in AUTHOR_CITATION.finditer(without_urls):
        mentions.append(Mention(match.group(0).strip(" ,"), "author", author))
    for match in QUOTED.finditer(without_urls):
        quoted = match.group(1).strip()
        if len(quoted.split()) >= 2:
            mentions.append(Mention(quoted, "quote", author))
    for match in THE_X_PAPER.finditer(without_urls):
        mentions.append(Mention(match.group(0), "name", author))
    mentions.extend(Mention(name, "name", author) for name in _known_names(without_urls, corpus))
    return list(dict.fromkeys(mentions))


def _known_names(text: str, corpus: CorpusIndex) -> list[str]:
    """Aliases from the knowledge base that appear in the text as whole words.

    One-word aliases count only when written as an acronym or coined name (two or more capitals,
    like "RepE", "CCS", "ActAdd"); longer ones match case-insensitively.
    """
    words = _WORD.findall(text)
    found = []
    for size in range(4, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = words[start : start + size]
            if size == 1 and sum(c.isupper() for c in phrase[0]) < 2:
                continue
            norm = normalize_text(" ".join(phrase))
            if norm in corpus.aliases:
                found.append(" ".join(phrase))
    return found
