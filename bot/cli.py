"""The `alignbot` command line: a thin layer that turns arguments into engine calls and renders results."""

# ruff: noqa: E402 - the collector is paused before the imports below
from __future__ import annotations

import gc

# A cold start creates some 160,000 objects that live as long as the process (modules, classes, SQLAlchemy's and
# pydantic's machinery), and the cyclic collector would traverse them again and again while they load: about a
# sixth of a cold `cite`'s CPU. So nothing is collected while this module's imports load; then what they made is
# frozen (never traversed again) and collection resumes.
_collecting = gc.isenabled()
gc.disable()

import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import click
import typer
import typer.core
import typer.main
from rich.console import Console
from rich.table import Table

from bot.citations import Style
from bot.cli_common import (
    EXIT_INTERRUPTED,
    INTERRUPTED_NOTICE,
    DataDir,
    JsonFlag,
    close_services,
    err,
    fail,
    load_settings,
    open_services,
    print_json,
    progress_bar,
    sigterm_as_interrupt,
)
from bot.domain import AskResult, BibliographyResult, CiteResult, Message, fetched_note
from bot.exports import ExportFormat
from bot.ingest.parsers import parser_for
from bot.mentions import parse_thread
from bot.processes import Background, leave_if_terminated, status_lines
from bot.storage import StoreCorrupt

# Commands registered by other modules (`register(app)` in each), imported only when one of theirs is invoked
# (or `--help` lists them all), so a command does not start by importing every other command's dependencies.
# In `alignbot --help` order; tests/test_startup.py checks that each module registers exactly the names given here.
LAZY_COMMANDS = {
    "db": "bot.commands.db",  # the database's schema: upgrade, current
    **dict.fromkeys(["check", "audit", "queue", "review", "decide", "citedby"], "bot.commands.moderation"),
    "reddit": "bot.reddit.cli",
    "discord": "bot.discord.cli",
    "serve": "bot.http.cli",  # the HTTP API and moderator page
    "worker": "bot.commands.worker",
    "show": "bot.commands.knowledge",  # a work and its provenance
    "enrich": "bot.commands.knowledge",  # missing metadata from the live APIs
    "members": "bot.commands.moderation",
    "posts": "bot.commands.moderation",
    "token": "bot.http.cli",
    "fetch": "bot.commands.fetch",  # papers from the live metadata APIs
    "sync": "bot.commands.sync",  # new papers and forum posts, incrementally
}


class LazyCommands(typer.core.TyperGroup):
    """The main group: the commands of LAZY_COMMANDS are added when first looked up (click's lazy-group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*(name for name in self.commands if name not in LAZY_COMMANDS), *LAZY_COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.commands.update(registered_by(LAZY_COMMANDS[cmd_name]))
        return super().get_command(ctx, cmd_name)


def registered_by(module: str) -> dict[str, click.Command]:
    """The commands `module`'s `register(app)` adds to an app, by name."""
    commands = typer.Typer()
    importlib.import_module(module).register(commands)
    return dict(typer.main.get_group(commands).commands)


