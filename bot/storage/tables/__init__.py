"""Every table the upper packages keep in the database, defined here so storage depends on none of them.

The behaviour stays with its package (`bot.http.tokens` makes and checks tokens, `bot.reddit.handled` claims
items, `bot.sync.state` moves cursors, `bot.moderation` fills the moderation tables); the knowledge base's own
tables (works, keys, conflicts, checkpoints, rate-limit slots) are in `bot.storage.database` beside the queries
that use them. Importing this package registers every table on `SQLModel.metadata` (see `schema.model_metadata`).
"""

from bot.storage.tables import moderation, reddit, sync, tokens

__all__ = ["moderation", "reddit", "sync", "tokens"]
