"""Sections of `bot.settings.Settings` for the front ends: `http` (ServerSettings), `discord` and `reddit`.

Defined here, below the front ends, so the settings object imports no adapter; `bot.http.config`,
`bot.discord.config` and `bot.reddit.config` re-export them. Each reads its documented environment names:
`ALIGNBOT_HTTP_<FIELD>`, `ALIGNBOT_DISCORD_<FIELD>` (the token also as `DISCORD_TOKEN`) and
`ALIGNBOT_REDDIT_<FIELD>` (credentials also as praw's `REDDIT_CLIENT_ID` …). Lists are comma-separated.
"""

from __future__ import annotations

import ipaddress
import re
from importlib import metadata
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from bot.chat import split_list
from bot.citations import Style
from bot.sections import IdList, NameList, Section

# What the deprecated TRUST_PROXY_HEADERS=true trusts: a proxy on this host or on a private network
# (Docker's bridge included), which is where the documented deployments put it.
LOCAL_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


class ServerSettings(Section):
    """The HTTP server (`ALIGNBOT_HTTP_<FIELD>`)."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_HTTP_")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    open_reads: bool = Field(
        default=False,
        description="Serve related/cite/bibliography/citedby without a token (then limited per client address).",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body (413 above).")
    max_ingest_body_bytes: int = Field(default=16_000_000, ge=1024, description="Largest body for POST /v1/papers.")
    max_ingest_records: int = Field(default=2000, ge=1, description="Most records in one POST /v1/papers.")
    rate_per_minute: float = Field(default=120, gt=0, description="Sustained requests a minute per token.")
    rate_burst: int = Field(default=30, ge=1, description="Requests a token may make at once before throttling.")
    anonymous_rate_per_minute: float = Field(
        default=30, gt=0, description="Per client address: open reads and login attempts."
    )
    session_hours: float = Field(default=12, gt=0, description="A moderator page session expires after this idle.")
    secure_cookies: bool = Field(default=False, description="Mark cookies Secure (set behind HTTPS).")
    trusted_proxies: NameList = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of your reverse proxies, comma-separated. Only from them are "
        "X-Forwarded-For/-Proto read, and the client is the rightmost entry that is not one of them.",
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description="Deprecated: the same as TRUSTED_PROXIES set to loopback and the private networks.",
    )
    metrics_open: bool = Field(default=False, description="Serve /metrics without a token ('metrics' scope).")
    docs: bool = Field(
        default=False, description="Serve the interactive API docs (/docs, /redoc), which load scripts from a CDN."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (like 10.0.0.0/8)") from None
        return value

    def proxy_networks(self) -> list[str]:
        """The proxies whose forwarding headers are believed (none: the connecting address is the client)."""
        if self.trusted_proxies:
            return self.trusted_proxies
        return list(LOCAL_NETWORKS) if self.trust_proxy_headers else []


ReplyMode = Literal["off", "mentions", "requests"]


class DiscordSettings(Section):
    """The Discord bot (`ALIGNBOT_DISCORD_<FIELD>`)."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_DISCORD_")

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


ReportChannel = Literal["modnote", "modmail", "report"]
Severity = Literal["high", "medium", "low", "info"]

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


def _env(name: str) -> AliasChoices:
    """Accept the praw-style name and the ALIGNBOT_REDDIT_ one."""
    return AliasChoices(f"REDDIT_{name}", f"ALIGNBOT_REDDIT_{name}")


