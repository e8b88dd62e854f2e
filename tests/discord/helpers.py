"""Discord, faked in one place: autospecced interactions, members, channels and messages, and helpers
that invoke commands through the bot's real command tree.

Mocks are built with `create_autospec` on the real discord.py classes, so a call the library does not
have (or a misspelt keyword) fails the test instead of passing silently. Their async methods are
AsyncMocks; the helpers give them the behaviour the code relies on (is_done after a response, history
as an async iterator, typing as a context manager).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Coroutine, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from unittest.mock import MagicMock, create_autospec

import discord
from discord import app_commands
from discord.interactions import InteractionResponse

T = TypeVar("T")
_ids = itertools.count(100_000_000_000_000_001)
GUILD_ID = 42_000_000_000_000_000


def next_id() -> int:
    return next(_ids)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion (pytest-asyncio is not a dependency)."""
    return asyncio.run(coro)


class AsyncIter:
    """What `channel.history(...)` returns: an async iterator over messages."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = iter(list(items))

    def __aiter__(self) -> AsyncIter:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


class NullAsyncContext:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def make_role(name: str, role_id: int | None = None, bot_id: int | None = None) -> MagicMock:
    role = create_autospec(discord.Role, instance=True)
    role.id = role_id or next_id()
    role.name = name
    role.tags = None
    if bot_id is not None:
        role.tags = create_autospec(discord.RoleTags, instance=True)
        role.tags.bot_id = bot_id
    return role


def make_member(name: str = "alice", *, bot: bool = False, roles: Iterable[Any] = (), user_id: int | None = None):
    member = create_autospec(discord.Member, instance=True)
    member.id = user_id or next_id()
    member.name = name
    member.display_name = name.title()
    member.global_name = None
    member.bot = bot
    member.roles = list(roles)
    member.mention = f"<@{member.id}>"
    return member


def make_client_user(name: str = "alignbot") -> MagicMock:
    user = create_autospec(discord.ClientUser, instance=True)
    user.id = next_id()
    user.name = name
    user.bot = True
    user.mention = f"<@{user.id}>"
    return user


def _sent_message(channel: Any = None) -> MagicMock:
    message = create_autospec(discord.WebhookMessage, instance=True)
    message.id = next_id()
    message.jump_url = f"https://discord.com/channels/{GUILD_ID}/{getattr(channel, 'id', 1)}/{message.id}"
    return message


def _messageable(mock: MagicMock, messages: list[Any]) -> None:
    """History (newest first, like Discord; `oldest_first` and `before` honoured), fetch, send, typing."""

    def history(limit: int | None = 100, before: Any = None, oldest_first: bool | None = None, **_: Any) -> AsyncIter:
        items = [m for m in messages if before is None or m.id < before.id]
        items.sort(key=lambda m: m.id, reverse=not oldest_first)
        return AsyncIter(items[:limit] if limit else items)

    async def fetch_message(message_id: int) -> Any:
        for message in messages:
            if message.id == message_id:
                return message
        raise discord.NotFound(MagicMock(status=404, reason="Not Found"), "Unknown Message")

    mock.history.side_effect = history
    mock.fetch_message.side_effect = fetch_message
    mock.typing.return_value = NullAsyncContext()
    mock.send.side_effect = lambda *a, **k: _sent_message(mock)
    mock.messages = messages


def make_channel(name: str = "general", *, channel_id: int | None = None, category_id: int | None = None):
    channel = create_autospec(discord.TextChannel, instance=True)
    channel.id = channel_id or next_id()
    channel.name = name
    channel.category_id = category_id
    channel.guild = make_guild()
    channel.mention = f"<#{channel.id}>"
    _messageable(channel, [])
    return channel


def make_forum(name: str = "submissions", *, channel_id: int | None = None) -> MagicMock:
    forum = create_autospec(discord.ForumChannel, instance=True)
    forum.id = channel_id or next_id()
    forum.name = name
    forum.category_id = None
    return forum


def make_thread(name: str = "A thread", *, parent: Any = None, thread_id: int | None = None) -> MagicMock:
    thread = create_autospec(discord.Thread, instance=True)
    thread.id = thread_id or next_id()
    thread.name = name
    thread.parent = parent
    thread.parent_id = parent.id if parent is not None else None
    thread.category_id = getattr(parent, "category_id", None)
    thread.guild = make_guild()
    thread.starter_message = None
    thread.mention = f"<#{thread.id}>"
    _messageable(thread, [])
    return thread


def make_guild(guild_id: int = GUILD_ID) -> MagicMock:
    guild = create_autospec(discord.Guild, instance=True)
    guild.id = guild_id
    return guild


def make_message(
    content: str,
    *,
    author: Any = None,
    channel: Any = None,
    message_id: int | None = None,
    mentions: Iterable[Any] = (),
    role_mentions: Iterable[Any] = (),
    attachments: Iterable[Any] = (),
    add_to_channel: bool = True,
) -> MagicMock:
    message = create_autospec(discord.Message, instance=True)
    message.id = message_id or next_id()
    message.content = content
    message.author = author or make_member()
    message.channel = channel or make_channel()
    message.guild = make_guild()
    message.type = discord.MessageType.default
    message.webhook_id = None
    message.mentions = list(mentions)
    message.role_mentions = list(role_mentions)
    message.attachments = list(attachments)
    message.created_at = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    message.jump_url = f"https://discord.com/channels/{GUILD_ID}/{message.channel.id}/{message.id}"
    message.reply.side_effect = lambda *a, **k: _sent_message(message.channel)
    if add_to_channel and hasattr(message.channel, "messages"):
        message.channel.messages.append(message)
    return message


def make_attachment(filename: str, text: str) -> MagicMock:
    attachment = create_autospec(discord.Attachment, instance=True)
    attachment.filename = filename
    attachment.size = len(text.encode())
    attachment.read.return_value = text.encode()
    return attachment


def make_interaction(
    bot: Any,
    *,
    user: Any = None,
    channel: Any = None,
    permissions: discord.Permissions | None = None,
    guild_id: int | None = GUILD_ID,
) -> MagicMock:
    """An interaction whose response and follow-up webhook record calls, with event times in `.events`."""
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.client = bot
    interaction.user = user or make_member()
    interaction.channel = channel if channel is not None else make_channel()
    interaction.channel_id = interaction.channel.id
    interaction.guild_id = guild_id
    interaction.permissions = permissions or discord.Permissions.none()
    interaction.extras = {}
    interaction.command_failed = False
    interaction.events = []  # (name, monotonic time): lets tests check what happened in which order

    response = create_autospec(InteractionResponse, instance=True)
    state = {"done": False}

    def responder(name: str) -> Any:
        async def respond(*_args: Any, **_kwargs: Any) -> None:
            if state["done"]:
                raise discord.InteractionResponded(interaction)  # as the real one does
            state["done"] = True
            interaction.events.append((name, time.monotonic()))

        return respond

    for name in ("defer", "send_message", "send_modal", "edit_message", "autocomplete"):
        getattr(response, name).side_effect = responder(name)
    response.is_done.side_effect = lambda: state["done"]
    interaction.response = response

    followup = create_autospec(discord.Webhook, instance=True)

    async def send(*_args: Any, **_kwargs: Any) -> Any:
        interaction.events.append(("followup", time.monotonic()))
        return _sent_message(interaction.channel)

    followup.send.side_effect = send
    interaction.followup = followup
    return interaction


def moderator_permissions() -> discord.Permissions:
    return discord.Permissions(manage_messages=True)


# --- invoking through the real tree ------------------------------------------------------------------

_OPTION_TYPES = {str: 3, int: 4, bool: 5}


def _options(values: dict[str, Any], focused: str | None = None) -> list[dict[str, Any]]:
    options = []
    for name, value in values.items():
        option = {"name": name, "type": _OPTION_TYPES[type(value)], "value": value}
        if name == focused:
            option["focused"] = True
        options.append(option)
    return options


async def invoke(bot: Any, interaction: MagicMock, name: str, **values: Any) -> None:
    """Run a slash command as Discord would deliver it: the tree parses the payload, runs checks, calls the
    command and, on any error, the command's and the tree's error handlers."""
    interaction.command = bot.tree.get_command(name)
    interaction.type = discord.InteractionType.application_command
    interaction.data = {"id": str(next_id()), "name": name, "type": 1, "options": _options(values)}
    await bot.tree._call(interaction)


async def invoke_subcommand(bot: Any, interaction: MagicMock, group: str, name: str, **values: Any) -> None:
    """Run a command of a group (`/paper add`) as Discord delivers it: the subcommand nested in the options."""
    interaction.command = bot.tree.get_command(group).get_command(name)
    interaction.type = discord.InteractionType.application_command
    subcommand = {"name": name, "type": 1, "options": _options(values)}
    interaction.data = {"id": str(next_id()), "name": group, "type": 1, "options": [subcommand]}
    await bot.tree._call(interaction)


async def autocomplete(bot: Any, interaction: MagicMock, name: str, focused: str, **values: Any) -> list[Any]:
    """Ask a command's autocomplete for choices, through the tree; returns the choices sent to Discord."""
    interaction.command = bot.tree.get_command(name)
    interaction.type = discord.InteractionType.autocomplete
    interaction.data = {"id": str(next_id()), "name": name, "type": 1, "options": _options(values, focused)}
    await bot.tree._call(interaction)
    interaction.response.autocomplete.assert_awaited_once()
    return interaction.response.autocomplete.await_args.args[0]