class AlignbotApp(typer.Typer):
    """The CLI; a corrupt store ends any command with its one-line error (file and recovery command)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except StoreCorrupt as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            sys.exit(2)


app = AlignbotApp(
    cls=LazyCommands,
    help="Related work and citations for AI-alignment communities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
if _collecting:
    gc.freeze()
    gc.enable()

ExportOption = Annotated[
    ExportFormat | None,
    typer.Option(
        "--format", help="Print the works as a bibtex, csl-json or ris document (with --json: in its 'export' field)."
    ),
]
BatchFile = Annotated[
    Path | None, typer.Option("--batch", help='JSON Lines of {"query": …} (- for stdin); one JSON result per line.')
]


@app.callback()
def main(
    ctx: typer.Context, verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False
) -> None:
    ctx.call_on_close(close_services)  # the command's Services, once it has ended
    # bm25s sets its own logger to DEBUG on import; keep it as quiet as ours.
    logging.getLogger("bm25s").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="JSON Lines (.jsonl, .jsonl.gz), arXiv snapshot or .bib files.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-read files already ingested completely.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Load papers and posts. With no paths, finish embedding what an interrupted run left."""
    for path in paths or []:
        if not path.is_file():
            fail(f"{path}: no such file")
        try:
            parser_for(path)
        except ValueError as exc:
            fail(str(exc))
    sigterm_as_interrupt()
    engine = open_services(data_dir).engine
    background = Background(engine, "ingest", embed=False).start()  # a heartbeat for `alignbot status`
    with progress_bar() as progress:

        def on_error(error: Any) -> None:
            progress.progress.console.print(f"[yellow]{error}[/yellow]", highlight=False)

        report = engine.ingest(paths or [], force=force, progress=progress, on_error=on_error)
    background.stop()
    summary = (
        f"{report.read} records read: {report.added} new, {report.merged} merged into existing works, "
        f"{report.unchanged} unchanged; {report.embedded} embedded; {len(report.errors)} bad lines"
    )
    err.print(summary, highlight=False)
    if report.conflicts:
        err.print(
            f"[yellow]{len(report.conflicts)} changes to curated works refused and kept for a moderator "
            "(`alignbot show ID` lists them)[/yellow]",
            highlight=False,
        )
    if report.interrupted:
        err.print(f"[yellow]{INTERRUPTED_NOTICE}[/yellow]")
        leave_if_terminated(EXIT_INTERRUPTED)
        raise typer.Exit(EXIT_INTERRUPTED)
    if report.embedding_error:
        err.print(
            f"[yellow]{report.embedding_error}: the records are stored; run `alignbot ingest` again when the vector "
            "store is back to embed them[/yellow]",
            highlight=False,
        )
        raise typer.Exit(3)


def _read_batch(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, query or None, error) for each line of a JSON Lines batch file."""
    source = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    with source:
        for line_no, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                query = json.loads(line).get("query")
                if not isinstance(query, str) or not query.strip():
                    raise ValueError("'query' must be a non-empty string")
                yield line_no, query, ""
            except (json.JSONDecodeError, AttributeError, ValueError) as exc:
                yield line_no, None, f"{path}:{line_no}: {exc}"


def _run_batch(batch: Path, answer: Callable[[str], Any]) -> None:
    """One JSON line out per line in, in order; a bad line gets an error object in its place."""
    for _line, query, error in _read_batch(batch):
        if query is None:
            err.print(error, highlight=False)
            print_json({"query": None, "error": error})
        else:
            print_json(answer(query))


def _render_ask(result: AskResult) -> None:
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
    table.add_column("#", width=3)
    table.add_column("Work")
    table.add_column("Score", width=6)
    for n, work in enumerate(result.results, start=1):
        authors = ", ".join(work.authors[:3]) + (" et al." if len(work.authors) > 3 else "")
        body = f"[bold]{work.title}[/bold]\n{authors} ({work.year or 'n.d.'})"
        if work.url:
            body += f"\n[link={work.url}]{work.url}[/link]"
        if work.reason:
            body += f"\n[dim]{work.reason}[/dim]"
        table.add_row(str(n), body, f"{work.score:.2f}")
    out.print(result.answer, highlight=False)
    out.print(table)
    out.print(f"confident: {'true' if result.confident else 'false'}")


ContextFile = Annotated[
    Path | None, typer.Option("--context", help="Thread so far: plain text or JSON [{author, text}].")
]


def _thread_from(context: Path | None) -> list[Message]:
    """The messages of a --context file (none without one); a missing or unreadable file ends the command."""
    if context is None:
        return []
    if not context.is_file():
        fail(f"{context}: no such file")
    try:
        return parse_thread(context.read_text(encoding="utf-8"))
    except ValueError as exc:
        fail(f"{context}: {exc}")


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="What you want related work for.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many papers.")] = 5,
    context: ContextFile = None,
    batch: BatchFile = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Related work for a question: ranked papers with a one-line reason each."""
    if (question is None) == (batch is None):
        fail("give a QUESTION or --batch FILE (one of them)")
    messages = _thread_from(context)
    engine = open_services(data_dir, progress=not (as_json or batch)).engine
    if batch is not None:
        _run_batch(batch, lambda query: engine.ask(query, k=k, context=messages))
        return
    assert question is not None
    try:
        result = engine.ask(question, k=k, context=messages)
    except ValueError as exc:
        fail(str(exc))
    print_json(result) if as_json else _render_ask(result)


