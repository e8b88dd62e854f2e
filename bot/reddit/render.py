"""Engine and moderation results as Reddit Markdown, always within Reddit's limits.

Pure functions: results in, strings out, nothing sent. Titles, reasons and names are escaped (a title like
"*Not* what you think [draft]" must not turn into emphasis or a broken link); URLs are kept intact so
Reddit links them. Every string that leaves here fits the limit of where it goes: a comment or modmail
body (10,000 characters), a mod note (250), a report reason (100), a modmail subject (100).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from bot.citations import Style, format_citation, short_citation
from bot.domain import AskResult, BibliographyResult, CiteResult, RankedWork, fetched_note
from bot.moderation.schemas import Finding, rule_ids

COMMENT_LIMIT = 10_000
MODMAIL_BODY_LIMIT = 10_000
MODMAIL_SUBJECT_LIMIT = 100
MODNOTE_LIMIT = 250
REPORT_REASON_LIMIT = 100
TITLE_LIMIT = 300
REASON_LIMIT = 300
ANSWER_LIMIT = 3000  # an LLM answer longer than this would crowd out the list of works

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~^>])")  # "(" matters only after "]", which is escaped
_BLOCK_START = re.compile(r"^(\d+)([.)])|^([-+])(?=\s)")  # would start a list where the text starts
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_MARKER = re.compile(r"\\\[(\d+)\\\]")  # an escaped "[n]" citation marker
# u/name, /u/name, r/sub, /r/sub: Reddit links them and notifies the user; "u\/name" shows the same text.
_MENTION = re.compile(r"(?<![A-Za-z0-9_/])(/?[uUrR])/(?=[A-Za-z0-9_-])")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def _block_safe(text: str) -> str:
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _inline_safe(text: str) -> str:
    """Markdown specials and user/subreddit mentions escaped."""
    return _MENTION.sub(r"\1\\/", _MD_SPECIAL.sub(r"\\\1", text))


def escape(text: str) -> str:
    """Text shown as is, on one line: no emphasis, links, headings, quotes, lists, superscripts or mentions."""
    return _block_safe(_inline_safe(" ".join(text.split())))


def _urls(text: str) -> list[tuple[int, int]]:
    """Spans of bare URLs; a closing parenthesis belongs to the URL when it opened one (Wikipedia links)."""
    spans = []
    for match in _URL.finditer(text):
        end = match.end()
        while (
            end < len(text)
            and text[end] == ")"
            and text[match.start() : end].count("(") > text[match.start() : end].count(")")
        ):
            end += 1
        spans.append((match.start(), end))
    return spans


def escape_keeping_urls(text: str) -> str:
    """Like `escape`, but bare URLs stay as they are so Reddit still links them."""
    text = " ".join(text.split())
    parts, last = [], 0
    for start, end in _urls(text):
        parts += [_inline_safe(text[last:start]), text[start:end]]
        last = end
    parts.append(_inline_safe(text[last:]))
    return _block_safe("".join(parts))


def safe_url(url: str) -> str:
    """A URL that survives inside `[text](url)`: parentheses and spaces percent-encoded."""
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._[]")


def work_url(work: RankedWork) -> str | None:
    if work.url and work.url.startswith(("http://", "https://")):
        return work.url
    if work.doi:
        return f"https://doi.org/{work.doi}"
    return None


def link(text: str, url: str | None) -> str:
    """`[text](url)` with the text escaped, or the escaped text alone when there is no URL."""
    label = escape(text)
    return f"[{label}]({safe_url(url)})" if url else label


def work_line(n: int, work: RankedWork, with_reason: bool = True) -> str:
    line = f"{n}. {link(truncate(work.title, TITLE_LIMIT), work_url(work))} ({escape(short_citation(work))})"
    if work.venue:
        line += f", {escape(truncate(work.venue, 120))}"
    if with_reason and work.reason:
        line += f": {escape(truncate(work.reason, REASON_LIMIT))}"
    return line


def footer(username: str | None, commands: Sequence[str] = ("!related", "!cite")) -> str:
    who = f"mention u/{username} or " if username else ""
    return (
        f"^(I'm a bot: {who}start a comment with {' or '.join(commands)}. "
        "Sources come from a curated knowledge base and may miss things.)"
    )


def fit(head: str, items: Sequence[str], tail: str = "", limit: int = COMMENT_LIMIT) -> str:
    """`head`, the numbered `items` and `tail` as one body of at most `limit` characters.

    Items are dropped from the end first (a shorter list still answers), then the head is cut.
    """
    items = list(items)
    while True:
        blocks = [b for b in (head, "\n".join(items), tail) if b]
        body = "\n\n".join(blocks)
        if len(body) <= limit:
            return body
        if items:
            items.pop()
            continue
        room = limit - (len(tail) + 2 if tail else 0)
        if room <= 1:
            return truncate(body, limit)
        head = truncate(head, room)


def _linked_markers(answer: str, results: Sequence[RankedWork]) -> str:
    """The answer escaped, with each "[n]" that names a listed work turned into a link to it."""

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(results):
            url = work_url(results[n - 1])
            if url:
                return f"[\\[{n}\\]]({safe_url(url)})"
        return match.group(0)

    return _MARKER.sub(marker, escape_keeping_urls(answer))


def render_ask(result: AskResult, tail: str = "") -> str:
    """Related work as a reply: the answer with linked [n] citations, then the numbered works."""
    if not result.results:
        return fit("No paper in the knowledge base matches.", [], tail)
    if not result.confident:
        closest = [work_line(n, w, with_reason=False) for n, w in enumerate(result.results[:3], start=1)]
        return fit("No paper in the knowledge base matches; closest:", closest, tail)
    items = [work_line(n, w) for n, w in enumerate(result.results, start=1)]
    return fit(_linked_markers(truncate(result.answer, ANSWER_LIMIT), result.results), items, tail)


def _formatted(work: RankedWork, style: Style) -> str:
    text = format_citation(work, style)
    if style is Style.bibtex:
        return "\n".join("    " + line for line in text.splitlines())  # a code block: shown verbatim
    return "> " + escape_keeping_urls(text)


def render_cite(result: CiteResult, style: Style = Style.apa, tail: str = "") -> str:
    """One resolved reference with its formatted citation, or plainly that nothing matches."""
    reference = escape(truncate(result.query, 200))
    if result.match is None:
        return fit(f'No paper in the knowledge base matches "{reference}".', [], tail)
    if not result.confident:
        candidates = [result.match, *result.alternatives][:3]
        closest = [work_line(n, w, with_reason=False) for n, w in enumerate(candidates, start=1)]
        return fit(f'No paper in the knowledge base matches "{reference}"; closest:', closest, tail)
    work = result.match
    head = f"**{link(truncate(work.title, TITLE_LIMIT), work_url(work))}** ({escape(short_citation(work))})"
    head += "\n\n" + _formatted(work, style)
    if result.fetched:
        head += f"\n\n*({fetched_note(result.fetched)})*"
    others = [work_line(n, w, with_reason=False) for n, w in enumerate(result.alternatives, start=2)]
    if others:
        head += "\n\nOther works it might be:"
    return fit(head, others, tail)


def render_bibliography(result: BibliographyResult, style: Style = Style.apa, tail: str = "") -> str:
    """Every work the thread refers to, numbered in order of first mention."""
    if not result.entries:
        head = "No references to works in the knowledge base found in this thread."
        if result.unresolved:
            head += " Not found: " + "; ".join(escape(u.text) for u in result.unresolved[:10]) + "."
        return fit(head, [], tail)
    items = []
    for n, entry in enumerate(result.entries, start=1):
        text = format_citation(entry.work, Style.apa if style is Style.bibtex else style)
        note = f" *({fetched_note(entry.fetched)})*" if entry.fetched else ""
        items.append(f"{n}. {escape_keeping_urls(text)}{note}")
    closing = ""
    if result.unresolved:
        closing = "Not found in the knowledge base: " + "; ".join(escape(u.text) for u in result.unresolved[:10])
    return fit("Works this thread refers to:", items, "\n\n".join(p for p in (closing, tail) if p))


# --- moderation ------------------------------------------------------------------------------------


def _finding_summary(finding: Finding) -> str:
    return f"{finding.rule} ({finding.severity}): {' '.join(finding.summary.split())}"


def modnote_text(findings: Sequence[Finding], report_id: int | None = None) -> str:
    """A mod note (plain text, at most 250 characters): the most severe finding, and how many more."""
    suffix = f" [report #{report_id}]" if report_id is not None else ""
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    room = MODNOTE_LIMIT - len(suffix) - len(more)
    return truncate("alignbot: " + _finding_summary(findings[0]), room) + more + suffix


def report_reason(findings: Sequence[Finding]) -> str:
    """A report reason (at most 100 characters): the rules that fired."""
    rules = ", ".join(rule_ids(findings))
    return truncate(f"alignbot: {rules}", REPORT_REASON_LIMIT)


def modmail_subject(title: str, findings: Sequence[Finding]) -> str:
    what = "finding" if len(findings) == 1 else "findings"
    prefix = f"alignbot: {len(findings)} {what} on "
    return prefix + truncate(f'"{" ".join(title.split())}"', MODMAIL_SUBJECT_LIMIT - len(prefix))


def modmail_body(
    *,
    title: str,
    permalink: str,
    author: str | None,
    subreddit: str,
    findings: Sequence[Finding],
    report_id: int | None = None,
) -> str:
    """A Mod Discussion summary: what was found, the suggested action and the draft message to the author."""
    who = f"u/{author}" if author else "a deleted account"
    head = f"{link(truncate(title, TITLE_LIMIT), permalink)} by {who} in r/{subreddit}"
    blocks = []
    for n, finding in enumerate(findings, start=1):
        summary = escape_keeping_urls(truncate(finding.summary, 1500))
        block = f"**{n}. {escape(finding.rule)}** ({finding.severity}): {summary}"
        block += f"\n\n* Suggested action: {escape_keeping_urls(truncate(finding.action, 500))}"
        if finding.message.strip():
            lines = truncate(finding.message, 1500).splitlines()
            quoted = "\n".join("> " + escape_keeping_urls(line) for line in lines if line.strip())
            block += "\n* Draft message to the author:\n\n" + quoted
        blocks.append(block)
    closing = "Advice only: nothing was removed or sent to the author."
    if report_id is not None:
        closing = f"Report #{report_id} in the review queue (`alignbot review {report_id}`). " + closing
    # Blocks are separated by blank lines; fit() joins items with one newline, so join them here first.
    items = [blocks[0], *("\n" + b for b in blocks[1:])] if blocks else []
    return fit(head, items, closing, limit=MODMAIL_BODY_LIMIT)
