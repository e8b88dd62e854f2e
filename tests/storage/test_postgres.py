"""The same storage code on PostgreSQL (127.0.0.1:5432, trust auth): a fresh database per run."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bot.embedding import Embedder
from bot.engine import Engine
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
