"""Settings of the Discord front end: the `discord` section of `bot.settings.Settings`.

Env names are `ALIGNBOT_DISCORD_<FIELD>` (or `ALIGNBOT_DISCORD__<FIELD>`); the token is read from
`DISCORD_TOKEN` (or `ALIGNBOT_DISCORD_TOKEN`). Lists (guilds, channels, roles) are comma-separated ids.
"""

from bot.frontend_sections import DiscordSettings, ReplyMode

__all__ = ["DiscordSettings", "ReplyMode"]
