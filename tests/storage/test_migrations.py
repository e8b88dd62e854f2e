"""Alembic migrations on the run's database (SQLite, or PostgreSQL in the production pass of `.ci/run`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlmodel import Session

from bot.domain import IngestReport, Origin, WorkRecord
from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.tokens import TokenStore
from bot.ingest.pipeline import RecordMerger
from bot.reddit.handled import HandledStore
from bot.storage import Database, IngestCheckpoint, RateLimitSlot, Work, WorkKey, schema
from bot.storage.tables import model_metadata
from bot.storage.tables.moderation import Post
from tests.conftest import FIXTURES, make_settings

FIRST_RELEASE = "0001"


def drift(url: str) -> list[object]:
    """What differs between the migrated database and the table models (empty when they agree)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), model_metadata())
    finally:
        engine.dispose()


def test_an_empty_database_is_migrated_to_exactly_the_models(database_url: str) -> None:
    db = Database(database_url)
    assert schema.current_revision(db.engine) == schema.head_revision()
    db.close()
    assert drift(database_url) == []


def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    db = Database(database_url)
    schema.downgrade(db.engine, "base")
    assert schema.current_revision(db.engine) is None
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(db.engine)
    assert schema.current_revision(db.engine) == schema.head_revision()
    db.close()
    assert drift(database_url) == []


def counts(db: Database) -> dict[str, int]:
    with Session(db.engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()  # type: ignore[call-overload]
            for model in (Work, WorkKey, IngestCheckpoint, Post)
        }


@pytest.mark.parametrize("made_by", ["first-release", "before-migrations"])
def test_a_populated_database_upgrades_without_losing_anything(
    made_by: str, tmp_path: Path, embedder: Embedder
) -> None:
    """A knowledge base with works, keys, checkpoints, tokens, moderation and Reddit records at the first
    release's schema (or made before migrations existed: the same tables, no version table) upgrades in place."""
    settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False)
    engine = Engine.open(settings, embedder=embedder)
    engine.ingest([FIXTURES / "papers.jsonl", FIXTURES / "papers.bib"])
    engine.ingest_records(
        [{"id": "post:abc", "kind": "post", "title": "A forum post about probes", "authors": ["Ana"], "year": 2025}]
    )
    TokenStore(engine.db).create("forum-plugin", ["write"])
    HandledStore(engine.db.engine).record("t1_abc", "comment", "replied", "t1_reply")
    with engine.db.session() as session:
        session.add(Post(id="lw:1", forum="lesswrong", author="ana", title="Probes", body="Text", text="Text"))
        session.commit()
    before = counts(engine.db)
    answer = engine.cite("Jacovi & Goldberg")
    engine.close()

    # Back to the first release's schema, as a database of that release is.
    old = create_engine(settings.sqlalchemy_url)
    schema.downgrade(old, FIRST_RELEASE)
    if made_by == "before-migrations":
        with old.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    assert "rate_limit_slot" not in inspect(old).get_table_names()
    old.dispose()

    upgraded = Engine.open(settings, embedder=embedder)
    try:
        assert upgraded.status()["schema"] == schema.head_revision()
        assert counts(upgraded.db) == before
        assert upgraded.status()["pending_vectors"] == 0  # no vector had to be recomputed
        assert upgraded.cite("Jacovi & Goldberg") == answer
        assert TokenStore(upgraded.db).list()[0].name == "forum-plugin"
        assert HandledStore(upgraded.db.engine).get("t1_abc").action == "replied"  # type: ignore[union-attr]
        assert upgraded.db.reserve_slot("arxiv", 3.0) == 0.0  # the new table works
        with upgraded.db.session() as session:
            assert session.get(RateLimitSlot, "arxiv") is not None
    finally:
        upgraded.close()
    assert drift(settings.sqlalchemy_url) == []


def test_rate_limit_slots_are_spaced_by_the_interval(database_url: str) -> None:
    db = Database(database_url)
    waits = [db.reserve_slot("arxiv", 3.0) for _ in range(3)]
    other = db.reserve_slot("openalex", 0.1)
    db.close()
    assert waits[0] == 0.0 and other == 0.0  # each API has its own slots
    assert waits[1] == pytest.approx(3.0, abs=0.5) and waits[2] == pytest.approx(6.0, abs=0.5)


def test_field_provenance_upgrades_a_populated_database_in_place(database_url: str) -> None:
    """0003 on a knowledge base of 0002: works keep everything and gain what can be known of
    where their fields came from; conflicts can be stored; nothing is marked as enriched."""
    db = Database(database_url)
    merger = RecordMerger(db)
    curated = WorkRecord(
        title="Sleeper Agents: Training Deceptive LLMs",
        aliases=["the sleeper agents paper"],
        url="https://arxiv.org/abs/2401.05566",
    )
    merger.store(
        [
            curated.model_copy(update={"id": "arxiv:2401.05566", "arxiv_id": "2401.05566", "curated": True}),
            WorkRecord(id="x:1", title="A Study of Probes", authors=["Ann Lee"], year=2024, source="my.bib"),
        ],
        IngestReport(),
    )
    schema.downgrade(db.engine, "0002")
    assert "work_conflict" not in inspect(db.engine).get_table_names()
    with db.engine.begin() as connection:  # stored before links were checked
        connection.execute(text("UPDATE work SET url = ' JavaScript:alert(1)' WHERE id = 'x:1'"))
    with db.engine.connect() as connection:
        before = connection.execute(text("SELECT id, title, authors, aliases, curated FROM work ORDER BY id")).all()
    db.close()

    upgraded = Database(database_url)
    try:
        assert schema.current_revision(upgraded.engine) == schema.head_revision()
        with upgraded.engine.connect() as connection:
            after = connection.execute(text("SELECT id, title, authors, aliases, curated FROM work ORDER BY id")).all()
        assert after == before
        works = upgraded.works(["arxiv:2401.05566", "x:1"])
        sleeper, probes = works["arxiv:2401.05566"], works["x:1"]
        kinds = {f: p["kind"] for f, p in sleeper.provenance.items()}
        assert kinds == {
            "title": "curated",
            "kind": "curated",
            "aliases": "curated",
            "arxiv_id": "records",
            "url": "records",
        }
        assert set(probes.provenance) == {"kind", "title", "authors", "year"}
        assert {p["name"] for p in probes.provenance.values()} == {"my.bib"}  # its only source
        assert sleeper.enriched_at is None and probes.enriched_at is None
        assert (sleeper.url, probes.url) == ("https://arxiv.org/abs/2401.05566", None)
        # The new table works: a refused alias claim is stored once however often it comes.
        merger = RecordMerger(upgraded)
        hostile = WorkRecord(id="x:2", title="Something else entirely", aliases=["The Sleeper Agents paper"])
        for _ in range(2):
            report = IngestReport()
            merger.store([hostile], report, origin=Origin(kind="api", name="forum-plugin"))
            assert [c.work_id for c in report.conflicts] == ["arxiv:2401.05566"]
        assert [c.target_id for c in upgraded.conflicts("arxiv:2401.05566")] == ["x:2"]
    finally:
        upgraded.close()
    assert drift(database_url) == []
