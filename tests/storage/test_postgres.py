"""The same storage code on PostgreSQL (127.0.0.1:5432, trust auth): a fresh database per run."""

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.embedding import Embedder
from bot.engine import Engine
from bot.storage import Database, Work, schema
from tests.conftest import FIXTURES, make_settings

ADMIN_URL = os.environ.get("ALIGNBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise  # CI machines run PostgreSQL: its absence there is a failure, not a skip
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {exc}")
    name = f"alignbot_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_ingest_merge_and_answers_on_postgresql(postgres_url: str, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path, database_url=postgres_url, load_bundled_knowledge=False)
    engine = Engine.open(settings, embedder=embedder)
    try:
        report = engine.ingest([FIXTURES / "papers.jsonl", FIXTURES / "papers.bib"])
        assert report.added == 7 and len(report.errors) == 4
        assert engine.db.count_works() == 7
        assert engine.ingest([FIXTURES / "papers.jsonl"], force=True).unchanged == 7
        assert engine.cite("Jacovi & Goldberg").match.arxiv_id == "2004.03685"  # type: ignore[union-attr]
        assert engine.ask("do chain of thought explanations reflect the model's real reasons?").confident
        assert "postgresql" in engine.status()["database"]
    finally:
        engine.close()


def terminate(postgres_url: str, pid: int | None = None) -> int:
    """End server connections to the test database, as a PostgreSQL restart or a failover does."""
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            + (" AND pid = %s" if pid else ""),
            (name, pid) if pid else (name,),
        ).fetchall()
    return len(rows)


def test_instances_starting_together_migrate_once(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            Database(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_engine(postgres_url)
    assert schema.current_revision(engine) == schema.head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_dropped_connections_are_replaced_between_requests(
    postgres_url: str, tmp_path: Path, embedder: Embedder
) -> None:
    engine = Engine.open(
        make_settings(tmp_path, database_url=postgres_url, load_bundled_knowledge=False), embedder=embedder
    )
    try:
        engine.ingest([FIXTURES / "papers.jsonl"])
        before = engine.status()
        engine.cite("Jacovi & Goldberg")  # the pool now holds a connection
        assert terminate(postgres_url) >= 1
        assert engine.cite("Jacovi & Goldberg").confident
        assert engine.ask("do chain of thought explanations reflect the model's real reasons?").confident
        terminate(postgres_url)
        report = engine.ingest_records([{"id": "post:x", "title": "Probing for deception", "authors": ["Ana"]}])
        assert report.added == 1 and report.embedded == 1
        assert engine.status()["works"] == before["works"] + 1
    finally:
        engine.close()


@pytest.mark.parametrize("drops", [1, 2], ids=["retried", "failed-then-resumed"])
def test_a_connection_dropped_mid_ingest_loses_and_duplicates_nothing(
    drops: int, postgres_url: str, tmp_path: Path, embedder: Embedder
) -> None:
    """The connection dies inside a batch's transaction: that batch is retried once on a new connection; if the
    new one dies too the ingest fails with the error, and running it again resumes from the checkpoint."""
    papers = tmp_path / "papers.jsonl"
    rows = [{"id": f"paper:{n}", "title": f"Study {n} of reward hacking", "authors": [f"A{n}"]} for n in range(1200)]
    papers.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    settings = make_settings(tmp_path, database_url=postgres_url, load_bundled_knowledge=False)
    engine = Engine.open(settings, embedder=embedder)
    inserts: list[str] = []
    killed: list[int] = []

    @event.listens_for(engine.db.engine, "before_cursor_execute")
    def kill_during_second_batch(connection, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO work "):
            inserts.append(statement)
            if len(inserts) >= 2 and len(killed) < drops:  # the first batch is committed by now
                killed.append(connection.connection.dbapi_connection.info.backend_pid)
                terminate(postgres_url, killed[-1])

    try:
        if drops == 1:
            report = engine.ingest([papers], embed=False)
        else:
            with pytest.raises(OperationalError):
                engine.ingest([papers], embed=False)
            event.remove(engine.db.engine, "before_cursor_execute", kill_during_second_batch)
            report = engine.ingest([papers], embed=False)  # resumes from the checkpoint
        assert len(killed) == drops
        assert engine.db.count_works() == len(rows)
        assert engine.db.checkpoint(str(papers.resolve())).complete  # type: ignore[union-attr]
        with engine.db.session() as session:
            ids = session.exec(select(Work.id)).all()
        assert sorted(ids) == sorted(row["id"] for row in rows)  # each exactly once
        assert report.errors == []
    finally:
        engine.close()
