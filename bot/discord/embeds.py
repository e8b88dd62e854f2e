"""Discord's message and embed limits, and the text helpers every rendered message is built with.

`fit` trims an embed until Discord accepts it; `problems` lists what breaks a limit (the tests use it). The
rest escape user text (`md`), make links and number works, and cut long text into messages and pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.domain import RankedWork

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
MESSAGE_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10

# Room left in a page description for the header and footer lines we add around entries.
PAGE_BUDGET = 3800
ENTRY_LIMIT = 900
REASON_LIMIT = 240


@dataclass
class Page:
    """One page of a paged answer, and the works on it (what its BibTeX button exports)."""

    embed: discord.Embed
    works: list[RankedWork] = field(default_factory=list)


# --- text helpers ------------------------------------------------------------------------------------


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def md(text: str) -> str:
    """Text shown as is: titles like "*Not* what you think" must not turn into Markdown, and "@everyone" or
    "<@id>" in user text must not even look like a mention (allowed_mentions already stops the ping)."""
    return escape_mentions(escape_markdown(" ".join(text.split())))


def safe_url(url: str) -> str:
    # A ")" or a space in a URL would end a Markdown link early.
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def link(text: str, url: str | None, limit: int = 200) -> str:
    label = md(truncate(text, limit)).replace("[", "\\[").replace("]", "\\]")  # a "]" would end the label
    return f"[{label}]({safe_url(url)})" if url else f"**{label}**"


def work_url(work: RankedWork) -> str | None:
    if work.url:
        return work.url
    if work.doi:
        return f"https://doi.org/{work.doi}"
    if work.arxiv_id:
        return f"https://arxiv.org/abs/{work.arxiv_id}"
    return None


def authors_line(authors: Sequence[str], year: int | None, most: int = 3) -> str:
    names = ", ".join(authors[:most]) + (" et al." if len(authors) > most else "")
    return md(f"{names or 'Unknown authors'} · {year or 'n.d.'}")


def work_entry(n: int, work: RankedWork, *, reason: bool = True) -> str:
    """One numbered work: linked title, authors and year, and the one-line reason it was picked."""
    lines = [f"**{n}.** {link(work.title, work_url(work))}", authors_line(work.authors, work.year)]
    if reason and work.reason:
        lines.append(f"↳ {md(truncate(work.reason, REASON_LIMIT))}")
    return truncate("\n".join(lines), ENTRY_LIMIT)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Text cut into pieces of at most `limit` characters, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # a single line longer than a message: cut it hard
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()]


def pack(entries: Iterable[str], budget: int = PAGE_BUDGET, most: int = 10, sep: str = "\n\n") -> list[list[str]]:
    """Entries grouped into pages of at most `most` entries and `budget` characters (joined by `sep`) each."""
    pages: list[list[str]] = [[]]
    size = 0
    for entry in entries:
        entry = truncate(entry, budget)
        page = pages[-1]
        if page and (len(page) >= most or size + len(sep) + len(entry) > budget):
            pages.append([])
            page, size = pages[-1], 0
        size += len(entry) + (len(sep) if page else 0)
        page.append(entry)
    return [p for p in pages if p]


def code_block(text: str, language: str = "", limit: int = DESCRIPTION_LIMIT) -> str:
    text = text.replace("```", "`\u200b``")  # a fence inside would end the block
    fence = f"```{language}\n"
    return fence + truncate(text, limit - len(fence) - 4) + "\n```"


# --- limits ------------------------------------------------------------------------------------------


def problems(embed: discord.Embed) -> list[str]:
    """Every way `embed` breaks Discord's limits (empty when it fits); used by `fit` and the tests."""
    found = []
    if embed.title and len(embed.title) > TITLE_LIMIT:
        found.append(f"title {len(embed.title)} > {TITLE_LIMIT}")
    if embed.description and len(embed.description) > DESCRIPTION_LIMIT:
        found.append(f"description {len(embed.description)} > {DESCRIPTION_LIMIT}")
    if len(embed.fields) > FIELDS_LIMIT:
        found.append(f"{len(embed.fields)} fields > {FIELDS_LIMIT}")
    for n, item in enumerate(embed.fields):
        if len(item.name or "") > FIELD_NAME_LIMIT:
            found.append(f"field {n} name {len(item.name or '')} > {FIELD_NAME_LIMIT}")
        if len(item.value or "") > FIELD_VALUE_LIMIT:
            found.append(f"field {n} value {len(item.value or '')} > {FIELD_VALUE_LIMIT}")
        if not (item.name or "").strip() or not (item.value or "").strip():
            found.append(f"field {n} is empty")
    if embed.footer.text and len(embed.footer.text) > FOOTER_LIMIT:
        found.append(f"footer {len(embed.footer.text)} > {FOOTER_LIMIT}")
    if embed.author.name and len(embed.author.name) > AUTHOR_LIMIT:
        found.append(f"author {len(embed.author.name)} > {AUTHOR_LIMIT}")
    if len(embed) > EMBED_TOTAL_LIMIT:
        found.append(f"total {len(embed)} > {EMBED_TOTAL_LIMIT}")
    return found


def fit(embed: discord.Embed) -> discord.Embed:
    """Trim `embed` in place until it fits: long parts are cut, then trailing fields dropped."""
    if embed.title:
        embed.title = truncate(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = truncate(embed.description, DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    fields = [(f.name, f.value, f.inline) for f in embed.fields][:FIELDS_LIMIT]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=truncate(name or "\u200b", FIELD_NAME_LIMIT),
            value=truncate(value or "\u200b", FIELD_VALUE_LIMIT),
            inline=inline,
        )
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > EMBED_TOTAL_LIMIT and embed.description:
        embed.description = truncate(embed.description, len(embed.description) - (len(embed) - EMBED_TOTAL_LIMIT))
    return embed
