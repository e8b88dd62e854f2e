"""What every command does with its interaction: defer, answer, tell the user something, and say what went wrong.

Shared by the bot (its error handler), the cogs and the views, none of which imports the others for it.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.discord.checks import NotModerator, RateLimited, UserError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()

# Keys in `Interaction.extras` that let the error handler clean up after a public "thinking…" message.
PUBLIC_DEFER = "alignbot.public_defer"
ANSWERED = "alignbot.answered"


class EngineTimeout(Exception):
    """An engine call took longer than `engine_timeout_seconds`."""


class ServiceUnavailable(Exception):
    """The engine or moderator is not open (yet)."""


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
