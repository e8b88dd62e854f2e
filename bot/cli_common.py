"""What every `alignbot` command shares: options, errors, the progress bar, opening the application (one
`Services` per command, closed when it ends) and printing a result as JSON or text with its exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings
from rich.console import Console
from rich.markup import escape

from bot.services import Services
from bot.settings import Settings

if TYPE_CHECKING:  # the progress bar's module loads when a bar is shown (not with --json)
    from rich.progress import Progress, TaskID

err = Console(stderr=True, soft_wrap=True)  # `FILE:LINE: reason` lines must stay whole for tools

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Knowledge-base directory \\[env: ALIGNBOT_DATA_DIR]")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the documented JSON schema instead of text.")]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Moderation rule file \\[env: ALIGNBOT_MODERATION_CONFIG; default knowledge/moderation.yaml]"
    ),
]

SectionT = TypeVar("SectionT", bound=BaseSettings)

EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130
INTERRUPTED_NOTICE = "interrupted: everything up to the last stored batch is kept; run the same command again to resume"


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: message` (as typed: API messages and paths may hold [brackets]) and exit with `code`."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


class RichProgress:
    """Adapts the engine's progress callback to a rich progress bar with rate and ETA."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, advance: int, total: int | None) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(phase, total=total, rate="")
        elif total is not None:
            self.progress.update(self.tasks[phase], total=total)
        task_id = self.tasks[phase]
        self.progress.advance(task_id, advance)
        speed = self.progress.tasks[task_id].speed
        self.progress.update(task_id, rate=f"{speed:,.0f}/s" if speed else "")


@contextmanager
def progress_bar() -> Iterator[RichProgress]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[cyan]{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
    ) as bar:
        yield RichProgress(bar)


def sigterm_as_interrupt() -> None:
    """`kill` should stop a long write as cleanly as Ctrl-C (after the last stored batch), and within 2 s."""
    from bot.processes import stop_on_sigterm

    stop_on_sigterm(EXIT_INTERRUPTED, INTERRUPTED_NOTICE)


def load_settings(data_dir: Path | None, config: Path | None = None) -> Settings:
    """The settings, with `--data-dir` and `--config` (when given) over the environment's."""
    settings = Settings.load(data_dir)
    settings.moderation = with_options(settings.moderation, config=config)
    rules = settings.moderation.config
    # The default rule file may be absent (the built-in rules apply); one named by --config or env must exist.
    if rules is not None and rules != settings.knowledge_dir / "moderation.yaml" and not rules.is_file():
        fail(f"{rules}: no such file")
    return settings


_opened: list[Services] = []


def close_services() -> None:
    """Close what `open_services` opened; the main app calls this when a command ends, however it ends."""
    while _opened:
        _opened.pop().close()


def with_options(section: SectionT, **options: Any) -> SectionT:
    """A settings section with the command-line options that were given (not None) over it, validated as the
    environment's values are."""
    given = {name: value for name, value in options.items() if value is not None}
    if not given:
        return section
    try:
        return type(section).model_validate({**section.model_dump(), **given})
    except ValidationError as exc:
        fail(str(exc))


def open_services(
    data_dir: Path | None = None,
    *,
    settings: Settings | None = None,
    progress: bool = True,
    moderation: bool = False,
) -> Services:
    """Open the application for this command; it is closed when the command ends, however it ends.

    On a first run opening ingests the bundled reading list, shown with a progress bar unless `progress` is
    false (JSON output, batches). `moderation`: load the rule file now, failing with its errors.
    """
    settings = settings or load_settings(data_dir)
    with progress_bar() if progress else nullcontext() as bar:
        services = Services.open(settings, progress=bar)
    _opened.append(services)
    if moderation:
        from bot.moderation.config import ConfigError  # the rules and YAML: only commands that moderate load them

        try:
            services.moderation  # noqa: B018 - built now, so a bad rule file stops the command before any work
        except ConfigError as exc:
            fail(f"invalid moderation config:\n{exc}")
    return services


def print_json(value: BaseModel | Sequence[Any] | dict[str, Any]) -> None:
    """One line of JSON (models as their documented schema)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list | tuple):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def finish(
    results: Sequence[BaseModel],
    *,
    as_json: bool,
    render: Callable[[], None],
    code: int = 0,
    note: str | None = None,
) -> None:
    """A command's ending: each result as one JSON line (--json) or the rendered text, then `note` (on stderr,
    yellow) and the exit code."""
    if as_json:
        for result in results:
            print_json(result)
    else:
        render()
    if note:
        err.print(note, style="yellow", highlight=False, markup=False)
    if code:
        raise typer.Exit(code)
