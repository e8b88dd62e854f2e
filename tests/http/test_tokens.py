"""Tokens at rest, the token CLI, and the rate limiter's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from bot.engine import Engine
from bot.http.cli import register
from bot.http.ratelimit import RateLimiter, retry_after
from bot.http.tokens import TokenError, TokenStore
from bot.storage import Database


def test_only_a_hash_is_stored_and_revoked_tokens_fail(database_url: str) -> None:
    db = Database(database_url)
    store = TokenStore(db)
    info, secret = store.create("forum-plugin", ["write", "write", "READ"])
    assert secret.startswith("abt_") and len(secret) > 40
    assert info.scopes == ["write", "read"]
    with db.session() as session:
        raw = " ".join(str(v) for row in session.execute(text("SELECT * FROM api_token")).all() for v in row)
    assert secret not in raw and secret[4:] not in raw
    verified = store.verify(secret)
    assert verified is not None and verified.name == "forum-plugin"
    assert verified.allows("read") and verified.allows("write") and not verified.allows("moderate")
    assert store.verify(secret + "x") is None and store.verify("nonsense") is None
    assert [t.name for t in store.revoke("forum-plugin")] == ["forum-plugin"]
    assert store.verify(secret) is None and store.get(info.id) is None
    assert store.revoke("forum-plugin") == []
    db.close()


def test_bad_token_requests(database_url: str) -> None:
    store = TokenStore(Database(database_url))
    for name, scopes, rate in (("", ["read"], None), ("x", ["admin"], None), ("x", ["read"], 0)):
        try:
            store.create(name, scopes, rate)
        except TokenError:
            continue
        raise AssertionError(f"accepted {name!r} {scopes} {rate}")


def test_token_cli_create_list_revoke(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    created = runner.invoke(app, ["token", "create", "ana", "--scope", "moderate", "--rate", "300", *data])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("abt_")
    listed = runner.invoke(app, ["token", "list", "--json", *data])
    [row] = json.loads(listed.stdout)
    assert row["name"] == "ana" and row["scopes"] == ["moderate"] and row["rate_per_minute"] == 300
    assert secret not in listed.stdout
    bad = runner.invoke(app, ["token", "create", "x", "--scope", "root", *data])
    assert bad.exit_code == 2 and "unknown scope(s) root" in bad.output
    assert runner.invoke(app, ["token", "revoke", str(row["id"]), *data]).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", str(row["id"]), *data]).exit_code == 1
    assert json.loads(runner.invoke(app, ["token", "list", "--json", *data]).stdout)[0]["revoked"] is True


def test_token_bucket(database_url: str) -> None:
    now = [0.0]
    limiter = RateLimiter(Database(database_url).engine, clock=lambda: now[0])
    assert [limiter.take("a", 60, 2) for _ in range(2)] == [0, 0]
    wait = limiter.take("a", 60, 2)
    assert wait == 1.0 and retry_after(wait) == "1"
    assert limiter.take("b", 60, 2) == 0  # buckets are per key
    now[0] = 0.5
    assert limiter.take("a", 60, 2) == 0.5
    now[0] = 10
    assert limiter.take("a", 60, 2) == 0  # refilled, but never above the burst
    assert limiter.take("a", 60, 2) == 0
    assert limiter.take("a", 60, 2) > 0


def test_limiter_forgets_idle_keys(database_url: str) -> None:
    db = Database(database_url)
    now = [0.0]
    limiter = RateLimiter(db.engine, clock=lambda: now[0])
    for key in "abc":
        limiter.take(key, 60, 5)
    now[0] = 2 * RateLimiter.IDLE_SECONDS
    limiter.take("d", 60, 5)
    with db.session() as session:
        assert [row[0] for row in session.execute(text("SELECT key FROM rate_bucket")).all()] == ["d"]


def test_alignbot_serve_builds_the_app_and_runs_uvicorn(
    monkeypatch: pytest.MonkeyPatch, empty_engine: Engine, tmp_path: Path
) -> None:
    """`alignbot serve` wiring, without a real server: the app it would run answers health checks."""
    import uvicorn

    from bot.cli import app as cli

    served: dict[str, Any] = {}
    monkeypatch.setattr(Engine, "open", classmethod(lambda cls, settings=None, **_: empty_engine))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    result = CliRunner().invoke(cli, ["serve", "--port", "9123", "--open-reads", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 9123)
    assert "no API tokens yet" in result.output
    with TestClient(served["app"]) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.post("/v1/cite", json={"reference": "anything"}).status_code == 200  # open reads
    missing = CliRunner().invoke(cli, ["serve", "--config", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.output
