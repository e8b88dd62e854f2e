"""`alignbot sync arxiv|forum`: keep the knowledge base current from arXiv and the ForumMagnum forums.

alignbot sync arxiv --category cs.AI --category cs.CL --since 2026-11-01 [--until DATE] [--match FILE | --topics]
alignbot sync forum [URL] --site lesswrong|alignmentforum|eaforum [--since DATE]
        [--json] [--data-dir DIR]

Exit codes: 0 done; 2 a request that cannot be made (a bad date or category, a first run without --since, an
unreadable --match file); 3 the source failed (after retries) or the vector store is down: what was stored
stays, and running the same command again resumes; 130 interrupted (Ctrl-C, kill): likewise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.engine import Engine
from bot.metadata.errors import MetadataError, MetadataRequestError
from bot.moderation.forummagnum import ForumMagnumClient, ForumMagnumError
from bot.sync.client import SITES, forum_endpoint, oai_date, set_spec
from bot.sync.filter import RelevanceFilter, curated_profile, file_profile
from bot.sync.service import Interrupted, SyncReport, sync_arxiv, sync_forum

err = Console(stderr=True, soft_wrap=True)

EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Knowledge-base directory [env: ALIGNBOT_DATA_DIR]")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object per source instead of a summary.")]


def _fail(message: str, code: int) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _summary(report: SyncReport) -> str:
    state = f"next run from {report.next_from}" if report.complete else "not finished: run again to resume"
    resumed = " (resumed)" if report.resumed else ""
    return (
        f"{report.source}{resumed}: {report.seen} read, {report.kept} kept: {report.added} new, "
        f"{report.merged} merged into existing works, {report.unchanged} unchanged; {state}"
    )


def _run(data_dir: Path | None, as_json: bool, work: Callable[[Engine, Callable], list[SyncReport]]) -> None:
    """Open the engine, run one sync with a progress display, embed what it stored, report. Interruptions and
    failures keep what was stored (the cursor is saved after every stored page) and say how to resume."""
    # The CLI's progress bar and engine opening live in bot.cli, which registers this module: import late.
    from bot.cli import _open_engine, _progress, _sigterm_as_interrupt

    _sigterm_as_interrupt()
    engine = _open_engine(data_dir)
    code = 0
    reports: list[SyncReport] = []
    try:
        with _progress() as progress:
            try:
                reports = work(engine, progress)
            except Interrupted as exc:
                reports, code = exc.reports, EXIT_INTERRUPTED
            except ValueError as exc:
                _fail(str(exc), EXIT_USAGE)
            except MetadataRequestError as exc:
                _fail(f"{exc}; nothing more was stored", EXIT_USAGE)
            except (MetadataError, ForumMagnumError) as exc:
                err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
                code = EXIT_FAILED
            embedded = engine.embed_pending(progress) if code == 0 else None
    finally:
        engine.close()
    if as_json:
        for report in reports:
            sys.stdout.write(json.dumps(report.model_dump(mode="json")) + "\n")
    else:
        for report in reports:
            err.print(escape(_summary(report)), highlight=False)
    if code == EXIT_INTERRUPTED:
        err.print("[yellow]interrupted: everything up to the last page is stored; run the same command again to resume")
    elif code == EXIT_FAILED:
        err.print("[yellow]what was read so far is stored; run the same command again to resume[/yellow]")
    elif embedded is not None and embedded.embedding_error:
        err.print(
            f"[yellow]{escape(embedded.embedding_error)}: the works are stored; run `alignbot ingest` when the "
            "vector store is back to embed them[/yellow]",
            highlight=False,
        )
        code = EXIT_FAILED
    if code:
        raise typer.Exit(code)


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
            _fail(str(exc), EXIT_USAGE)
        if since_day and until_day and since_day > until_day:
            _fail(f"--since {since_day} is after --until {until_day}", EXIT_USAGE)
        if match is not None and topics:
            _fail("give --match FILE or --topics, not both", EXIT_USAGE)
        if match is not None and not match.is_file():
            _fail(f"{match}: no such file", EXIT_USAGE)

        def work(engine: Engine, progress: Callable) -> list[SyncReport]:
            profile = file_profile(match) if match is not None else curated_profile(engine.db)
            relevance = RelevanceFilter(engine.embedder, profile, engine.settings.metadata.sync_relevance_threshold)
            return sync_arxiv(
                engine, category, since=since_day, until=until_day, relevance=relevance, progress=progress
            )

        _run(data_dir, as_json, work)

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
        from bot.settings import Settings

        try:
            endpoint = forum_endpoint(site, url, Settings.load(data_dir))
            since_day = oai_date(since) if since else None
        except ValueError as exc:
            _fail(str(exc), EXIT_USAGE)

        def work(engine: Engine, progress: Callable) -> list[SyncReport]:
            client = ForumMagnumClient(endpoint)
            try:
                return [sync_forum(engine, site, client, since=since_day, progress=progress)]
            finally:
                client.close()

        _run(data_dir, as_json, work)
