"""The Discord bot: `create_bot(settings)` builds a configured `commands.Bot` with every command on its tree.

The bot owns the services (engine, moderator), a bounded thread pool for their CPU-bound calls, the
per-user rate limiter and the error handler that turns any failure into an ephemeral message and a log
line. Cogs (`bot.discord.cogs`) hold the commands; they reach the services through the bot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.checks import NotModerator, RateLimited, UserError
from bot.discord.config import DiscordSettings
from bot.discord.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.moderation.service import Moderator

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()

# Keys in `Interaction.extras` that let the error handler clean up after a public "thinking…" message.
PUBLIC_DEFER = "alignbot.public_defer"
ANSWERED = "alignbot.answered"


class EngineTimeout(Exception):
    """An engine call took longer than `engine_timeout_seconds`."""


class ServiceUnavailable(Exception):
    """The engine or moderator is not open (yet)."""


# --- interaction helpers ----------------------------------------------------------------------------


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now (Discord allows 3 seconds); the answer follows with `answer`."""
    if interaction.response.is_done():
        return
    interaction.extras[PUBLIC_DEFER] = not ephemeral
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)


async def answer(interaction: discord.Interaction, **kwargs: Any) -> discord.WebhookMessage:
    """Follow up a deferred interaction. Never pings: `allowed_mentions` is always none."""
    kwargs["allowed_mentions"] = NO_MENTIONS
    message = await interaction.followup.send(wait=True, **kwargs)
    interaction.extras[ANSWERED] = True
    return message


async def tell(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral note to the user, whatever state the interaction is in."""
    text = text[:2000]
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    if interaction.extras.get(PUBLIC_DEFER) and not interaction.extras.get(ANSWERED):
        # The first follow-up after a public defer replaces the public "thinking…" message and would show
        # the note to everyone; remove that message so the note goes to the user alone.
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the deferred response", exc_info=True)
        interaction.extras[PUBLIC_DEFER] = False
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def describe_error(error: BaseException) -> tuple[str, bool]:
    """(what the user is told, whether it is our fault and worth a logged traceback)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, NotModerator):
        return (
            "Sorry, this is a moderator command: it needs the Manage Messages permission or a moderator role.",
            False,
        )
    if isinstance(error, RateLimited):
        return (f"You're going a bit fast. Please try again in {max(1, round(error.retry_after))} s.", False)
    if isinstance(error, UserError):
        return error.message, False
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages.", False
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I'm missing permissions here: {missing}.", False
    if isinstance(error, app_commands.CheckFailure):
        return "Sorry, you can't use this command here.", False
    if isinstance(error, EngineTimeout):
        return "That took too long, so I gave up. Please try again in a moment, or with a shorter question.", True
    if isinstance(error, ServiceUnavailable):
        return "I'm still starting up. Please try again in a minute.", False
    if isinstance(error, discord.Forbidden):
        return "Discord didn't let me do that here (missing permissions?).", True
    return "Something went wrong on my side. It has been logged; please try again later.", True


