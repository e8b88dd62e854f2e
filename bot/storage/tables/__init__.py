"""Every table the upper packages keep in the database, defined here so that storage depends on none of them.

The behaviour stays with its package (`bot.http.tokens` makes and checks tokens, `bot.reddit.handled` claims
items, `bot.sync.state` moves cursors, `bot.moderation` fills the moderation tables); the knowledge base's own
tables (works, keys, conflicts, checkpoints, rate-limit slots) are in `bot.storage.database` beside the queries
that use them.
"""

from sqlalchemy import MetaData
from sqlmodel import SQLModel

__all__ = ["model_metadata"]


def model_metadata() -> MetaData:
    """The metadata of every table model: what the newest migration must produce (autogenerate, the drift test).
    Every table module is imported here; a command imports only the tables it uses (the review queue neither
    Reddit's nor the tokens')."""
    from bot.storage import coordination, database, generation, shared  # noqa: F401
    from bot.storage.tables import moderation, reddit, sync, tokens  # noqa: F401

    return SQLModel.metadata
