"""`alignbot fetch arxiv|s2|openalex ID|QUERY`: papers from the live metadata APIs into the knowledge base.

alignbot fetch arxiv 2305.04388                        # an id or link: looked up (no request if already stored)
alignbot fetch s2 doi:10.1145/3442188.3445922
alignbot fetch openalex "stochastic parrots" --limit 3 # anything else: searched; the best N are added
        [--json] [--dry-run] [--refresh] [--data-dir DIR]

Exit codes: 0 stored (or already present, or shown with --dry-run); 1 the API has no such paper or nothing
matched; 2 a request that cannot be made (a DOI given to arXiv, an empty query, an id the API calls
malformed); 3 the API failed (timeout, error status, an answer that cannot be read): nothing was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import EXIT_FAILED, EXIT_USAGE, DataDir, err, fail, finish, open_services
from bot.metadata.errors import MetadataError, MetadataRequestError
from bot.metadata.fetch import CLIENTS, MAX_LIMIT, FetchResult, parse_request

out = Console(soft_wrap=True)

EXIT_NOT_FOUND = 1
EXIT_API_FAILED = EXIT_FAILED

Query = Annotated[list[str], typer.Argument(help="An id or link to look up, or words to search for.")]
Limit = Annotated[int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, help="Works a search adds (best first).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Ask the API and show what would be stored; store nothing.")]
Refresh = Annotated[bool, typer.Option("--refresh", help="Ask the API even when the work is already stored.")]

_STATUS_STYLE = {"added": "green", "updated": "cyan", "present": "dim"}
_WOULD = {"added": "would add", "updated": "would update", "present": "present"}


def _render(result: FetchResult) -> None:
    if not result.works:
        return  # the caller says what was not found
    for item in result.works:
        work = item.work
        label = _WOULD[item.status] if result.dry_run else item.status
        authors = ", ".join(work.authors[:3]) + (" et al." if len(work.authors) > 3 else "")
        line = f"{work.id}  {work.title} — {authors or 'unknown authors'} ({work.year or 'n.d.'}) {work.url or ''}"
        out.print(f"[{_STATUS_STYLE[item.status]}]{label:12}[/] {escape(line)}", highlight=False)  # titles have [..]
    counts = {s: sum(1 for i in result.works if i.status == s) for s in ("added", "updated", "present")}
    summary = f"{counts['added']} added, {counts['updated']} updated, {counts['present']} already present"
    if result.dry_run:
        summary = f"dry run, nothing stored: {summary.replace(' added', ' would be added')}"
    if result.from_knowledge_base:
        summary += " (found in the knowledge base; no request made)"
    err.print(summary, highlight=False, markup=False)


def _fetch(
    source: str, words: list[str], limit: int, as_json: bool, dry_run: bool, refresh: bool, data_dir: Path | None
) -> None:
    label = CLIENTS[source].label
    try:  # before opening the engine: checking the request costs nothing, opening the engine takes seconds
        query, identifier = parse_request(source, " ".join(words))
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    papers = open_services(data_dir, progress=False).papers
    try:
        result = papers.fetch(source, query, limit=limit, refresh=refresh, dry_run=dry_run)
    except MetadataRequestError as exc:  # the API calls the identifier malformed: the user's to fix
        fail(str(exc), EXIT_USAGE)
    except MetadataError as exc:
        fail(f"{exc}; nothing was stored", EXIT_API_FAILED)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    if result.works:
        missing = None
    elif identifier:
        missing = f"{label} has no paper {identifier}"
    else:
        missing = f"{label} found nothing for {query!r}"
    finish(
        [result], as_json=as_json, render=lambda: _render(result), code=EXIT_NOT_FOUND if missing else 0, note=missing
    )


def register(app: typer.Typer) -> None:
    """Add `alignbot fetch arxiv|s2|openalex` to the main app."""
    fetch_app = typer.Typer(
        help="Add papers from arXiv, Semantic Scholar or OpenAlex to the knowledge base (an id, a link, or a search).",
        no_args_is_help=True,
    )
    app.add_typer(fetch_app, name="fetch")

    for source, help_text in _HELP.items():
        fetch_app.command(source, help=help_text)(_command(source))


_HELP = {
    "arxiv": "arXiv: an arXiv id (2305.04388, hep-th/9901001, with or without version), an arXiv link, or words.",
    "s2": "Semantic Scholar: a DOI, arXiv id, S2 paper id, CorpusId:N, a paper link, or words.",
    "openalex": "OpenAlex: a DOI, an OpenAlex work id (W…), an arXiv id, or words.",
}


def _command(source: str) -> Callable[..., None]:
    """The `alignbot fetch SOURCE` command: the same options for every API."""

    def fetch(
        query: Query,
        limit: Limit = 1,
        as_json: JsonFlag = False,
        dry_run: DryRun = False,
        refresh: Refresh = False,
        data_dir: DataDir = None,
    ) -> None:
        _fetch(source, query, limit, as_json, dry_run, refresh, data_dir)

    return fetch
