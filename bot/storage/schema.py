"""Schema migrations with Alembic: every database is brought to the newest revision when it is opened.

Several bot instances may start at once on one PostgreSQL: the upgrade runs in one transaction under an
advisory lock, so one instance migrates and the others wait, then find nothing to do. PostgreSQL's DDL is
transactional, so a failed migration leaves the previous schema intact.

Databases made before migrations existed (tables created directly from the models) hold exactly the first
revision's tables; the first revision creates only what is missing, so they upgrade like any other.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import filelock
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every instance (it spells "alignbot" in ASCII).
_ADVISORY_LOCK = 0x616C69676E626F74


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: SAEngine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: SAEngine, revision: str = "head") -> None:
    """Migrate to `revision` (default: the newest). Cheap when there is nothing to do."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with _sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends: concurrent starts migrate one after another.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        command.upgrade(alembic_config(connection), revision)


@contextlib.contextmanager
def _sqlite_file_lock(engine: SAEngine) -> Iterator[None]:
    """SQLite's counterpart of the advisory lock: processes opening one fresh file migrate one after another
    (the second then finds nothing to do: Alembic reads the version inside the lock)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with filelock.FileLock(f"{path}.migrate.lock"):
        yield


def downgrade(engine: SAEngine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def model_metadata() -> MetaData:
    """The metadata of every table model in the package: what the newest migration must produce."""
    from sqlmodel import SQLModel

    import bot.http.tokens
    import bot.moderation.models
    import bot.reddit.handled
    import bot.storage.coordination
    import bot.storage.database
    import bot.sync.state  # noqa: F401 - imported for their table models

    return SQLModel.metadata
