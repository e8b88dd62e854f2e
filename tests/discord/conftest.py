"""Fixtures for the Discord tests: the real engine and moderator over SQLite in tmp dirs; only Discord is fake."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # discord.py imports audioop (deprecated in 3.11, unused here)
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord  # noqa: F401

from bot.discord import DiscordSettings, create_bot
from bot.embedding import Embedder
from bot.engine import Engine
from bot.moderation.service import Moderator
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]
MOD_CHANNEL = 900_000_000_000_000_001
FORUM = 900_000_000_000_000_002
REPLY_CHANNEL = 900_000_000_000_000_003


def discord_settings(**overrides: Any) -> DiscordSettings:
    """Settings isolated from the developer's environment and .env."""
    values: dict[str, Any] = {
        "token": None,
        "dev_guilds": [],
        "moderator_roles": ["Moderators"],
        "moderator_channel": MOD_CHANNEL,
        "submission_forums": [FORUM],
        "reply_mode": "requests",
        "reply_channels": [REPLY_CHANNEL],
        "reply_cooldown_seconds": 120.0,
        "reply_when_unsure": False,
        "rate_limit_count": 50,
        "rate_limit_seconds": 60.0,
        "engine_timeout_seconds": 30.0,
        "sharded": False,
    }
    values.update(overrides)
    return DiscordSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_bot(engine: Engine) -> Iterator[Callable[..., Any]]:
    """Build bots over the shared read-only engine (no moderator); their worker pools are shut down after."""
    bots: list[Any] = []

    def build(moderator: Moderator | None = None, **overrides: Any) -> Any:
        bot = create_bot(discord_settings(**overrides), engine=engine, moderator=moderator)
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        bot.executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def mod_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    """A small knowledge base of its own: moderation tests record reports and posts, which the shared
    engine's tests must not see."""
    engine = Engine.open(
        make_settings(tmp_path_factory.mktemp("discord-mod"), load_bundled_knowledge=False), embedder=embedder
    )
    lines = (REPO / "knowledge" / "reading_list.jsonl").read_text(encoding="utf-8").splitlines()
    engine.ingest_records([json.loads(line) for line in lines[:12] if line.strip()])
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def moderator(mod_engine: Engine) -> Moderator:
    return Moderator(mod_engine)


@pytest.fixture
def mod_bot(mod_engine: Engine, moderator: Moderator) -> Iterator[Any]:
    bot = create_bot(discord_settings(), engine=mod_engine, moderator=moderator)
    yield bot
    bot.executor.shutdown(wait=True)
