"""Alembic environment: runs on the connection `bot.storage.schema` hands over (one transaction, and on
PostgreSQL under an advisory lock), or, from the `alembic` command line, on the configured database."""

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run(connection) -> None:  # type: ignore[no-untyped-def]
    # The models are only needed to compare them with the database (autogenerate, the drift test); plain
    # upgrades do without importing every table module.
    metadata = None
    if config.attributes.get("compare_models") or getattr(config.cmd_opts, "autogenerate", False):
        from bot.storage.tables import model_metadata

        metadata = model_metadata()
    # Batch mode lets later migrations alter columns on SQLite, which has almost no ALTER TABLE.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from bot.settings import Settings

    with create_engine(Settings().sqlalchemy_url).begin() as new_connection:
        run(new_connection)
