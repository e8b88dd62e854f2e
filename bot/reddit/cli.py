"""`alignbot reddit`: run the Reddit bot until SIGTERM or Ctrl-C; `register(app)` adds it to the main app."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.extras import require_for_command

err = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Knowledge-base directory [env: ALIGNBOT_DATA_DIR]")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command()
    def reddit(
        data_dir: DataDir = None,
        config: Annotated[
            Path | None, typer.Option("--config", help="Moderation rule file [default: knowledge/moderation.yaml]")
        ] = None,
        dry_run: Annotated[
            bool | None,
            typer.Option(
                "--dry-run/--live", help="Log moderation reports instead of sending them [env: ALIGNBOT_REDDIT_DRY_RUN]"
            ),
        ] = None,
    ) -> None:
        """Answer u/<bot> mentions and !commands in comment threads; report new submissions to moderators."""
        # Imported here so other commands do not pay for praw.
        require_for_command("reddit")
        import prawcore

        from bot.engine import Engine
        from bot.moderation.config import ConfigError
        from bot.moderation.service import Moderator
        from bot.reddit import RedditBot, RedditSettings, create_reddit, stop_on_signals
        from bot.settings import Settings

        settings = RedditSettings()
        if dry_run is not None:
            settings.dry_run = dry_run
        missing = settings.missing()
        if missing:
            _fail(f"set {', '.join(missing)} (see bot/reddit/README.md)")
        rules_path = config or settings.moderation_config
        if rules_path is not None and not rules_path.is_file():
            _fail(f"{rules_path}: no such file")
        logging.getLogger("bot.reddit").setLevel(logging.INFO)  # one log line per action, even without -v
        engine = Engine.open(Settings.load(data_dir))
        engine.warm_up()
        moderator = None
        if settings.check_submissions and settings.moderated:
            try:
                moderator = Moderator(engine, config_path=rules_path)
            except ConfigError as exc:
                _fail(f"invalid moderation config:\n{exc}")
        bot = RedditBot(engine, moderator, settings, create_reddit(settings))
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                bot.run(stop)
        except prawcore.OAuthException as exc:  # wrong password, or 2FA on the account
            _fail(f"Reddit refused the login ({exc}): check REDDIT_USERNAME and REDDIT_PASSWORD")
        except prawcore.ResponseException as exc:  # bad app credentials (401), a private or missing subreddit
            _fail(f"Reddit refused {exc.response.request.method} {exc.response.url}: {exc}")
        finally:
            engine.close()
