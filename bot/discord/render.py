"""Engine and moderation results as Discord embeds and messages, always within Discord's limits.

Pure functions: results in, `discord.Embed`s and strings out, nothing sent. Every embed that leaves
here has passed `fit` (bot.discord.embeds, with the limits and text helpers), so a long title, a 40-author
paper or a chatty LLM answer is trimmed rather than rejected by Discord with a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord
from discord.utils import escape_mentions

from bot.answer import composed_answer
from bot.citations import Style, short_citation
from bot.discord.embeds import (
    DESCRIPTION_LIMIT,
    ENTRY_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FIELDS_LIMIT,
    FOOTER_LIMIT,
    MESSAGE_LIMIT,
    TITLE_LIMIT,
    Page,
    code_block,
    fit,
    link,
    md,
    pack,
    safe_url,
    split_text,
    truncate,
    work_entry,
    work_url,
)
from bot.domain import AskResult, BibliographyResult, CiteResult, RankedWork, fetched_note
from bot.exports import ExportFormat, export
from bot.metadata.fetch import FetchResult
from bot.moderation.rules.related import RelatedWork
from bot.moderation.schemas import (
    CitedByResult,
    DecisionRecord,
    Finding,
    RelatedWorkAudit,
    ReportDetail,
    flags,
)

RESEARCH_COLOUR = discord.Colour(0x4F7CAC)
UNSURE_COLOUR = discord.Colour(0x9AA5B1)
STATUS_COLOURS = {
    "open": discord.Colour(0xE3A008),
    "approved": discord.Colour(0x2F9E44),
    "needs-changes": discord.Colour(0x1C7ED6),
    "rejected": discord.Colour(0xC92A2A),
}
SEVERITY_MARK = {"high": "🔴", "medium": "🟠", "low": "🟡", "info": "🔵"}
STATUS_LABEL = {"open": "Open", "approved": "Approved", "needs-changes": "Needs changes", "rejected": "Rejected"}


# --- research ----------------------------------------------------------------------------------------


def related_pages(result: AskResult, per_page: int = 5) -> list[Page]:
    """Pages of related work for a question; one plain page when nothing matches."""
    question = truncate(" ".join(result.query.split()), 200)
    if not result.results:
        embed = discord.Embed(
            title="No related work found",
            description=f"Nothing in the knowledge base matches “{md(question)}”.",
            colour=UNSURE_COLOUR,
        )
        embed.set_footer(text="Try other words, or /cite if you know the paper.")
        return [Page(fit(embed))]
    if not result.confident:
        nearest = "\n\n".join(work_entry(n, w, reason=False) for n, w in enumerate(result.results[:3], start=1))
        embed = discord.Embed(
            title="No close match",
            description=(
                f"Nothing in the knowledge base matches “{md(question)}” closely. "
                f"The nearest works, probably not what you want:\n\n{nearest}"
            ),
            colour=UNSURE_COLOUR,
        )
        embed.set_footer(text="Try other words, or /cite if you know the paper.")
        return [Page(fit(embed))]
    entries = [work_entry(n, work) for n, work in enumerate(result.results, start=1)]
    groups = pack(entries, most=per_page)
    # An LLM answer (when one is configured) is worth showing; the composed one only repeats the list.
    answer = result.answer if result.answer != composed_answer(result.query, result.results, True) else ""
    pages = []
    shown = 0
    for number, group in enumerate(groups, start=1):
        first, last = shown + 1, shown + len(group)
        shown = last
        description = "\n\n".join(group)
        if number == 1 and answer:
            description = truncate(md(answer), 1000) + "\n\n" + description
        embed = discord.Embed(title=f"Related work: {question}", description=description, colour=RESEARCH_COLOUR)
        footer = f"Page {number}/{len(groups)} · works {first}–{last} of {len(result.results)}"
        embed.set_footer(text=footer)
        pages.append(Page(fit(embed), list(result.results[first - 1 : last])))
    return pages


def cite_embed(result: CiteResult, style: Style | str = Style.apa) -> discord.Embed:
    style = Style(style)
    reference = truncate(" ".join(result.query.split()), 200)
    if result.match is None or not result.formatted:
        embed = discord.Embed(
            title="No match",
            description=f"No work in the knowledge base matches “{md(reference)}”.",
            colour=UNSURE_COLOUR,
        )
        embed.set_footer(text="Try a title, an author and year (Turpin et al. 2023), or an arXiv id.")
        return fit(embed)
    work = result.match
    if style is Style.bibtex:
        body = code_block(result.formatted, "bibtex", limit=DESCRIPTION_LIMIT - 200)
    else:
        body = md(result.formatted)
    title = work.title if result.confident else f"Best guess: {work.title}"
    embed = discord.Embed(
        title=truncate(title, TITLE_LIMIT),
        url=safe_url(work_url(work)) if work_url(work) else None,
        description=body,
        colour=RESEARCH_COLOUR if result.confident else UNSURE_COLOUR,
    )
    url = work_url(work)
    if url:
        embed.add_field(name="Link", value=truncate(url, FIELD_VALUE_LIMIT), inline=False)
    if not result.confident and result.alternatives:
        others = "\n".join(
            f"• {link(alt.title, work_url(alt), 150)} ({md(short_citation(alt))})" for alt in result.alternatives[:3]
        )
        embed.add_field(name="Or did you mean", value=others, inline=False)
    footer = f"{style.label} · {short_citation(work)}"
    embed.set_footer(text=f"{footer} · {fetched_note(result.fetched)}" if result.fetched else footer)
    return fit(embed)


def bibliography_pages(result: BibliographyResult, style: Style | str = Style.apa, where: str = "thread") -> list[Page]:
    style = Style(style)
    if not result.entries:
        embed = discord.Embed(
            title="No references found",
            description=f"Nothing in this {where} refers to a work in the knowledge base yet.",
            colour=UNSURE_COLOUR,
        )
        if result.unresolved:
            embed.add_field(
                name="Not in the knowledge base", value=_unresolved([u.text for u in result.unresolved]), inline=False
            )
        return [Page(fit(embed))]
    if style is Style.bibtex:
        entries = [code_block(e.formatted, "bibtex", limit=ENTRY_LIMIT * 2) for e in result.entries]
        sep = "\n"
        groups = pack(entries, most=8, sep=sep)
    else:
        entries = [f"**[{n}]** {md(e.formatted)}" for n, e in enumerate(result.entries, start=1)]
        sep = "\n\n"
        groups = pack(entries, most=10, sep=sep)
    texts = [sep.join(g) for g in groups]
    pages = []
    shown = 0
    for number, text in enumerate(texts, start=1):
        page_works = [e.work for e in result.entries[shown : shown + len(groups[number - 1])]]
        shown += len(groups[number - 1])
        embed = discord.Embed(
            title=f"Bibliography of this {where} ({len(result.entries)} works)",
            description=text,
            colour=RESEARCH_COLOUR,
        )
        if number == len(texts) and result.unresolved:
            embed.add_field(
                name="Not in the knowledge base", value=_unresolved([u.text for u in result.unresolved]), inline=False
            )
        embed.set_footer(text=f"Page {number}/{len(texts)} · {style.label} · in order of first mention")
        pages.append(Page(fit(embed), page_works))
    return pages


def _unresolved(mentions: Sequence[str]) -> str:
    return truncate(", ".join(f"“{md(truncate(m, 80))}”" for m in mentions), FIELD_VALUE_LIMIT)


def mentioned_pages(result: BibliographyResult, style: Style | str = Style.apa) -> list[Page]:
    """The works one message refers to ("Cite papers mentioned")."""
    pages = bibliography_pages(result, style, where="message")
    for page in pages:
        if page.embed.title and page.embed.title.startswith("Bibliography"):
            page.embed.title = f"Works this message refers to ({len(result.entries)})"
    return pages


# Code-block language of each export format, for Discord's syntax highlighting.
_FENCE_LANGUAGE = {ExportFormat.bibtex: "bibtex", ExportFormat.csl_json: "json", ExportFormat.ris: ""}


def export_messages(works: Sequence[RankedWork], export_format: ExportFormat = ExportFormat.bibtex) -> list[str]:
    """The works as one BibTeX, CSL-JSON or RIS document, cut into message contents of at most 2000
    characters, each a fenced block."""
    language = _FENCE_LANGUAGE[export_format]
    fence_overhead = len(f"```{language}\n\n```")
    chunks = split_text(export(works, export_format).strip(), MESSAGE_LIMIT - fence_overhead)
    return [f"```{language}\n{chunk.replace('```', '`' + chr(0x200B) + '``')}\n```" for chunk in chunks]


# --- moderation --------------------------------------------------------------------------------------


def _finding_value(finding: Finding) -> str:
    lines = [md(finding.summary)]
    evidence = finding.evidence
    source = evidence.get("source")
    if isinstance(source, dict) and source.get("title"):
        lines.append(f"Source: {link(str(source['title']), source.get('url'), 120)}")
    measures = [f"{key} {evidence[key]:.2f}" for key in ("containment", "coverage", "jaccard") if key in evidence]
    if measures:
        lines.append(" · ".join(measures))
    if finding.rule == RelatedWork.id:  # its evidence is the audit
        audit = RelatedWorkAudit.model_validate(evidence)
        lines.append(f"Cites {audit.cited_count} works ({audit.cited_in_knowledge_base} in the knowledge base).")
        if audit.uncited:
            closest = "; ".join(link(w.title, w.url, 80) for w in audit.uncited[:3])
            lines.append(f"Closest uncited: {closest}")
    lines.append(f"**Action:** {md(finding.action)}")
    return truncate("\n".join(lines), FIELD_VALUE_LIMIT)


def decision_line(decision: DecisionRecord) -> str:
    when = discord.utils.format_dt(decision.decided_at, "f")
    status = STATUS_LABEL.get(decision.status, decision.status)
    return f"{when} **{md(decision.moderator)}**: {status} — {md(truncate(decision.reason, 200))}"


def report_embed(detail: ReportDetail, *, link_url: str | None = None) -> discord.Embed:
    """A moderation report: what fired, with evidence, the suggested action and the decisions so far."""
    status = STATUS_LABEL.get(detail.status, detail.status)
    fired = flags(detail.findings)
    embed = discord.Embed(
        title=truncate(f"Report {detail.report_id}: {detail.title}", TITLE_LIMIT),
        url=safe_url(link_url) if link_url else None,
        colour=STATUS_COLOURS.get(detail.status, UNSURE_COLOUR),
        timestamp=detail.created_at if isinstance(detail.created_at, datetime) else None,
    )
    authors = ", ".join(a.get("handle", "?") for a in detail.submission.get("authors", []) if isinstance(a, dict))
    head = [
        f"**Status:** {status}",
        f"**Submitted by** {md(detail.submitter)} to {md(detail.forum)}"
        + (f" · authors: {md(authors)}" if authors else ""),
    ]
    if not fired:
        head.append("✅ No rule fired.")
    embed.description = "\n".join(head)
    for finding in detail.findings[: FIELDS_LIMIT - 3]:
        mark = SEVERITY_MARK.get(finding.severity, "•")
        embed.add_field(
            name=truncate(f"{mark} {finding.severity.upper()} · {finding.rule}", FIELD_NAME_LIMIT),
            value=_finding_value(finding),
            inline=False,
        )
    if fired:
        embed.add_field(
            name=f"Draft message to the author ({fired[0].rule})",
            value=truncate(md(fired[0].message), FIELD_VALUE_LIMIT),
            inline=False,
        )
    if detail.decisions:
        lines = [decision_line(d) for d in detail.decisions[-5:]]
        embed.add_field(name="Decisions", value=truncate("\n".join(lines), FIELD_VALUE_LIMIT), inline=False)
    embed.set_footer(text=f"alignbot moderation · submission {detail.submission_id}")
    return fit(embed)


def audit_embed(audit: RelatedWorkAudit, source: str | None = None) -> discord.Embed:
    title = audit.title or "this post"
    embed = discord.Embed(
        title=truncate(f"Related-work audit: {title}", TITLE_LIMIT),
        url=safe_url(source) if source and source.startswith("http") else None,
        description=(
            f"Cites **{audit.cited_count}** distinct works, **{audit.cited_in_knowledge_base}** of them in the "
            "knowledge base."
        ),
        colour=RESEARCH_COLOUR,
    )
    if audit.sections:
        lines = [
            f"“{md(truncate(s.heading, 60))}” ({s.kind}): {s.paragraphs} paragraphs, {s.words} words, "
            f"{s.cited_total} works cited ({s.cited_in_section} in the text, {s.cited_in_footnotes} in footnotes)"
            for s in audit.sections
        ]
        embed.add_field(name="Sections", value=truncate("\n".join(lines), FIELD_VALUE_LIMIT), inline=False)
    else:
        embed.add_field(name="Sections", value="No related-work or references section.", inline=False)
    resolved = [c for c in audit.citations if c.work]
    if resolved:
        seen: dict[str, str] = {}
        for c in resolved:
            assert c.work is not None
            seen.setdefault(c.work.id, f"• {link(c.work.title, c.work.url, 90)} ({c.location})")
        embed.add_field(name="Cited works", value=truncate("\n".join(seen.values()), FIELD_VALUE_LIMIT), inline=False)
    if audit.unresolved_mentions:
        embed.add_field(
            name="References not in the knowledge base", value=_unresolved(audit.unresolved_mentions), inline=False
        )
    if audit.uncited:
        lines = [f"• {link(w.title, w.url, 90)} ({w.year or 'n.d.'}, similarity {w.score:.2f})" for w in audit.uncited]
        embed.add_field(
            name="Closest works it does not cite", value=truncate("\n".join(lines), FIELD_VALUE_LIMIT), inline=False
        )
    return fit(embed)


def citedby_pages(result: CitedByResult) -> list[Page]:
    label = f"{result.work.title} ({result.work.year or 'n.d.'})" if result.work else result.reference
    title = truncate(f"Posts citing {label}", TITLE_LIMIT)
    if not result.posts:
        embed = discord.Embed(title=title, description="No stored post cites it.", colour=UNSURE_COLOUR)
        embed.set_footer(text=truncate("Searched: " + ", ".join(result.keys), FOOTER_LIMIT))
        return [Page(fit(embed))]
    entries = []
    for post in result.posts:
        when = post.posted_at.strftime("%Y-%m-%d") if post.posted_at else "n.d."
        where = ", ".join(sorted({str(link_["location"]) for link_ in post.links})) or "body"
        entries.append(
            f"{link(post.title, post.url, 150)}\n{md(post.author)} · {md(post.forum or 'page')} · {when} · cited in "
            f"{where}"
        )
    pages = []
    texts = ["\n\n".join(g) for g in pack(entries, most=10)]
    for number, text in enumerate(texts, start=1):
        embed = discord.Embed(title=title, description=text, colour=RESEARCH_COLOUR)
        embed.set_footer(text=f"Page {number}/{len(texts)} · {len(result.posts)} posts")
        pages.append(Page(fit(embed)))
    return pages


# --- papers ------------------------------------------------------------------------------------------

FETCH_STATUS = {
    "added": "Added to the knowledge base",
    "updated": "Already known: merged what was new",
    "present": "Already in the knowledge base",
}
FETCH_WOULD = {"added": "Would be added", "updated": "Would be merged", "present": "Already in the knowledge base"}


def fetch_embed(result: FetchResult, api: str) -> discord.Embed:
    """What `/paper add` stored (or, in a dry run, would store), each work with what happened to it."""
    asked = truncate(result.query, 200)
    if not result.works:
        if result.identifier:
            text = f"{api} has no paper {result.identifier}."
        else:
            text = f"{api} found nothing for “{asked}”."
        embed = discord.Embed(title="Nothing added", description=md(text), colour=UNSURE_COLOUR)
        embed.set_footer(text="Check the id, or try another source or other words.")
        return fit(embed)
    labels = FETCH_WOULD if result.dry_run else FETCH_STATUS
    entries = [
        f"{work_entry(n, item.work, reason=False)}\n↳ {labels[item.status]}"
        for n, item in enumerate(result.works, start=1)
    ]
    added = sum(1 for item in result.works if item.status == "added")
    papers = f"{added} paper{'s' if added != 1 else ''}"
    title = (f"Would add {papers}" if result.dry_run else f"Added {papers}") if added else "Nothing new to add"
    embed = discord.Embed(title=title, description="\n\n".join(entries), colour=RESEARCH_COLOUR)
    where = "Found in the knowledge base; no request made" if result.from_knowledge_base else f"From {api}"
    embed.set_footer(text=where + (" · dry run: nothing stored" if result.dry_run else ""))
    return fit(embed)


def notice(text: str) -> str:
    """A plain message (refusals, errors) cut to one message, mentions escaped."""
    return truncate(escape_mentions(text), MESSAGE_LIMIT)
