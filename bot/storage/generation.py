"""The knowledge base's generation: one counter every write of works bumps, and a log of which works changed.

Every process keeps indexes derived from the works (the lexical index, Discord's autocomplete titles). It
compares the generation it built them at with the database's (`current`, one primary-key read) and, when
they differ, reads the ids of the works changed since (`changed_since`) and updates only those.

The counter is one row updated inside the writing transaction (`bump`). Its row lock makes concurrent
writers commit their generations in order, so a process that sees generation g has every change up to g
(an auto-increment id would not: a transaction holding id 5 may commit after one holding id 6). The log
keeps the last `KEEP` generations; a process further behind rebuilds its indexes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel

KEEP = 1000  # generations of changes kept; every PRUNE_EVERY generations the older ones are deleted
PRUNE_EVERY = 100


class KbGeneration(SQLModel, table=True):
    """One row: the generation of the knowledge base's works."""

    __tablename__ = "kb_generation"

    id: int = Field(default=1, primary_key=True)
    kb_id: str = Field(description="Random, made with the row: tells a recreated database from the old one.")
    value: int = Field(default=0, description="Bumped by every transaction that adds or changes works.")
    oldest: int = Field(default=0, description="Changes up to this generation were pruned from work_change.")


class WorkChange(SQLModel, table=True):
    """A work added or changed at a generation."""

    __tablename__ = "work_change"

    generation: int = Field(primary_key=True)
    work_id: str = Field(primary_key=True)


@dataclass(frozen=True)
class Generation:
    kb_id: str
    value: int
    oldest: int


def bump(session: Session, work_ids: set[str]) -> int | None:
    """Record, in the caller's transaction, that these works changed; returns the new generation (None when
    no work changed). Called last in the transaction: the row lock it takes is held until the commit."""
    if not work_ids:
        return None
    table = KbGeneration.__table__  # type: ignore[attr-defined]
    statement = update(table).where(table.c.id == 1).values(value=table.c.value + 1).returning(table.c.value)
    value = session.execute(statement).scalar_one()
    changes = WorkChange.__table__  # type: ignore[attr-defined]
    session.execute(insert(changes), [{"generation": value, "work_id": work_id} for work_id in sorted(work_ids)])
    if value % PRUNE_EVERY == 0 and value > KEEP:
        oldest = value - KEEP
        session.execute(delete(changes).where(changes.c.generation <= oldest))
        session.execute(update(table).where(table.c.id == 1).values(oldest=oldest))
    return int(value)


def current(connection: Connection | Session) -> Generation:
    row = connection.execute(select(KbGeneration.__table__).where(KbGeneration.id == 1)).one()  # type: ignore[attr-defined]
    return Generation(kb_id=row.kb_id, value=int(row.value), oldest=int(row.oldest))


def changed_since(connection: Connection | Session, after: int, now: Generation) -> set[str] | None:
    """Ids of the works changed after generation `after` up to `now`; None when that part of the log was
    pruned (the caller rebuilds)."""
    if after >= now.value:
        return set()
    if after < now.oldest:
        return None
    changes = WorkChange.__table__  # type: ignore[attr-defined]
    query = select(changes.c.work_id).where(changes.c.generation > after, changes.c.generation <= now.value)
    return set(connection.execute(query).scalars())
