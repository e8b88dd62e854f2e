"""`Services`: the application opened from one `Settings`, the one place every command and front end starts.

    with Services.open(settings) as services:
        services.engine.ask(...)             # retrieval, answers, ingest
        services.moderation.check(...)       # the rules, the audit, the review queue
        services.papers.fetch("arxiv", ...)  # live metadata, enrichment, sync, provenance

Moderation and papers are built on first use, so commands that need neither do not pay for them.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from bot.embedding import Embedder
from bot.engine import Engine
from bot.ingest.pipeline import Progress
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.moderation.service import Moderator
    from bot.papers import Papers


class Services:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @classmethod
    def open(
        cls, settings: Settings | None = None, *, embedder: Embedder | None = None, progress: Progress | None = None
    ) -> Services:
        """Open the engine (on a first run this ingests the bundled reading list, reported to `progress`)."""
        settings = settings or Settings()
        return cls(settings, Engine.open(settings, embedder=embedder, progress=progress))

    @cached_property
    def moderation(self) -> Moderator:
        """The moderator, with the rule file of `settings.moderation.config`; ConfigError when it is invalid."""
        _ = self.review_moderation.config  # read now: a bad rule file stops a front end at start
        return self.review_moderation

    @cached_property
    def review_moderation(self) -> Moderator:
        """The same moderator, reading its rule file on first use, if ever: the review queue, decisions and
        cited-by need no rules, so they neither load them nor stop at an invalid rule file."""
        from bot.moderation.service import Moderator

        return Moderator(self.engine, config_path=self.settings.moderation.config)

    @cached_property
    def papers(self) -> Papers:
        from bot.papers import Papers

        return Papers(self.engine)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
