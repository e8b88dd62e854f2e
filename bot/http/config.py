"""Settings of the HTTP server: the `http` section of `bot.settings.Settings` (`ALIGNBOT_HTTP_<FIELD>`)."""

from bot.frontend_sections import LOCAL_NETWORKS, ServerSettings

__all__ = ["LOCAL_NETWORKS", "ServerSettings"]
