"""The revision checks every command runs when it opens the database, which do without importing Alembic:
the head read from the version files' lines, the current revision by plain SQL. Alembic is the reference."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage import Database, schema

REPO = Path(__file__).resolve().parents[2]


def alembic_head(migrations: Path) -> str | None:
    config = schema.alembic_config()
    config.set_main_option("script_location", str(migrations))
    return ScriptDirectory.from_config(config).get_current_head()


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the migrations that the test may add revisions to, in place of the package's."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(schema, "MIGRATIONS", copy)
    schema.head_revision.cache_clear()
    yield copy
    schema.head_revision.cache_clear()


def add_revision(migrations: Path, revision: str, down_revision: str) -> None:
    (migrations / "versions" / f"{revision}_test.py").write_text(
        f'revision: str = "{revision}"\ndown_revision: str | tuple[str, ...] | None = {down_revision}\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n"
        "def downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def test_the_head_read_from_the_files_is_alembics() -> None:
    schema.head_revision.cache_clear()
    assert schema.head_revision() == alembic_head(schema.MIGRATIONS)


def test_a_new_revision_is_the_new_head(migrations: Path) -> None:
    before = alembic_head(migrations)
    add_revision(migrations, "9001", f'"{before}"')
    assert schema.head_revision() == alembic_head(migrations) == "9001"


def test_a_merge_revision_is_left_to_alembic(migrations: Path) -> None:
    """A merge names its parents as a tuple, which the line reader does not parse: Alembic decides."""
    before = alembic_head(migrations)
    add_revision(migrations, "9001", f'"{before}"')
    add_revision(migrations, "9002", f'"{before}"')
    add_revision(migrations, "9003", '("9001", "9002")')
    assert schema.head_revision() == alembic_head(migrations) == "9003"


def test_current_revision_agrees_with_alembic(database_url: str) -> None:
    db = Database(database_url)  # migrated to the head on opening
    with db.engine.connect() as connection:
        assert schema.current_revision(db.engine) == MigrationContext.configure(connection).get_current_revision()
    schema.downgrade(db.engine, "base")
    assert schema.current_revision(db.engine) is None  # the version table is there, but empty
    db.close()


def test_opening_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    Database(url).close()  # created and migrated here
    probe = (
        "import sys; from bot.storage import Database, schema; db = Database(sys.argv[1]); "
        "assert schema.current_revision(db.engine) == schema.head_revision(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, url], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
