"""Relational storage with SQLModel: works, their lookup keys, ingest checkpoints and API rate-limit slots.

The database is the source of truth. Vectors in Chroma are derived from it: `Work.vector_hash`
records which text a stored vector was computed from, so a crash between the two stores is
detected and repaired on the next start (see `Engine.repair`).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, String, Text, case, event, func, or_, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import DatabaseError, DBAPIError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from bot.domain import Conflict, Origin, RankedWork
from bot.identifiers import normalize_text
from bot.storage import generation as kb_generation
from bot.storage import schema
from bot.storage.sqlite import corrupt_sqlite, sqlite_pragmas

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Work(SQLModel, table=True):
    """A paper, post or report, merged from every record of it that was ingested."""

    id: str = Field(primary_key=True)
    kind: str = "paper"
    title: str = Field(sa_column=Column(Text, nullable=False))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    year: int | None = None
    abstract: str | None = Field(default=None, sa_column=Column(Text))
    summary: str | None = Field(default=None, sa_column=Column(Text))
    url: str | None = Field(default=None, sa_column=Column(Text))
    venue: str | None = Field(default=None, sa_column=Column(Text))
    arxiv_id: str | None = Field(default=None, index=True)
    doi: str | None = Field(default=None, index=True)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    curated: bool = False
    text_hash: str = ""
    vector_hash: str | None = Field(default=None, index=True)
    updated_at: datetime = Field(default_factory=_now)
    # field -> {"kind", "name", "at"}: which origin set the field's current value (see bot.domain.FieldSource).
    provenance: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # When `alignbot enrich` last asked the metadata APIs about this work: a re-run skips it.
    enriched_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def description(self) -> str:
        """The best prose about the work we have: the abstract, else our curated summary."""
        return self.abstract or self.summary or ""

    def ranked(self, score: float, reason: str | None = None) -> RankedWork:
        return RankedWork(
            id=self.id,
            arxiv_id=self.arxiv_id,
            doi=self.doi,
            title=self.title,
            authors=list(self.authors),
            year=self.year,
            url=self.url,
            venue=self.venue,
            kind=self.kind,
            score=round(float(score), 4),
            reason=reason,
        )


class WorkKey(SQLModel, table=True):
    """A key (`arxiv:…`, `doi:…`, `post:…`, `url:…`, `title:…`, `id:…`) that names a work exactly."""

    key: str = Field(primary_key=True)
    work_id: str = Field(index=True, foreign_key="work.id")


class WorkConflict(SQLModel, table=True):
    """A write refused because it would change a curated work (see bot.domain.Conflict), for a moderator."""

    __tablename__ = "work_conflict"

    id: int | None = Field(default=None, primary_key=True)
    # The same refused change from the same origin is kept once, however often it is sent again.
    key: str = Field(sa_column=Column(String, nullable=False, unique=True))
    work_id: str = Field(index=True)
    target_id: str | None = Field(default=None, description="The work the write was for, when not work_id.")
    field: str
    stored: Any = Field(default=None, sa_column=Column(JSON))
    proposed: Any = Field(default=None, sa_column=Column(JSON))
    origin_kind: str
    origin_name: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=_now)

    @classmethod
    def of(cls, key: str, conflict: Conflict) -> WorkConflict:
        return cls(
            key=key,
            work_id=conflict.work_id,
            target_id=conflict.target_id,
            field=conflict.field,
            stored=conflict.stored,
            proposed=conflict.proposed,
            origin_kind=conflict.origin.kind,
            origin_name=conflict.origin.name,
            reason=conflict.reason,
            created_at=conflict.at or _now(),
        )

    def conflict(self) -> Conflict:
        return Conflict(
            work_id=self.work_id,
            target_id=self.target_id,
            field=self.field,
            stored=self.stored,
            proposed=self.proposed,
            origin=Origin(kind=self.origin_kind, name=self.origin_name),  # type: ignore[arg-type]
            reason=self.reason,
            at=self.created_at,
        )


class IngestCheckpoint(SQLModel, table=True):
    """How far an ingest of one file got, so an interrupted run resumes instead of starting over."""

    source: str = Field(primary_key=True)
    fingerprint: str
    lines_done: int = 0
    complete: bool = False
    updated_at: datetime = Field(default_factory=_now)


class RateLimitSlot(SQLModel, table=True):
    """When the next request to a rate-limited API may go out, shared by every process on this database."""

    __tablename__ = "rate_limit_slot"

    name: str = Field(primary_key=True, description="The API, e.g. 'arxiv'.")
    next_at: float = Field(description="Unix time of the next free slot.")


def upsert_insert(engine: SAEngine) -> Any:
    """The engine's dialect's INSERT … ON CONFLICT, imported when used: PostgreSQL's dialect costs every SQLite
    start 0.1 s."""
    return importlib.import_module(f"sqlalchemy.dialects.{engine.dialect.name}").insert


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self.engine: SAEngine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", sqlite_pragmas)
        try:
            schema.upgrade(self.engine)
        except DatabaseError as exc:
            corrupt = corrupt_sqlite(url, exc)
            if corrupt is None:
                raise
            raise corrupt from exc

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # --- reads -------------------------------------------------------------------------------

    def count_works(self) -> int:
        with self.session() as session:
            return session.exec(select(func.count()).select_from(Work)).one()

    def generation(self) -> kb_generation.Generation:
        """The knowledge base's generation (see bot.storage.generation): one primary-key read."""
        with self.engine.connect() as connection:
            return kb_generation.current(connection)

    def changed_since(self, after: int, now: kb_generation.Generation) -> set[str] | None:
        """Works added or changed after generation `after` up to `now`; None when the log no longer goes back."""
        with self.engine.connect() as connection:
            return kb_generation.changed_since(connection, after, now)

    def key_map(self) -> dict[str, str]:
        with self.session() as session:
            return dict(session.exec(select(WorkKey.key, WorkKey.work_id)).all())

    def keys_of(self, work_ids: Sequence[str]) -> dict[str, str]:
        """The keys naming these works, key -> work id."""
        found: dict[str, str] = {}
        with self.session() as session:
            for start in range(0, len(work_ids), 500):
                chunk = list(work_ids[start : start + 500])
                found.update(
                    session.exec(select(WorkKey.key, WorkKey.work_id).where(col(WorkKey.work_id).in_(chunk))).all()
                )
        return found

    def work_for_key(self, key: str) -> Work | None:
        with self.session() as session:
            row = session.exec(select(Work).join(WorkKey).where(WorkKey.key == key)).first()
            return row

    def works(self, ids: Sequence[str]) -> dict[str, Work]:
        found: dict[str, Work] = {}
        with self.session() as session:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                for row in session.exec(select(Work).where(col(Work.id).in_(chunk))):
                    found[row.id] = row
        return found

    def iter_works(self, batch_size: int = 2000) -> Iterator[Work]:
        """All works in id order, read in pages so memory stays flat on large knowledge bases."""
        last = ""
        while True:
            with self.session() as session:
                page = session.exec(select(Work).where(Work.id > last).order_by(Work.id).limit(batch_size)).all()
            if not page:
                return
            yield from page
            last = page[-1].id

    @staticmethod
    def _stale(curated_only: bool) -> Any:
        stale = (Work.vector_hash.is_(None)) | (Work.vector_hash != Work.text_hash)  # type: ignore[union-attr]
        return (stale & (Work.curated == True)) if curated_only else stale  # noqa: E712 - SQL expression

    def works_needing_vectors(self, limit: int, after: str = "", curated_only: bool = False) -> list[Work]:
        with self.session() as session:
            query = select(Work).where(self._stale(curated_only), Work.id > after).order_by(Work.id).limit(limit)
            return list(session.exec(query).all())

    def count_needing_vectors(self, curated_only: bool = False) -> int:
        with self.session() as session:
            return session.exec(select(func.count()).select_from(Work).where(self._stale(curated_only))).one()

    def count_vector_marked(self) -> int:
        """How many works the database records as embedded (what `vector_marked_ids` holds, counted in SQL)."""
        with self.session() as session:
            return session.exec(select(func.count()).select_from(Work).where(col(Work.vector_hash).is_not(None))).one()

    def vector_marked_ids(self) -> set[str]:
        with self.session() as session:
            return set(session.exec(select(Work.id).where(col(Work.vector_hash).is_not(None))).all())

    def curated_names(self) -> dict[str, str]:
        """Normalised aliases and titles of curated works -> the work: names nobody else may claim."""
        names: dict[str, str] = {}
        with self.session() as session:
            rows = session.exec(select(Work.id, Work.title, Work.aliases).where(Work.curated == True))  # noqa: E712
            for work_id, title, aliases in rows:
                for name in [title, *aliases]:
                    names.setdefault(normalize_text(name), work_id)
        return names

    def conflict_keys(self, keys: Sequence[str]) -> set[str]:
        with self.session() as session:
            return set(session.exec(select(WorkConflict.key).where(col(WorkConflict.key).in_(list(keys)))).all())

    def conflicts(self, work_id: str) -> list[WorkConflict]:
        """Refused changes to a work, or refused writes meant for it, oldest first."""
        with self.session() as session:
            query = select(WorkConflict).where(or_(WorkConflict.work_id == work_id, WorkConflict.target_id == work_id))
            return list(session.exec(query.order_by(WorkConflict.id)).all())

    def works_to_enrich(self, limit: int, after: str = "", include_done: bool = False) -> list[Work]:
        """Works with an arXiv id or DOI that `enrich` has not asked about yet, in id order."""
        query = select(Work).where(Work.id > after, or_(col(Work.arxiv_id).is_not(None), col(Work.doi).is_not(None)))
        if not include_done:
            query = query.where(col(Work.enriched_at).is_(None))
        with self.session() as session:
            return list(session.exec(query.order_by(Work.id).limit(limit)).all())

    def count_to_enrich(self, include_done: bool = False) -> int:
        query = (
            select(func.count())
            .select_from(Work)
            .where(or_(col(Work.arxiv_id).is_not(None), col(Work.doi).is_not(None)))
        )
        if not include_done:
            query = query.where(col(Work.enriched_at).is_(None))
        with self.session() as session:
            return session.exec(query).one()

    def mark_enriched(self, ids: Sequence[str], at: datetime) -> None:
        """Record that `enrich` asked the metadata APIs about these works: the next run skips them."""
        rows = [{"id": work_id, "enriched_at": at} for work_id in ids]
        if rows:
            self._transaction(lambda session: session.execute(update(Work), rows))

    def checkpoint(self, source: str) -> IngestCheckpoint | None:
        with self.session() as session:
            return session.get(IngestCheckpoint, source)

    # --- writes ------------------------------------------------------------------------------

    def write_batch(
        self,
        new: Iterable[Work],
        changed: Iterable[Work],
        keys: Iterable[tuple[str, str]],
        checkpoint: IngestCheckpoint | None = None,
        conflicts: Iterable[WorkConflict] = (),
    ) -> None:
        """Store one ingest batch, its refused changes and its checkpoint in one transaction: all of it or none."""
        new, changed, keys, conflicts = list(new), list(changed), list(keys), list(conflicts)
        if checkpoint is not None:
            checkpoint.updated_at = _now()
        for work in changed:  # a merge is an update
            work.updated_at = _now()

        def write(session: Session) -> None:
            session.add_all(new)
            session.flush()
            for work in changed:
                session.merge(work)
            session.add_all([WorkKey(key=key, work_id=work_id) for key, work_id in keys])
            session.add_all(conflicts)
            if checkpoint is not None:
                session.merge(checkpoint)
            # Last, so the counter's row lock is held only until the commit just after.
            kb_generation.bump(session, {w.id for w in new} | {w.id for w in changed} | {w for _, w in keys})

        self._transaction(write)

    def _transaction(self, write: Callable[[Session], object]) -> None:
        """Run `write` in one transaction; once more if the connection died under it (a restarted or failed-over
        PostgreSQL, a proxy dropping idle connections). Nothing of the failed attempt was committed."""
        for attempt in (1, 2):
            try:
                with self.session() as session:
                    write(session)
                    session.commit()
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise
                log.warning("database connection lost during a write (%s); retrying it", exc.orig)

    def reserve_slot(self, name: str, interval: float) -> float:
        """Reserve the next request slot of API `name`, at least `interval` s after the last one reserved by
        any process on this database; returns how many seconds to wait before sending.

        One atomic upsert, so two instances never get the same slot (no read-then-write race).
        """
        now = time.time()
        slot = RateLimitSlot.__table__  # type: ignore[attr-defined]
        statement = upsert_insert(self.engine)(slot).values(name=name, next_at=now + interval)
        later = case((slot.c.next_at > now, slot.c.next_at), else_=now) + interval
        statement = statement.on_conflict_do_update(index_elements=["name"], set_={"next_at": later})
        with self.engine.begin() as connection:
            next_at = connection.execute(statement.returning(slot.c.next_at)).scalar_one()
        return max(0.0, next_at - interval - now)

    def mark_vectors(self, hashes: dict[str, str]) -> None:
        """Record that the vectors of these works now match the given text hashes."""
        rows = [{"id": work_id, "vector_hash": text_hash} for work_id, text_hash in hashes.items()]
        self._transaction(lambda session: session.execute(update(Work), rows))

    def clear_vector_marks(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self.session() as session:
            for start in range(0, len(ids), 500):
                session.execute(update(Work).where(col(Work.id).in_(ids[start : start + 500])).values(vector_hash=None))
            session.commit()
