"""What the Reddit bot has handled, in the engine's database: each comment answered at most once, each
submission reported at most once, also across restarts and with two bots on one database.

The order is claim, act, finish:

1. `claim(item)` inserts a row with action "pending" and commits *before* anything is posted. The primary
   key makes the claim atomic: of two processes, one wins; the other skips the item.
2. The bot posts its reply (or mod note, modmail, report).
3. `finish(item, action)` records what happened ("replied", "modmail", "failed", …).

A crash between 1 and 3 leaves a "pending" row. Such an item is never handled blindly again: on start the
bot reads the thread back (`RedditBot.recover`) and only replies when its reply is not there. Whatever
happens, a reply is never posted twice because of a restart; at worst a crash costs one answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine as SAEngine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.storage.tables.reddit import RedditHandled

PENDING = "pending"


def _now() -> datetime:
    return datetime.now(UTC)


class HandledStore:
    def __init__(self, engine: SAEngine) -> None:
        self.engine = engine

    def get(self, item_id: str) -> RedditHandled | None:
        with Session(self.engine) as session:
            return session.get(RedditHandled, item_id)

    def is_handled(self, item_id: str) -> bool:
        return self.get(item_id) is not None

    def claim(self, item_id: str, kind: str) -> bool:
        """Record that `item_id` is being handled. False when it already was (or another bot has it)."""
        return self.record(item_id, kind, PENDING)

    def finish(self, item_id: str, action: str, detail: str | None = None) -> None:
        with Session(self.engine) as session:
            row = session.get(RedditHandled, item_id)
            if row is None:
                row = RedditHandled(item_id=item_id, kind="comment" if item_id.startswith("t1_") else "submission")
            row.action, row.detail, row.handled_at = action, detail, _now()
            session.add(row)
            session.commit()

    def record(self, item_id: str, kind: str, action: str, detail: str | None = None) -> bool:
        """Claim and finish in one step, for outcomes that post nothing. False when already handled."""
        with Session(self.engine) as session:
            session.add(RedditHandled(item_id=item_id, kind=kind, action=action, detail=detail))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def release(self, item_id: str) -> None:
        """Forget a claim, so the item is handled again (only after reading back that nothing was posted)."""
        with Session(self.engine) as session:
            row = session.get(RedditHandled, item_id)
            if row is not None:
                session.delete(row)
                session.commit()

    def pending(self) -> list[RedditHandled]:
        """Items whose handling was interrupted (a crash between claim and finish)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(RedditHandled).where(RedditHandled.action == PENDING).order_by(col(RedditHandled.handled_at))
            ).all()
            return list(rows)
