"""Fixtures for the Reddit tests: real praw talking HTTP to a fake Reddit on 127.0.0.1, over the shared
engine (its knowledge base is only read; the bot writes its own `reddit_handled` table and the moderation
tables, which no other test reads). Nothing sleeps: delays are recorded instead."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from bot.engine import Engine
from bot.moderation.service import Moderator
from bot.reddit import RedditBot, RedditSettings, create_reddit
from tests.reddit.fake_reddit import FakeReddit

BOT = "alignbot"
SUB = "AIAlignment"


def reddit_settings(fake: FakeReddit, **overrides: Any) -> RedditSettings:
    """Settings isolated from the developer's .env, pointed at the fake server."""
    values: dict[str, Any] = {
        "client_id": "test-client",
        "client_secret": "test-secret",
        "username": BOT,
        "password": "test-password",
        "user_agent": "python:alignbot-tests:0 (by u/alignbot)",
        "oauth_url": fake.url,
        "reddit_url": fake.url,
        "request_timeout": 10.0,
        "subreddits": [SUB],
        "moderated_subreddits": [SUB],
        "dry_run": True,
        "report_channel": "modmail",
        "poll_seconds": POLL_SECONDS,
        "backoff_base_seconds": 2.0,
        "backoff_max_seconds": 60.0,
    }
    values.update(overrides)
    return RedditSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    server = FakeReddit(BOT).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def reddit_moderator(engine: Engine) -> Moderator:
    """The moderation service on the shared engine, with the bundled rules."""
    return Moderator(engine)


POLL_SECONDS = 5.0  # no backoff delay (2, 4, 8 … or a Retry-After of 7) is 5: a 5 s sleep is the poll pause


class Sleeps:
    """Stands in for the bot's sleep: records each delay; stops the bot at its next poll pause when told to."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.stop_at_poll = False
        self.stop_at: set[float] = set()  # also stop (as SIGTERM would) during a wait of these lengths
        self.stop_event: threading.Event | None = None

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        stop = (self.stop_at_poll and seconds == POLL_SECONDS) or seconds in self.stop_at
        if stop and self.stop_event is not None:
            self.stop_event.set()


def run_once(bot: RedditBot) -> list[float]:
    """One pass over the streams, up to the first poll pause; returns the delays waited so far."""
    sleeps = bot.sleeps  # type: ignore[attr-defined]
    sleeps.stop_at_poll = True
    bot.stop_event.clear()
    bot.run()
    return sleeps.delays


@pytest.fixture
def make_bot(fake: FakeReddit, engine: Engine, reddit_moderator: Moderator) -> Callable[..., RedditBot]:
    """Build a bot (a "process": build another on the same database to restart it)."""

    def build(
        *, moderator: Moderator | bool | None = True, sleeps: Sleeps | None = None, **overrides: Any
    ) -> RedditBot:
        settings = reddit_settings(fake, **overrides)
        session = requests.Session()
        session.trust_env = False  # no proxy between praw and 127.0.0.1
        sleeps = sleeps or Sleeps()
        bot = RedditBot(
            engine,
            reddit_moderator if moderator is True else (moderator or None),
            settings,
            create_reddit(settings, session=session),
            sleep=sleeps,
        )
        sleeps.stop_event = bot.stop_event
        bot.sleeps = sleeps  # type: ignore[attr-defined]
        return bot

    return build
