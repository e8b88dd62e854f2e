"""`alignbot reddit`: run the Reddit bot until SIGTERM or Ctrl-C; `register(app)` adds it to the main app."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import typer

from bot.cli_common import ConfigPath, DataDir, fail, load_settings, open_services, with_options
from bot.extras import require_for_command


def register(app: typer.Typer) -> None:
    @app.command()
    def reddit(
        data_dir: DataDir = None,
        config: ConfigPath = None,
        dry_run: Annotated[
            bool | None,
            typer.Option(
                "--dry-run/--live",
                help="Log moderation reports instead of sending them \\[env: ALIGNBOT_REDDIT_DRY_RUN]",
            ),
        ] = None,
    ) -> None:
        """Answer u/<bot> mentions and !commands in comment threads; report new submissions to moderators."""
        # Imported here so other commands do not pay for praw.
        require_for_command("reddit")
        import prawcore

        from bot.reddit import RedditBot, create_reddit, stop_on_signals

        settings = load_settings(data_dir, config)
        settings.reddit = with_options(settings.reddit, dry_run=dry_run)
        missing = settings.reddit.missing()
        if missing:
            fail(f'set {", ".join(missing)} (see README.md, "Reddit bot")')
        logging.getLogger("bot.reddit").setLevel(logging.INFO)  # one log line per action, even without -v
        checks = settings.reddit.check_submissions and settings.reddit.moderated
        services = open_services(settings=settings, progress=False, moderation=bool(checks))
        services.engine.warm_up()
        moderator = services.moderation if checks else None
        bot = RedditBot(services.engine, moderator, settings.reddit, create_reddit(settings.reddit))
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                bot.run(stop)
        except prawcore.OAuthException as exc:  # wrong password, or 2FA on the account
            fail(f"Reddit refused the login ({exc}): check REDDIT_USERNAME and REDDIT_PASSWORD")
        except prawcore.ResponseException as exc:  # bad app credentials (401), a private or missing subreddit
            fail(f"Reddit refused {exc.response.request.method} {exc.response.url}: {exc}")
