"""The bot's plumbing: settings from the environment, rate limits, error messages, bot construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.citations import Style
from bot.discord import DiscordSettings, create_bot, run
from bot.discord.app import EXTENSIONS, _attach, intents
from bot.discord.checks import NotModerator, RateLimited, UserError
from bot.discord.interactions import EngineTimeout, ServiceUnavailable, describe_error
from bot.discord.ratelimit import RateLimiter
from tests.discord.helpers import run as run_async


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("ALIGNBOT_DISCORD_DEV_GUILDS", "111, 222")
    monkeypatch.setenv("ALIGNBOT_DISCORD_MODERATOR_ROLES", "Moderators,333")
    monkeypatch.setenv("ALIGNBOT_DISCORD_REPLY_CHANNELS", "[444]")
    monkeypatch.setenv("ALIGNBOT_DISCORD_REPLY_MODE", "mentions")
    monkeypatch.setenv("ALIGNBOT_DISCORD_SHARDED", "true")
    settings = DiscordSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.token_value() == "secret-token"
    assert "secret-token" not in repr(settings)  # never logged by accident
    assert settings.dev_guilds == [111, 222]
    assert settings.moderator_roles == ["Moderators", "333"]
    assert settings.reply_channels == [444]
    assert settings.reply_mode == "mentions"
    assert settings.sharded is True


def test_settings_defaults_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISCORD_TOKEN", "ALIGNBOT_DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = DiscordSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.token_value() is None
    assert settings.reply_mode == "requests" and settings.dev_guilds == []
    with pytest.raises(ValueError):
        DiscordSettings(_env_file=None, reply_mode="always")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        DiscordSettings(_env_file=None, results_per_page=11)  # type: ignore[call-arg]


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(10.0)
    assert limiter.hit("b") == 0  # per key
    now[0] = 5.0
    assert limiter.retry_after("a") == pytest.approx(5.0)
    now[0] = 10.0
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0  # both earlier hits left the window
    assert limiter.hit("a") == pytest.approx(10.0)
    with pytest.raises(ValueError):
        RateLimiter(0, 1)


@pytest.mark.parametrize(
    ("error", "starts", "ours"),
    [
        (NotModerator("x"), "Sorry, this is a moderator command", False),
        (RateLimited(12.4), "You're going a bit fast. Please try again in 12 s.", False),
        (UserError("Give a link."), "Give a link.", False),
        (app_commands.NoPrivateMessage(), "This command works in a server", False),
        (app_commands.CheckFailure(), "Sorry, you can't use this command here.", False),
        (EngineTimeout("ask"), "That took too long", True),
        (ServiceUnavailable("engine"), "I'm still starting up", False),
        (RuntimeError("secret internals"), "Something went wrong on my side.", True),
    ],
)
def test_errors_become_friendly_messages(error: Exception, starts: str, ours: bool) -> None:
    if isinstance(error, RuntimeError | EngineTimeout | ServiceUnavailable):
        command = app_commands.Command(name="x", description="x", callback=_noop)
        error = app_commands.CommandInvokeError(command, error)
    message, logged = describe_error(error)
    assert message.startswith(starts)
    assert logged is ours
    assert "secret internals" not in message


async def _noop(interaction: discord.Interaction) -> None:
    return None


def test_unloading_research_removes_its_cogs_and_menus_and_loading_brings_them_back() -> None:
    bot = create_bot(DiscordSettings(_env_file=None, token=None))  # type: ignore[call-arg]
    try:
        run_async(bot.unload_extension("bot.discord.cogs.research"))
        assert not {"Research", "RecentMessages"} & set(bot.cogs)
        assert bot.tree.get_command("Find related work", type=discord.AppCommandType.message) is None
        run_async(bot.load_extension("bot.discord.cogs.research"))
        assert {"Research", "RecentMessages"} <= set(bot.cogs)
        assert bot.tree.get_command("Find related work", type=discord.AppCommandType.message) is not None
    finally:
        bot.executor.shutdown()


def test_bot_defaults() -> None:
    bot = create_bot(DiscordSettings(_env_file=None, token=None))  # type: ignore[call-arg]
    try:
        assert isinstance(bot, discord.ext.commands.Bot)
        assert not isinstance(bot, discord.AutoShardedClient)
        assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}
        assert bot.intents.message_content and bot.intents.guilds and bot.intents.guild_messages
        assert not bot.intents.presences and not bot.intents.members  # no privileged intents we do not use
        assert {type(c).__name__ for c in bot.cogs.values()} == {"Research", "RecentMessages", "Moderation", "Papers"}
        assert set(bot.extensions) == set(EXTENSIONS)  # each cog came in through its extension's setup()
        [style] = [p for p in bot.tree.get_command("cite").parameters if p.name == "style"]
        assert [(c.name, c.value) for c in style.choices] == [(s.label, s.value) for s in Style]  # every style
        assert bot.engine is None  # opened in setup_hook when the bot starts
    finally:
        bot.executor.shutdown()
    assert intents().message_content


def test_run_needs_a_token() -> None:
    with pytest.raises(ValueError, match="DISCORD_TOKEN"):
        run(DiscordSettings(_env_file=None, token=None))  # type: ignore[call-arg]


def test_setup_hook_warms_the_engine_and_skips_sync_when_told(engine: Any) -> None:
    from unittest.mock import create_autospec

    from bot.moderation.service import Moderator

    moderator = create_autospec(Moderator, instance=True)
    bot = create_bot(
        DiscordSettings(_env_file=None, sync_commands=False),
        engine=engine,
        moderator=moderator,  # type: ignore[call-arg]
    )
    try:
        run_async(bot.setup_hook())
        assert bot.engine is engine and bot.moderator is moderator
    finally:
        bot.executor.shutdown()


def test_a_cog_that_suspends_while_loading_is_an_error() -> None:
    import asyncio

    async def suspends() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="synchronously"):
        _attach(None, suspends())  # type: ignore[arg-type]


def test_cli_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from bot.discord.cli import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """alignbot"""

    register(app)
    runner = CliRunner()
    invite = runner.invoke(app, ["discord", "--invite", "1234"])
    assert invite.exit_code == 0, invite.output
    assert invite.output.strip() == (
        "https://discord.com/oauth2/authorize?client_id=1234&scope=bot+applications.commands&permissions=274878024704"
    )
    for name in ("DISCORD_TOKEN", "ALIGNBOT_DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env with a token here
    missing = runner.invoke(app, ["discord"])
    assert missing.exit_code == 2
    assert "set DISCORD_TOKEN" in missing.output