class RedditSettings(Section):
    """The Reddit bot (`ALIGNBOT_REDDIT_<FIELD>`; credentials also under praw's names)."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_REDDIT_")

    # Credentials of a "script" app, used by the bot's own account.
    client_id: str | None = Field(default=None, validation_alias=_env("CLIENT_ID"))
    client_secret: SecretStr | None = Field(default=None, validation_alias=_env("CLIENT_SECRET"))
    username: str | None = Field(default=None, validation_alias=_env("USERNAME"), description="The bot's account.")
    password: SecretStr | None = Field(default=None, validation_alias=_env("PASSWORD"))
    user_agent: str | None = Field(
        default=None,
        validation_alias=_env("USER_AGENT"),
        description="Reddit asks for '<platform>:<app id>:<version> (by u/<you>)'; a default is built from username.",
    )
    # Overrides for tests (a fake Reddit on 127.0.0.1); production keeps Reddit's own.
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    request_timeout: float = Field(default=16.0, gt=0, description="Seconds to wait for one HTTP response.")

    # Where the bot works
    subreddits: NameList = Field(default_factory=list, description="Subreddits whose comments are answered.")
    moderated_subreddits: NameList | None = Field(
        default=None,
        description="Subreddits whose new submissions are checked (the bot must be a moderator); unset = subreddits.",
    )

    # Answers to members
    answer_comments: bool = True
    related_commands: NameList = Field(default_factory=lambda: ["!related"])
    cite_commands: NameList = Field(default_factory=lambda: ["!cite"])
    bibliography_commands: NameList = Field(default_factory=lambda: ["!bibliography"])
    results: int = Field(default=5, ge=1, le=10, description="Works listed in an answer.")
    cite_style: Style = Style.apa
    context_comments: int = Field(default=5, ge=0, le=8, description="Parent comments read as context.")

    # Moderation
    check_submissions: bool = True
    report_channel: ReportChannel = Field(
        default="modmail",
        description="modnote: a mod note on the author; modmail: a Mod Discussion; report: a report on the item.",
    )
    report_min_severity: Severity = Field(
        default="low", description="Findings below this are only logged (the related-work audit is 'info')."
    )
    dry_run: bool = Field(default=True, description="Log moderation reports instead of sending them to Reddit.")
    record_reports: bool = Field(default=True, description="Record each check in the review queue (alignbot queue).")

    # Operation
    max_age_hours: float = Field(default=24.0, gt=0, description="Older comments and submissions are ignored.")
    poll_seconds: float = Field(default=10.0, gt=0, description="Pause between polls when nothing is new.")
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=600.0, gt=0)
    reply_attempts: int = Field(default=3, ge=1, description="Tries for one reply or report before giving up.")

    @field_validator(
        "subreddits",
        "moderated_subreddits",
        "related_commands",
        "cite_commands",
        "bibliography_commands",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("subreddits", "moderated_subreddits")
    @classmethod
    def _subreddit_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = []
        for raw in value:
            name = re.sub(r"^/?r/", "", raw.strip(), flags=re.I)
            if not _SUBREDDIT.match(name):
                raise ValueError(f"{raw!r} is not a subreddit name")
            names.append(name)
        return list(dict.fromkeys(names))

    @field_validator("related_commands", "cite_commands", "bibliography_commands")
    @classmethod
    def _commands(cls, value: list[str]) -> list[str]:
        for command in value:
            if not command or any(c.isspace() for c in command):
                raise ValueError(f"a command is one word, like '!cite', not {command!r}")
        return value

    @property
    def moderated(self) -> list[str]:
        return self.subreddits if self.moderated_subreddits is None else self.moderated_subreddits

    def agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        try:
            version = metadata.version("alignbot")
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
            version = "dev"
        return f"python:alignbot:{version} (by u/{self.username or 'unknown'})"

    def missing(self) -> list[str]:
        """Environment variables that must be set before the bot can log in."""
        needed = {
            "REDDIT_CLIENT_ID": self.client_id,
            "REDDIT_CLIENT_SECRET": self.client_secret,
            "REDDIT_USERNAME": self.username,
            "REDDIT_PASSWORD": self.password,
        }
        missing = [name for name, value in needed.items() if not value]
        if not self.subreddits and not self.moderated:
            missing.append("ALIGNBOT_REDDIT_SUBREDDITS")
        return missing
