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
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import filelock
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate: importing it costs a third of a second, and every command checks the
# revision when it opens the database, which the two functions below do with plain SQL and the file names.

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every instance (it spells "alignbot" in ASCII).
_ADVISORY_LOCK = 0x616C69676E626F74
_REVISION_LINE = re.compile(r"""^(down_revision|revision)\b[^=\n]*=\s*(?:None|"([^"]*)"|'([^']*)')\s*$""", re.M)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision: the one no version file names as its `down_revision`. Read from the files' plain
    `revision = "…"` lines; anything else (a merge's tuple, several heads) is left to Alembic."""
    revisions: set[str] = set()
    parents: set[str | None] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m[1]: m[2] or m[3] or None for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))}
        if "revision" in found:
            if "down_revision" not in found:
                return _alembic_head()
            revisions.add(str(found["revision"]))
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: SAEngine) -> str | None:
    """The database's revision, None before its first migration (Alembic's `alembic_version` table)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if len(versions) > 1:  # branches: Alembic's own error
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(connection).get_current_revision()
        return versions[0] if versions else None


def upgrade(engine: SAEngine, revision: str = "head") -> None:
    """Migrate to `revision` (default: the newest). Cheap when there is nothing to do."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with _sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends: concurrent starts migrate one after another.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        from alembic import command

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
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
