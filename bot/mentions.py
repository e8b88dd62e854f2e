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

# Capitals of the Latin, Greek and Cyrillic alphabets, not only A-Z: "Özdemir et al.", "Šimon & Ørsted".
_UPPER = "A-Z" + "".join(re.escape(c) for c in map(chr, range(0xC0, 0x530)) if c.isupper())
_NAME = rf"[{_UPPER}][^\W\d_]+(?:[-'][{_UPPER}]?[^\W\d_]+)?"
_YEAR = r"(?:19|20)\d\d[a-z]?"
AUTHOR_CITATION = re.compile(
    rf"\b(?:{_NAME}\s+(?:et\s*al\.?|(?:&|and)\s+{_NAME}(?:\s+et\s*al\.?)?)(?:,?\s*\(?{_YEAR}\)?)?"
    rf"|{_NAME},?\s*\({_YEAR}\)|{_NAME},\s+{_YEAR})"
)
QUOTED = re.compile(r"[\"“'‘]([^\"“”'‘’\n]{4,120}?)[\"”'’](?!\w)")
THE_X_PAPER = re.compile(r"\bthe\s+((?:[\w\-]+\s+){0,5}?[\w\-]+)\s+(?:paper|post|report)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w\-']+")
# Acronyms for ideas, not for any one paper: a thread that says "RLHF" is not citing a work.
_CONCEPT_ACRONYMS = {"AI", "AGI", "ASI", "ML", "RL", "LLM", "LLMs", "NLP", "RLHF", "CoT", "SAE", "SAEs", "GPT"}


@dataclass(frozen=True)
class Mention:
    text: str
    kind: str  # "link", "author" (with "et al." or a year), "names" ("A & B"), "quote", "name"
    author: str | None = None
    start: int = 0  # offset in the message, so references are listed in the order they were made

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
        except RecursionError as exc:
            raise ValueError("thread JSON is nested too deeply") from exc
        messages = []
        for n, item in enumerate(data, start=1):
            if isinstance(item, str):
                messages.append(Message(text=item))
            elif (
                isinstance(item, dict)
                and isinstance(item.get("text"), str)
                and isinstance(item.get("author"), str | None)
            ):
                messages.append(Message(author=item.get("author"), text=item["text"]))
            else:
                raise ValueError(
                    f"thread message {n} must be a string or an object with a 'text' string (and an 'author' string)"
                )
        return messages
    return [Message(text=p.strip()) for p in re.split(r"\n\s*\n", raw) if p.strip()]


def find_mentions(text: str, corpus: CorpusIndex, author: str | None = None) -> list[Mention]:
    """Candidate references in one message, in the order they appear."""
    mentions: list[Mention] = []
    url_spans = [m.span() for m in URL_RE.finditer(text)]

    def crosses_url(start: int, end: int) -> bool:
        # "Smith https://… et al." names no one: a mention found around a link is not one.
        return any(s < end and start < e for s, e in url_spans)

    def add(match: re.Match[str], kind: str, group: int = 0) -> None:
        if kind != "link" and crosses_url(*match.span(group)):
            return
        found = match.group(group).strip(" ,.;")
        if found.count(")") > found.count("("):  # "(see https://…)" or "Turpin et al., 2023)"
            found = found.rstrip(")")
        mentions.append(Mention(found, kind, author, match.start(group)))

    for match in URL_RE.finditer(text):
        add(match, "link")
    # URLs are blanked out (same length, so offsets stay valid) before looking for anything else.
    rest = URL_RE.sub(lambda m: " " * len(m.group(0)), text)
    for match in ARXIV_IN_TEXT_RE.finditer(rest):
        add(match, "link")
    for match in DOI_RE.finditer(rest):
        add(match, "link", 1)
    for match in AUTHOR_CITATION.finditer(rest):
        # "Sarah and Tom" is only a citation if it resolves; with "et al." or a year it surely is one.
        add(match, "author" if re.search(r"et\s*al|\d{4}", match.group(0)) else "names")
    for match in QUOTED.finditer(rest):
        if len(match.group(1).split()) >= 2:
            add(match, "quote", 1)
    for match in THE_X_PAPER.finditer(rest):
        add(match, "name")
    for phrase, start, end in _known_names(rest, corpus):
        if not crosses_url(start, end):
            mentions.append(Mention(phrase, "name", author, start))
    unique = {(m.text, m.kind): m for m in sorted(mentions, key=lambda m: -m.start)}
    return sorted(unique.values(), key=lambda m: m.start)


def _known_names(text: str, corpus: CorpusIndex) -> list[tuple[str, int, int]]:
    """Aliases from the knowledge base that appear in the text as whole words, with their start and end.

    One-word aliases count only when written as an acronym or coined name (two or more capitals,
    like "RepE", "CCS", "ActAdd"); longer ones match case-insensitively.
    """
    words = list(_WORD.finditer(text))
    found = []
    for size in range(4, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = [m.group(0) for m in words[start : start + size]]
            if size == 1 and (sum(c.isupper() for c in phrase[0]) < 2 or phrase[0] in _CONCEPT_ACRONYMS):
                continue
            if normalize_text(" ".join(phrase)) in corpus.aliases:
                found.append((" ".join(phrase), words[start].start(), words[start + size - 1].end()))
    return found
