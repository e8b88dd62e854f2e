"""Shared fixtures: real stores in temporary directories and the real bundled embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.embedding import Embedder, load_embedder
from bot.engine import Engine
from bot.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run (loading takes seconds)."""
    settings = Settings()
    return load_embedder(settings.embedding_model, settings.embedding_max_tokens, settings.embedding_batch_size)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the developer's environment: own data dir, SQLite unless told otherwise."""
    values: dict[str, object] = {"data_dir": data_dir, "database_url": None, "chroma_host": None, "llm_provider": None}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    """A read-only engine over the bundled reading list, as a new user gets it on first run.

    Tests that write use `empty_engine` instead.
    """
    engine = Engine.open(make_settings(tmp_path_factory.mktemp("kb")), embedder=embedder)
    engine.warm_up()
    yield engine
    engine.close()


@pytest.fixture
def empty_engine(tmp_path: Path, embedder: Embedder) -> Iterator[Engine]:
    """A fresh engine with nothing ingested (no bundled reading list)."""
    engine = Engine.open(make_settings(tmp_path / "kb", load_bundled_knowledge=False), embedder=embedder)
    yield engine
    engine.close()
