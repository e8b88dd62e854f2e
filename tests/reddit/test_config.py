"""Reddit settings from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.reddit.config import RedditSettings


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "REDDIT_CLIENT_ID": "cid",
        "REDDIT_CLIENT_SECRET": "s3kr1t-value",
        "REDDIT_USERNAME": "alignbot",
        "REDDIT_PASSWORD": "pw",
        "ALIGNBOT_REDDIT_SUBREDDITS": "r/ControlProblem, AIAlignment",
        "ALIGNBOT_REDDIT_CITE_COMMANDS": "!cite,!ref",
        "ALIGNBOT_REDDIT_REPORT_CHANNEL": "modnote",
    }.items():
        monkeypatch.setenv(name, value)
    settings = RedditSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.subreddits == ["ControlProblem", "AIAlignment"]
    assert settings.moderated == ["ControlProblem", "AIAlignment"]  # unset: the same subreddits
    assert settings.cite_commands == ["!cite", "!ref"]
    assert settings.report_channel == "modnote"
    assert settings.dry_run is True  # the default: nothing is sent to Reddit until turned off
    assert settings.client_secret is not None and settings.client_secret.get_secret_value() == "s3kr1t-value"
    assert "s3kr1t" not in repr(settings)
    assert settings.missing() == []
    assert settings.agent().startswith("python:alignbot:") and settings.agent().endswith("(by u/alignbot)")


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"ALIGNBOT_{name}", raising=False)
    monkeypatch.delenv("ALIGNBOT_REDDIT_SUBREDDITS", raising=False)
    settings = RedditSettings(_env_file=None, moderated_subreddits=["AIAlignment"])  # type: ignore[call-arg]
    assert settings.missing() == ["REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("subreddits", "not a subreddit!"), ("report_channel", "email"), ("cite_commands", "!cite me")],
)
def test_bad_values_are_rejected(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        RedditSettings(_env_file=None, **{field: value})  # type: ignore[call-arg]
