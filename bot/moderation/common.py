"""What every part of the moderation service shares: the engine's database, the rule file, one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.engine import Engine
from bot.moderation.schemas import WorkRef
from bot.storage import Database, Work

if TYPE_CHECKING:  # the rules (and YAML, Markdown) load with the rule file: the review queue needs neither
    from bot.moderation.config import ModerationConfig
    from bot.moderation.shingles import SketchParams

Progress = Callable[[str, int, int | None], None]


class ModerationError(ValueError):
    """Bad input from a moderator or a file; the message says what and where."""


@dataclass
class Store:
    engine: Engine
    load_config: Callable[[], ModerationConfig]  # the rule file, read on first use (`config`)
    # Guards the near-duplicate index, which posts update while checks read it.
    lock: threading.RLock = field(default_factory=threading.RLock)

    @cached_property
    def config(self) -> ModerationConfig:
        return self.load_config()

    @property
    def db(self) -> Database:
        return self.engine.db

    @property
    def params(self) -> SketchParams:
        return self.config.sketch.params()

    def session(self) -> Session:
        return self.engine.db.session()

    def work_for_key(self, key: str | None) -> Work | None:
        """The knowledge-base work an identifier key (`arxiv:…`, `doi:…`, `url:…`) names, if stored."""
        if not key:
            return None
        doc = self.engine.corpus.doc_for_key(key)
        return self.engine.work(self.engine.corpus.ids[doc]) if doc is not None else None


def work_ref(work: Work) -> WorkRef:
    return WorkRef(id=work.id, title=work.title, authors=list(work.authors), year=work.year, url=work.url)


def work_text(work: Work) -> str:
    """What the duplicate index compares of a work: its abstract and summary."""
    return "\n\n".join(t for t in (work.abstract, work.summary) if t)
