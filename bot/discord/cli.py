"""`alignbot discord`: run the Discord bot. `register(app)` adds the command to the main CLI."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.cli_common import DataDir, load_settings, open_services, with_options
from bot.extras import require_for_command


def register(app: typer.Typer) -> None:
    @app.command("discord")
    def discord_command(
        dev_guild: Annotated[
            list[int] | None,
            typer.Option(
                "--dev-guild", help="Sync commands to this guild only (repeatable) \\[env: ALIGNBOT_DISCORD_DEV_GUILDS]"
            ),
        ] = None,
        sync: Annotated[
            bool | None,
            typer.Option("--sync/--no-sync", help="Sync commands on start \\[env: ALIGNBOT_DISCORD_SYNC_COMMANDS]"),
        ] = None,
        invite: Annotated[
            int | None, typer.Option("--invite", metavar="APPLICATION_ID", help="Print the invite link and exit.")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Run the Discord bot (token from DISCORD_TOKEN); see README.md, "Discord bot", for setup."""
        require_for_command("discord")
        from bot.discord.app import invite_url, run

        if invite is not None:
            typer.echo(invite_url(invite))
            return
        settings = load_settings(data_dir)
        settings.discord = with_options(settings.discord, dev_guilds=dev_guild or None, sync_commands=sync)
        if not settings.discord.token_value():
            typer.echo('error: no bot token: set DISCORD_TOKEN (see README.md, "Discord bot")', err=True)
            raise typer.Exit(2)
        if logging.getLogger().level > logging.INFO:  # a long-running service should say what it does
            for name in ("bot", "discord"):
                logging.getLogger(name).setLevel(logging.INFO)
        typer.echo("opening the knowledge base…", err=True)
        services = open_services(settings=settings, progress=False, moderation=True)
        run(settings.discord, engine=services.engine, moderator=services.moderation)
