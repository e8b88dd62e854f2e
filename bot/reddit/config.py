"""Settings of the Reddit front end, read from the environment and `.env`.

Credentials use the names praw users know (`REDDIT_CLIENT_ID`, `REDDIT_CLIENT_SECRET`, `REDDIT_USERNAME`,
`REDDIT_PASSWORD`, `REDDIT_USER_AGENT`); everything else is `ALIGNBOT_REDDIT_<FIELD>`. Lists are
comma-separated (`ALIGNBOT_REDDIT_SUBREDDITS=ControlProblem,AIAlignment`). These belong in
`bot.settings.Settings` eventually; they live here while the adapter is young.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.chat import split_list
from bot.citations import Style
from bot.moderation.severity import Severity

try:  # pydantic-settings >= 2.7: let the validators below read "a,b,c" instead of requiring JSON
    from pydantic_settings import NoDecode
except ImportError:  # pragma: no cover - older pydantic-settings: lists must be given as JSON
    NoDecode = None  # type: ignore[assignment,misc]

_NO_DECODE: tuple[Any, ...] = (NoDecode,) if NoDecode is not None else ()
NameList = Annotated[list[str], *_NO_DECODE]

ReportChannel = Literal["modnote", "modmail", "report"]

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


def _env(name: str) -> AliasChoices:
    """Accept the praw-style name and the ALIGNBOT_REDDIT_ one."""
    return AliasChoices(f"REDDIT_{name}", f"ALIGNBOT_REDDIT_{name}")


class RedditSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALIGNBOT_REDDIT_", env_file=".env", extra="ignore", populate_by_name=True
    )

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
    moderation_config: Path | None = Field(default=None, description="Rule file; default knowledge/moderation.yaml.")

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
