"""Shared fixtures: real stores in temporary directories and the real bundled embedding model."""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import cli_common
from bot.embedding import Embedder, embedder_for
from bot.engine import Engine
from bot.settings import Settings
from tests.backends import BACKENDS, Backends
from tests.metadata.fakes import FakeApis

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run (loading takes seconds)."""
    settings = Settings()
    return embedder_for(settings)


def pytest_report_header() -> str:
    return BACKENDS.describe()


# What marks code that opens a store: a test whose module or fixtures contain none of these never touches
# the database or the vector store, so the production-stores pass (which only swaps the stores) skips it.
_STORE_WORDS = ("make_settings", "BACKENDS", "Backends", "database_url", "Engine.open", "Database(", "embedder")


def _touches_stores(item: pytest.Item) -> bool:
    if not isinstance(item, pytest.Function):
        return True
    sources = [inspect.getsource(item.module)] if item.module else []
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        # The project's own fixtures, but the autouse `backends` one that every test has.
        ours = [d for d in definitions if d.func.__module__.startswith("tests") and d.argname != "backends"]
        sources += [inspect.getsource(d.func) for d in ours]
    return any(word in source for source in sources for word in _STORE_WORDS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not BACKENDS.production:
        return
    dropped = [item for item in items if not _touches_stores(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


@pytest.fixture(scope="session", autouse=True)
def backends() -> Iterator[Backends]:
    """The run's stores (see tests/backends.py); a Chroma server is reached through CHROMA_HOST/CHROMA_PORT."""
    BACKENDS.start()
    saved = {name: os.environ.get(name) for name in ("CHROMA_HOST", "CHROMA_PORT")}
    if BACKENDS.chroma is not None:
        os.environ.update(CHROMA_HOST=BACKENDS.chroma.host, CHROMA_PORT=str(BACKENDS.chroma.port))
    yield BACKENDS
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    BACKENDS.stop()


@pytest.fixture(autouse=True)
def commands_close_what_they_open() -> Iterator[None]:
    """A command run in-process must leave nothing open: `bot.cli.app`'s callback closes its Services (a test
    app without that callback leaked one per command and broke a later test's count in the same process)."""
    yield
    left = list(cli_common._opened)
    cli_common.close_services()
    assert not left, f"{len(left)} Services left open: invoke `bot.cli.app`, whose callback closes them"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the developer's environment: own data dir and stores (see tests/backends.py)."""
    values: dict[str, object] = {**BACKENDS.settings_values(data_dir), "llm_provider": None}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def engines_built(
    directory: Path, embedder: Embedder, settings_for: Callable[..., dict[str, Any]]
) -> Iterator[Callable[..., Engine]]:
    """For factory fixtures (`yield from`): `build(name, **overrides)` opens an engine with nothing ingested in
    `directory / name`, its settings from `settings_for(**overrides)`; every engine built is closed at the end."""
    engines: list[Engine] = []

    def build(name: str = "kb", **overrides: Any) -> Engine:
        values = {"load_bundled_knowledge": False, **settings_for(**overrides)}
        engines.append(Engine.open(make_settings(directory / name, **values), embedder=embedder))
        return engines[-1]

    yield build
    for engine in engines:
        engine.close()


OpenEngine = Callable[[], Engine]


@pytest.fixture(scope="module")
def open_engine(embedder: Embedder) -> Iterator[OpenEngine]:
    """A fresh, empty engine per call: hypothesis examples share function-scoped fixtures, so property tests
    that write open one per example."""
    engines: list[Engine] = []
    with tempfile.TemporaryDirectory(prefix="engines-") as directory:

        def new() -> Engine:
            data_dir = Path(directory) / f"kb{len(engines)}"
            engines.append(Engine.open(make_settings(data_dir, load_bundled_knowledge=False), embedder=embedder))
            return engines[-1]

        yield new
        for engine in engines:
            engine.close()


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    """Fake arXiv, Semantic Scholar and OpenAlex servers on loopback with real-shaped answers."""
    fake = FakeApis().start()
    yield fake
    fake.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh database of the run's kind (SQLite file or PostgreSQL database) for tests of storage code."""
    return BACKENDS.database_url(tmp_path / "db") or f"sqlite:///{tmp_path / 'db.sqlite3'}"


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
