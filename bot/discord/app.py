"""The Discord bot: `create_bot(settings)` builds a configured `commands.Bot` with every command on its tree.

The bot owns the services (engine, moderator), a bounded thread pool for their CPU-bound calls, the
per-user rate limiter and the error handler that turns any failure into an ephemeral message and a log
line. Cogs (`bot.discord.cogs`, loaded as extensions) hold the commands; they reach the services through the
bot. Interaction helpers are in `bot.discord.interactions`, rendering in `bot.discord.render`.
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

from bot.discord.config import DiscordSettings
from bot.discord.interactions import NO_MENTIONS, EngineTimeout, ServiceUnavailable, describe_error, tell
from bot.discord.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.moderation.service import Moderator

log = logging.getLogger(__name__)
T = TypeVar("T")

# The cogs, each a discord.py extension with `async def setup(bot)`; the bot loads them by name, so this
# module imports none of them (they import it, for the bot's type).
EXTENSIONS = ("bot.discord.cogs.research", "bot.discord.cogs.moderation", "bot.discord.cogs.papers")


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
    """Run `bot.load_extension(...)` to completion without an event loop.

    Loading is a coroutine only because an extension's `setup` and a cog's `cog_load` may wait; ours never
    do, so it never suspends. Finishing it here lets `create_bot` return a bot whose tree already holds every
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
    for extension in EXTENSIONS:
        _attach(bot, bot.load_extension(extension))
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