class AlignTree(app_commands.CommandTree):
    """Every command error ends here: an ephemeral message for the user, a log line for us."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        message, ours = describe_error(error)
        command = interaction.command.qualified_name if interaction.command else "?"
        if ours:
            original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            log.error(
                "command %r failed (user %s, guild %s, channel %s)",
                command,
                interaction.user.id,
                interaction.guild_id,
                interaction.channel_id,
                exc_info=(type(original), original, original.__traceback__),
            )
        else:
            log.info("command %r refused for user %s: %s", command, interaction.user.id, error)
        try:
            await tell(interaction, message)
        except discord.HTTPException:
            log.warning("could not tell user %s about an error in %r", interaction.user.id, command, exc_info=True)


# --- the bot -----------------------------------------------------------------------------------------


class _AlignBotMixin:
    """What both bot classes (plain and sharded) add to discord.py's bot."""

    settings: DiscordSettings
    engine: Engine | None
    moderator: Moderator | None
    limiter: RateLimiter
    executor: ThreadPoolExecutor
    tree: app_commands.CommandTree

    def _init_services(self, settings: DiscordSettings, engine: Engine | None, moderator: Moderator | None) -> None:
        self.settings = settings
        self.engine = engine
        self.moderator = moderator
        self.limiter = RateLimiter(settings.rate_limit_count, settings.rate_limit_seconds)
        # A small pool of our own: a burst of questions queues here instead of starting dozens of
        # CPU-bound threads that would slow every answer down.
        self.executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="alignbot-engine")

    async def run_engine(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking engine or moderator call in the worker pool, so the event loop stays free."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))
        try:
            return await asyncio.wait_for(future, timeout=self.settings.engine_timeout_seconds)
        except TimeoutError as exc:
            raise EngineTimeout(getattr(func, "__name__", "engine call")) from exc

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise ServiceUnavailable("engine")
        return self.engine

    def require_moderator(self) -> Moderator:
        if self.moderator is None:
            raise ServiceUnavailable("moderator")
        return self.moderator

    async def setup_hook(self) -> None:
        """Open the services (if not given) and sync the command tree, before connecting to the gateway."""
        if self.engine is None:
            from bot.services import Services
            from bot.storage import StoreCorrupt

            log.info("opening the engine (the first run ingests the bundled reading list)")
            try:
                services = await asyncio.to_thread(Services.open)
            except StoreCorrupt as exc:  # one line naming the file and the recovery command, not a traceback
                log.error("%s", exc)
                raise SystemExit(2) from None
            self.engine = services.engine
            if self.moderator is None:
                self.moderator = await asyncio.to_thread(lambda: services.moderation)
        if self.moderator is None:
            from bot.moderation.service import Moderator

            self.moderator = await asyncio.to_thread(Moderator, self.engine)
        await asyncio.to_thread(self.engine.warm_up)  # the first question should not pay for the index build
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync to each development guild (instant), or globally (production; may take a while to show)."""
        if not self.settings.sync_commands:
            return
        if self.settings.dev_guilds:
            for guild_id in self.settings.dev_guilds:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: messages are read by the research cog's listener only."""

    async def on_ready(self) -> None:
        user = getattr(self, "user", None)
        log.info("connected as %s (%s)", user, getattr(user, "id", "?"))

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        self.executor.shutdown(wait=False, cancel_futures=True)


class AlignBot(_AlignBotMixin, commands.Bot):
    pass


class ShardedAlignBot(_AlignBotMixin, commands.AutoShardedBot):
    pass


# What the bot needs in a channel: read, answer (also in threads), embeds, the .bib file, thread history.
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id, permissions=REQUIRED_PERMISSIONS, scopes=("bot", "applications.commands")
    )


def intents() -> discord.Intents:
    """Guilds and messages, plus message content (privileged: enable it in the developer portal)."""
    wanted = discord.Intents.default()
    wanted.message_content = True  # thread requests, /bibliography and forum posts read message text
    wanted.presences = False
    wanted.typing = False
    return wanted


def _attach(bot: commands.Bot, coroutine: Coroutine[Any, Any, None]) -> None:
    """Run `bot.add_cog(...)` to completion without an event loop.

    `add_cog` is a coroutine only because a cog's `cog_load` may be one; ours are plain functions, so it
    never suspends. Finishing it here lets `create_bot` return a bot whose tree already holds every
    command, whether or not it ever connects (embedding, tests, command export).
    """
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("a cog's setup suspended; cogs must load synchronously")


def create_bot(
    settings: DiscordSettings | None = None,
    *,
    engine: Engine | None = None,
    moderator: Moderator | None = None,
) -> commands.Bot:
    """The configured bot: research and moderation commands on `bot.tree`, listeners for threads and forums.

    Pass `engine` (and `moderator`) to share open services; otherwise they are opened in `setup_hook`
    when the bot starts.
    """
    from bot.discord.cogs.moderation import Moderation
    from bot.discord.cogs.papers import Papers
    from bot.discord.cogs.research import Research
    from bot.discord.views import ReviewButton

    settings = settings or DiscordSettings()
    options: dict[str, Any] = {
        "command_prefix": commands.when_mentioned,  # required by commands.Bot; no prefix commands exist
        "help_command": None,
        "intents": intents(),
        "tree_cls": AlignTree,
        "allowed_mentions": NO_MENTIONS,
    }
    bot: AlignBot | ShardedAlignBot = (
        ShardedAlignBot(shard_count=settings.shard_count, **options) if settings.sharded else AlignBot(**options)
    )
    bot._init_services(settings, engine, moderator)
    _attach(bot, bot.add_cog(Research(bot)))
    _attach(bot, bot.add_cog(Moderation(bot)))
    _attach(bot, bot.add_cog(Papers(bot)))
    bot.add_dynamic_items(ReviewButton)  # review buttons keep working after a restart
    return bot


def run(
    settings: DiscordSettings,
    *,
    engine: Engine | None = None,
    moderator: Moderator | None = None,
    log_handler: logging.Handler | None = None,
) -> None:
    """Start the bot and block until it stops (Ctrl-C)."""
    token = settings.token_value()
    if not token:
        raise ValueError("no bot token: set DISCORD_TOKEN")
    bot = create_bot(settings, engine=engine, moderator=moderator)
    bot.run(token, log_handler=log_handler, root_logger=log_handler is not None)
