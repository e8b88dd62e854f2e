"""Who may run what, and how fast: checks run before a command's body, and the errors they raise.

The tree's error handler (`app.AlignTree.on_error`) turns each error here into a polite ephemeral
message, so a refusal never needs its own reply code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.discord.config import DiscordSettings


class NotModerator(app_commands.CheckFailure):
    """The user is neither in a moderator role nor allowed to manage messages here."""


class RateLimited(app_commands.CheckFailure):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.0f}s")
        self.retry_after = retry_after


class UserError(app_commands.AppCommandError):
    """Something the user can fix (a bad link, a message with no text): the message is shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_moderator(user: discord.abc.User, permissions: discord.Permissions | None, settings: Any) -> bool:
    """Manage Messages in the channel, or one of the configured moderator roles (by id or name)."""
    if permissions is not None and (permissions.manage_messages or permissions.administrator):
        return True
    roles = getattr(user, "roles", None) or []
    wanted = {str(r).casefold() for r in settings.moderator_roles}
    return any(str(role.id) in wanted or role.name.casefold() in wanted for role in roles)


def _settings(interaction: discord.Interaction) -> DiscordSettings:
    return interaction.client.settings  # type: ignore[attr-defined,no-any-return]


async def moderator_check(interaction: discord.Interaction) -> bool:
    settings = _settings(interaction)
    if interaction.guild_id is None or not is_moderator(interaction.user, interaction.permissions, settings):
        raise NotModerator("moderators only")
    return True


async def rate_limit_check(interaction: discord.Interaction) -> bool:
    wait = interaction.client.limiter.hit(("user", interaction.user.id))  # type: ignore[attr-defined]
    if wait > 0:
        raise RateLimited(wait)
    return True


moderators_only = app_commands.check(moderator_check)
rate_limited = app_commands.check(rate_limit_check)