async def invoke_menu(bot: Any, interaction: MagicMock, name: str, target: Any) -> None:
    """Run a message context menu the way the tree does once it has resolved the target message."""
    menu = bot.tree.get_command(name, type=discord.AppCommandType.message)
    assert menu is not None, f"no context menu {name!r}"
    interaction.command = menu
    interaction.type = discord.InteractionType.application_command
    try:
        await menu._invoke(interaction, target)
    except app_commands.AppCommandError as error:
        interaction.command_failed = True
        if menu.on_error is not None:
            await menu.on_error(interaction, error)
        await bot.tree.on_error(interaction, error)


def sent_kwargs(interaction: MagicMock) -> dict[str, Any]:
    """Keyword arguments of the (single) follow-up send."""
    interaction.followup.send.assert_awaited_once()
    return interaction.followup.send.await_args.kwargs


def ephemeral_text(interaction: MagicMock) -> str:
    """The text of the ephemeral message the user got, through whichever route it went."""
    for mock in (interaction.response.send_message, interaction.followup.send):
        for call in mock.await_args_list:
            if call.kwargs.get("ephemeral"):
                return call.args[0] if call.args else call.kwargs.get("content", "")
    raise AssertionError("no ephemeral message was sent")


def exported_text(interaction: MagicMock) -> str:
    """What an export button gave the user: the fenced document, or the attached file when it was too long."""
    call = interaction.response.send_message.await_args
    if "file" in call.kwargs:
        call.kwargs["file"].reset()  # read from the start on every call
        return call.kwargs["file"].fp.read().decode("utf-8")
    text = ephemeral_text(interaction)
    assert text.startswith("```") and text.endswith("\n```") and len(text) <= 2000
    return text.split("\n", 1)[1].removesuffix("\n```")


def slow(func: Any, seconds: float, events: list[tuple[str, float]]) -> Any:
    """`func`, made slow, recording when it started and finished (to test the 3-second defer path)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        events.append(("engine start", time.monotonic()))
        time.sleep(seconds)
        try:
            return func(*args, **kwargs)
        finally:
            events.append(("engine end", time.monotonic()))

    return wrapper
