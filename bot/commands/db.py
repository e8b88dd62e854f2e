"""`alignbot db upgrade|current`: the relational database's schema (Alembic migrations)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.cli_common import DataDir, fail
from bot.settings import Settings
from bot.storage import schema

out = Console()
db_app = typer.Typer(help="The relational database's schema (Alembic migrations).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _database_url(data_dir: Path | None) -> str:
    settings = Settings.load(data_dir)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.sqlalchemy_url


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Migrate the database to the newest schema. Every command does this on start; deployments run it once
    before starting the bots. Safe to run while other instances start (PostgreSQL: one migrates, others wait)."""
    url = _database_url(data_dir)
    engine = create_engine(url)
    try:
        before = schema.current_revision(engine)
        schema.upgrade(engine)
    except SQLAlchemyError as exc:
        fail(f"{make_url(url).render_as_string(hide_password=True)}: {exc.__class__.__name__}: {exc.orig or exc}")
    finally:
        engine.dispose()
    head = schema.head_revision()
    out.print(f"schema {before or 'empty'} -> {head}" if before != head else f"schema already at {head}")


@db_app.command("current")
def db_current(data_dir: DataDir = None) -> None:
    """The database's schema revision and the newest one this version knows."""
    engine = create_engine(_database_url(data_dir))
    try:
        current = schema.current_revision(engine)
    except SQLAlchemyError as exc:
        fail(f"{exc.__class__.__name__}: {exc.orig or exc}")
    finally:
        engine.dispose()
    out.print(f"current {current or 'empty'}\nhead    {schema.head_revision()}", highlight=False)
