"""The run really uses the stores it announces (a settings mistake once ran "PostgreSQL" tests on SQLite)."""

from __future__ import annotations

from bot.engine import Engine
from tests.backends import BACKENDS


def test_the_shared_engine_uses_the_runs_stores(engine: Engine) -> None:
    status = engine.status()
    assert status["database"].startswith("postgresql" if BACKENDS.postgres else "sqlite")
    if BACKENDS.chroma is not None:
        assert status["chroma"] == f"{BACKENDS.chroma.host}:{BACKENDS.chroma.port}"
        assert engine.vectors.client.get_settings().chroma_server_http_port == BACKENDS.chroma.port
    else:
        assert status["chroma"].endswith("chroma")
    assert status["vectors"] == status["works"] > 200  # the bundled reading list, embedded on that server
