"""`alignbot sync arxiv|forum`: keep the knowledge base current from arXiv and the ForumMagnum forums.

alignbot sync arxiv --category cs.AI --category cs.CL --since 2026-11-01 [--until DATE] [--match FILE | --topics]
alignbot sync forum [URL] --site lesswrong|alignmentforum|eaforum [--since DATE]
        [--json] [--data-dir DIR]

Exit codes: 0 done; 2 a request that cannot be made (a bad date or category, a first run without --since, an
unreadable --match file); 3 the source failed (after retries) or the vector store is down: what was stored
stays, and running the same command again resumes; 130 interrupted (Ctrl-C, kill): likewise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bot.cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    DataDir,
    err,
    fail,
    finish,
    open_services,
    progress_bar,
    sigterm_as_interrupt,
)
from bot.ingest.pipeline import Progress
from bot.metadata.errors import MetadataError, MetadataRequestError
from bot.moderation.forummagnum import ForumMagnumError
from bot.papers import Papers
from bot.settings import Settings
from bot.sync.client import SITES, forum_endpoint, oai_date, set_spec
from bot.sync.service import Interrupted, SyncReport

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object per source instead of a summary.")]


def _summary(report: SyncReport) -> str:
    state = f"next run from {report.next_from}" if report.complete else "not finished: run again to resume"
    resumed = " (resumed)" if report.resumed else ""
    return (
        f"{report.source}{resumed}: {report.seen} read, {report.kept} kept: {report.added} new, "
        f"{report.merged} merged into existing works, {report.unchanged} unchanged; {state}"
    )


def _run(data_dir: Path | None, as_json: bool, work: Callable[[Papers, Progress], list[SyncReport]]) -> None:
    """Open the application, run one sync with a progress display, embed what it stored, report. Interruptions
    and failures keep what was stored (the cursor is saved after every stored page) and say how to resume."""
    sigterm_as_interrupt()
    services = open_services(data_dir)
    code, note, embedded = 0, None, None
    reports: list[SyncReport] = []
    with progress_bar() as progress:
        try:
            reports = work(services.papers, progress)
        except Interrupted as exc:
            reports, code = exc.reports, EXIT_INTERRUPTED
            note = "interrupted: everything up to the last page is stored; run the same command again to resume"
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)
        except MetadataRequestError as exc:
            fail(f"{exc}; nothing more was stored", EXIT_USAGE)
        except (MetadataError, ForumMagnumError) as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            code, note = EXIT_FAILED, "what was read so far is stored; run the same command again to resume"
        if code == 0:
            embedded = services.engine.embed_pending(progress)
    if embedded is not None and embedded.embedding_error:
        code = EXIT_FAILED
        note = (
            f"{embedded.embedding_error}: the works are stored; run `alignbot ingest` when the vector store is "
            "back to embed them"
        )

    def render() -> None:
        for report in reports:
            err.print(escape(_summary(report)), highlight=False)

    finish(reports, as_json=as_json, render=render, code=code, note=note)


def register(app: typer.Typer) -> None:
    """Add `alignbot sync arxiv|forum` to the main app."""
    sync_app = typer.Typer(
        help="Keep the knowledge base current: new arXiv papers on our topics, forum posts as citable works.",
        no_args_is_help=True,
    )
    app.add_typer(sync_app, name="sync")

    @sync_app.command("arxiv")
    def arxiv(
        category: Annotated[
            list[str], typer.Option("--category", "-c", help="arXiv category (cs.AI) or OAI-PMH set; repeatable.")
        ],
        since: Annotated[
            str | None, typer.Option("--since", help="First day (YYYY-MM-DD); default: where the last run ended.")
        ] = None,
        until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD); default: today.")] = None,
        match: Annotated[
            Path | None, typer.Option("--match", help="Keep papers like the works (.jsonl/.bib) or topics (text) here.")
        ] = None,
        topics: Annotated[
            bool, typer.Option("--topics", help="Keep papers on the reading list's topics (the default).")
        ] = False,
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """Harvest new papers of arXiv categories (OAI-PMH), keep those relevant to the community, store them."""
        try:  # checked before opening the engine, which takes seconds
            for name in category:
                set_spec(name)
            since_day = oai_date(since) if since else None
            until_day = oai_date(until) if until else None
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)
        if since_day and until_day and since_day > until_day:
            fail(f"--since {since_day} is after --until {until_day}", EXIT_USAGE)
        if match is not None and topics:
            fail("give --match FILE or --topics, not both", EXIT_USAGE)
        if match is not None and not match.is_file():
            fail(f"{match}: no such file", EXIT_USAGE)

        _run(
            data_dir,
            as_json,
            lambda papers, progress: papers.sync_arxiv(
                category, since=since_day, until=until_day, match=match, progress=progress
            ),
        )

    @sync_app.command("forum")
    def forum(
        url: Annotated[
            str | None, typer.Argument(help="The forum (https://www.lesswrong.com) or its GraphQL endpoint.")
        ] = None,
        site: Annotated[str, typer.Option("--site", help=f"Which forum: {', '.join(SITES)}.")] = "lesswrong",
        since: Annotated[
            str | None,
            typer.Option("--since", help="Posts after this date; default: after the last run's newest post."),
        ] = None,
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """Make a forum's posts citable works (kind post, authors, link, karma), incrementally."""
        try:
            endpoint = forum_endpoint(site, url, Settings.load(data_dir))
            since_day = oai_date(since) if since else None
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)

        _run(
            data_dir,
            as_json,
            lambda papers, progress: [papers.sync_forum(site, endpoint, since=since_day, progress=progress)],
        )
