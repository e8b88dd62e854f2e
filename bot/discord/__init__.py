"""The Discord front end: slash commands, context menus, thread answers and moderator tools.

`create_bot(settings)` returns the configured `discord.ext.commands.Bot`; `alignbot discord` runs it.
Names are imported on first use, so `alignbot --help` does not pay for importing discord.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.discord.app import create_bot, run
    from bot.discord.config import DiscordSettings

__all__ = ["DiscordSettings", "create_bot", "run"]


def __getattr__(name: str) -> Any:
    if name in ("create_bot", "run"):
        from bot.discord import app

        return getattr(app, name)
    if name == "DiscordSettings":
        from bot.discord.config import DiscordSettings

        return DiscordSettings
    raise AttributeError(f"module 'bot.discord' has no attribute {name!r}")
