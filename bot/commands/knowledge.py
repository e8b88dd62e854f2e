"""`alignbot show ID` (a work, where each field came from, refused changes) and `alignbot enrich` (missing
abstracts, author lists, venues and DOIs from the live APIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import (
    EXIT_INTERRUPTED,
    DataDir,
    err,
    fail,
    finish,
    open_services,
    progress_bar,
    sigterm_as_interrupt,
)
from bot.commands.fetch import EXIT_API_FAILED, EXIT_NOT_FOUND
from bot.ingest.provenance import SHOWN_FIELDS, WorkDetail
from bot.metadata.enrich import SOURCES, EnrichReport

out = Console(soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _value(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(map(str, value)) + (f"  ({len(value)})" if len(value) > 3 else "")
    return "" if value is None else str(value)


_ORIGIN_LABELS = {"curated": "curated list", "api": "API token", "records": "records from"}


def _set_by(kind: str, name: str) -> str:
    """`curated list reading_list.jsonl`, `enrich arxiv`, `API token forum-plugin` (--json has full paths and times)."""
    if kind in ("curated", "file") and "/" in name:
        name = Path(name).name
    return f"{_ORIGIN_LABELS.get(kind, kind)} {name}"


def _render_detail(detail: WorkDetail) -> None:
    """One line a field: `title     Sleeper Agents: …  [curated list reading_list.jsonl]`."""
    out.print(f"[bold]{escape(detail.id)}[/bold]" + ("  [green](curated)[/green]" if detail.curated else ""))
    for field in SHOWN_FIELDS:
        value = getattr(detail, field)
        source = detail.provenance.get(field)
        if value in (None, "", []) and source is None:
            continue
        set_by = f"  [dim]\\[{escape(_set_by(source.kind, source.name))}][/dim]" if source else ""
        out.print(f"{field:9} {escape(_value(value))}{set_by}", highlight=False)
    enriched = f"{detail.enriched_at:%Y-%m-%d %H:%M} UTC" if detail.enriched_at else "never"
    out.print(f"sources: {escape(', '.join(detail.sources) or 'none')}; enriched: {enriched}", highlight=False)
    if detail.conflicts:
        out.print(f"[yellow]{len(detail.conflicts)} refused change(s), for a moderator:[/yellow]")
        for conflict in detail.conflicts:
            target = f" (for {conflict.target_id})" if conflict.target_id else ""
            out.print(
                f"  {conflict.field}: {_value(conflict.proposed)!r} from "
                f"{_set_by(conflict.origin.kind, conflict.origin.name)}{target}"
                f" — {conflict.reason}",
                highlight=False,
                markup=False,
            )


def show(
    reference: Annotated[str, typer.Argument(help="A work id (arxiv:2305.04388), an arXiv id, a DOI or a link.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """A stored work: every field, which source set it (provenance), and changes refused to protect it."""
    detail = open_services(data_dir, progress=False).papers.detail(reference)
    if detail is None:
        err.print(f"no work {reference!r} in the knowledge base", highlight=False, markup=False)
        raise typer.Exit(EXIT_NOT_FOUND)
    finish([detail], as_json=as_json, render=lambda: _render_detail(detail))


def _render_enrich(report: EnrichReport) -> None:
    would = "would change" if report.dry_run else "changed"
    for change in report.changed:
        fields = ", ".join(f"{field} ({source})" for field, source in change.fields.items())
        out.print(f"{change.id}  {change.title}: {would} {fields}", highlight=False, markup=False)
    filled = ", ".join(f"{field} {n}" for field, n in sorted(report.filled.items(), key=lambda i: -i[1]))
    summary = (
        f"{report.checked} works checked: {len(report.changed)} {would}"
        + (f" ({filled})" if filled else "")
        + f", {report.not_found} unknown to the APIs, {len(report.errors)} failed lookups; "
        + f"{report.embedded} embedded; {report.remaining} left to check"
    )
    if report.dry_run:
        summary = f"dry run, nothing stored: {summary}"
    err.print(summary, highlight=False, markup=False)
    for error in report.errors:
        err.print(f"  {error}", style="yellow", highlight=False, markup=False)
    if report.skipped_sources:
        err.print(f"left alone after repeated failures: {', '.join(report.skipped_sources)}", style="yellow")


def enrich_command(
    source: Annotated[
        list[str] | None, typer.Option("--source", help=f"Ask only these APIs ({', '.join(SOURCES)}); repeatable.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Ask the APIs and show what would change.")] = False,
    again: Annotated[bool, typer.Option("--again", help="Also works enriched before.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Check at most N works this run.")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Fill missing abstracts, full author lists, venues and DOIs of stored works from arXiv, Semantic Scholar
    and OpenAlex. Resumable: a re-run skips works already done; Ctrl-C stops after the last stored batch."""
    sources = source or list(SOURCES)
    unknown = [name for name in sources if name not in SOURCES]
    if unknown:
        fail(f"unknown source {unknown[0]!r}: use {', '.join(SOURCES)}")
    sigterm_as_interrupt()
    papers = open_services(data_dir, progress=False).papers
    with progress_bar() as progress:
        report = papers.enrich(sources=sources, dry_run=dry_run, again=again, limit=limit, progress=progress)
    interrupted = "interrupted: what was stored is kept; run the same command again to continue"
    finish(
        [report],
        as_json=as_json,
        render=lambda: _render_enrich(report),
        code=EXIT_INTERRUPTED if report.interrupted else EXIT_API_FAILED if report.errors else 0,
        note=interrupted if report.interrupted else None,
    )


def register(app: typer.Typer) -> None:
    """Add `alignbot show` and `alignbot enrich` to the main app."""
    app.command("show")(show)
    app.command("enrich")(enrich_command)
