"""What `alignbot sync` remembers between runs: a cursor per source, and the karma of synced forum posts.

A cursor is saved after every stored page, never before: a run killed between the two re-reads at most one
page, whose records merge into the works already stored (merging is idempotent), so nothing is lost and
nothing is stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.storage import Database
from bot.storage.tables.sync import SyncCursor, SyncedPost


def _now() -> datetime:
    return datetime.now(UTC)


class SyncStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def cursor(self, source: str) -> SyncCursor:
        with self.db.session() as session:
            return session.get(SyncCursor, source) or SyncCursor(source=source)

    def save(self, cursor: SyncCursor) -> None:
        cursor.updated_at = _now()
        with self.db.session() as session:
            session.merge(cursor)
            session.commit()

    def save_posts(self, posts: list[SyncedPost]) -> None:
        with self.db.session() as session:
            for post in posts:
                post.updated_at = _now()
                session.merge(post)
            session.commit()

    def post(self, post_id: str) -> SyncedPost | None:
        with self.db.session() as session:
            return session.get(SyncedPost, post_id)
