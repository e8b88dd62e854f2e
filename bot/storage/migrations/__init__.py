"""Alembic migrations of the relational schema (see `bot.storage.schema`)."""