def _render_cite(result: CiteResult) -> None:
    if result.match is None:
        out.print(f"No work in the knowledge base matches {result.query!r}.", highlight=False)
        return
    label = "[green]match[/green]" if result.confident else "[yellow]best guess (not confident)[/yellow]"
    out.print(f"{label} ({result.match.score:.2f}): {result.match.title}", highlight=False)
    if result.fetched:
        out.print(f"[dim]{fetched_note(result.fetched)}[/dim]", highlight=False)
    out.print(result.formatted or "", highlight=False, soft_wrap=True)
    if result.alternatives:
        out.print("[dim]alternatives:[/dim]")
        for alt in result.alternatives:
            out.print(
                f"  [dim]{alt.score:.2f}[/dim] {alt.title} ({alt.year or 'n.d.'}) {alt.url or ''}", highlight=False
            )
    out.print(f"confident: {'true' if result.confident else 'false'}")


@app.command()
def cite(
    reference: Annotated[
        str | None, typer.Argument(help="'Jacovi & Goldberg', 'the sleeper agents paper', an arXiv id…")
    ] = None,
    style: Annotated[Style, typer.Option("--style", help="Citation style.")] = Style.apa,
    export_format: ExportOption = None,
    context: ContextFile = None,
    batch: BatchFile = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Resolve a reference as people write it in threads to one work and a formatted citation."""
    if (reference is None) == (batch is None):
        fail("give a REFERENCE or --batch FILE (one of them)")
    messages = _thread_from(context)
    engine = open_services(data_dir, progress=not (as_json or batch or export_format)).engine
    if batch is not None:
        _run_batch(batch, lambda query: engine.cite(query, style=style, export_format=export_format, context=messages))
        return
    assert reference is not None
    try:
        result = engine.cite(reference, style=style, export_format=export_format, context=messages)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    elif export_format:
        if result.match is None:
            fail(f"no work in the knowledge base matches {reference!r}", code=1)
        if not result.confident:
            err.print(f"best guess (not confident): {result.match.title}", highlight=False)
        sys.stdout.write(result.export or "")
    else:
        _render_cite(result)


def _render_bibliography(result: BibliographyResult, style: Style) -> None:
    if not result.entries:
        out.print("No references found in the thread.")
    separator = "\n" if style is Style.bibtex else ""
    for n, entry in enumerate(result.entries, start=1):
        prefix = "" if style is Style.bibtex else f"[{n}] "
        note = f" ({fetched_note(entry.fetched)})" if entry.fetched and style is not Style.bibtex else ""
        out.print(f"{prefix}{entry.formatted}{note}{separator}", highlight=False, soft_wrap=True)
    if result.unresolved:
        err.print("unresolved: " + "; ".join(u.text for u in result.unresolved), highlight=False)


@app.command()
def bibliography(
    thread: Annotated[str, typer.Argument(help="Thread file (plain text or JSON [{author, text}]), or - for stdin.")],
    style: Annotated[Style, typer.Option("--style", help="apa, acl or bibtex.")] = Style.apa,
    bibtex: Annotated[bool, typer.Option("--bibtex", help="Same as --style bibtex.")] = False,
    export_format: ExportOption = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Every work a discussion thread refers to, resolved to full citations."""
    if thread == "-":
        raw = sys.stdin.read()
    else:
        path = Path(thread)
        if not path.is_file():
            fail(f"{thread}: no such file")
        raw = path.read_text(encoding="utf-8")
    try:
        messages = parse_thread(raw)
    except ValueError as exc:
        fail(f"{thread}: {exc}")
    style = Style.bibtex if bibtex else style
    engine = open_services(data_dir, progress=not (as_json or export_format)).engine
    result = engine.bibliography(messages, style=style, export_format=export_format)
    if as_json:
        print_json(result)
    elif export_format:
        sys.stdout.write(result.export or "")
        if result.unresolved:
            err.print("unresolved: " + "; ".join(result.unresolved), highlight=False)
    else:
        _render_bibliography(result, style)


@app.command()
def status(
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Count the vectors in the vector store itself, repairing it against the database first (slower: "
            "opens the store). Without it, `vectors` is the database's record of what is embedded.",
        ),
    ] = False,
) -> None:
    """Where the knowledge base lives and how much it holds. It reports; it never ingests the reading list."""
    settings = load_settings(data_dir).model_copy(update={"load_bundled_knowledge": False})  # a look changes nothing
    info = open_services(settings=settings, progress=False).engine.status(verify=verify)
    if as_json:
        print_json(info)
    else:
        for line in status_lines(info):
            out.print(line, highlight=False)


if __name__ == "__main__":  # pragma: no cover
    app()
