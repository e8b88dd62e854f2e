"""Settings of the Discord front end, read from the environment and `.env`.

Env names are `ALIGNBOT_DISCORD_<FIELD>`; the token is read from `DISCORD_TOKEN` (or
`ALIGNBOT_DISCORD_TOKEN`). Lists (guilds, channels, roles) are comma-separated ids, e.g.
`ALIGNBOT_DISCORD_DEV_GUILDS=123,456`. These belong in `bot.settings.Settings` eventually; they live
here while the Discord adapter is young so it can change without touching the engine's settings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.chat import split_list
from bot.citations import Style

try:  # pydantic-settings >= 2.7: let the validator below read "1,2,3" instead of requiring JSON
    from pydantic_settings import NoDecode
except ImportError:  # pragma: no cover - older pydantic-settings: lists must be given as JSON
    NoDecode = None  # type: ignore[assignment,misc]

_NO_DECODE: tuple[Any, ...] = (NoDecode,) if NoDecode is not None else ()
IdList = Annotated[list[int], *_NO_DECODE]
NameList = Annotated[list[str], *_NO_DECODE]

ReplyMode = Literal["off", "mentions", "requests"]


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALIGNBOT_DISCORD_", env_file=".env", extra="ignore", populate_by_name=True
    )

    token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "ALIGNBOT_DISCORD_TOKEN"),
        description="The bot token from the Discord developer portal.",
    )

    # Start-up
    dev_guilds: IdList = Field(
        default_factory=list,
        description="Guild ids to sync commands to instantly (development); empty = sync globally (production).",
    )
    sync_commands: bool = Field(default=True, description="Sync the command tree with Discord on start.")
    sharded: bool = Field(default=False, description="Run as an AutoShardedBot (large deployments).")
    shard_count: int | None = Field(default=None, ge=1, description="Shards to run; unset = Discord's advice.")

    # Moderation
    moderator_roles: NameList = Field(
        default_factory=list,
        description="Role ids or names whose members may use moderator commands (besides Manage Messages).",
    )
    moderator_channel: int | None = Field(default=None, description="Channel id where moderation reports go.")
    submission_forums: IdList = Field(
        default_factory=list, description="Forum channel ids whose new posts are checked automatically."
    )
    submission_forum_name: str = Field(default="discord", description="Forum name recorded on those submissions.")
    members_forum: bool = Field(
        default=False, description="The submission forums are members-only (the co-author rules apply)."
    )

    # Answers in threads
    reply_mode: ReplyMode = Field(
        default="requests",
        description="off: slash commands only; mentions: also when mentioned; requests: also on 'source?' etc.",
    )
    reply_channels: IdList = Field(
        default_factory=list,
        description="Channel, forum or category ids where requests like 'source?' are answered (threads included).",
    )
    reply_cooldown_seconds: float = Field(
        default=120.0, ge=0, description="At most one unprompted answer per channel or thread in this time."
    )
    reply_when_unsure: bool = Field(
        default=False, description="Answer a 'source?' request even when no work matches confidently."
    )
    context_messages: int = Field(default=20, ge=0, le=100, description="Recent messages read as context.")
    bibliography_messages: int = Field(default=500, ge=1, description="Most messages /bibliography reads.")

    # Answers
    results_per_page: int = Field(default=5, ge=1, le=10)
    max_results: int = Field(default=20, ge=1, le=50)
    default_style: Style = Style.apa
    # Interaction tokens expire after 15 minutes; buttons are disabled (an edit with the token) before that.
    view_timeout_seconds: float = Field(default=600.0, gt=0, le=840, description="How long page buttons keep working.")

    # Limits
    rate_limit_count: int = Field(default=5, ge=1, description="Commands per user in the window below.")
    rate_limit_seconds: float = Field(default=60.0, gt=0)
    engine_timeout_seconds: float = Field(default=60.0, gt=0, description="Give up on a slow engine call.")
    workers: int = Field(default=2, ge=1, description="Threads running engine calls (CPU-bound work).")

    @field_validator("dev_guilds", "submission_forums", "reply_channels", "moderator_roles", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return split_list(value)

    def token_value(self) -> str | None:
        return self.token.get_secret_value() if self.token else None
