"""`alignbot reddit` is registered on the main CLI and names what is missing before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


def test_reddit_command_needs_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD", "SUBREDDITS"):
        monkeypatch.delenv(f"REDDIT_{name}", raising=False)
        monkeypatch.delenv(f"ALIGNBOT_REDDIT_{name}", raising=False)
    monkeypatch.setenv("REDDIT_CLIENT_ID", "cid")
    result = CliRunner().invoke(app, ["reddit", "--data-dir", str(tmp_path / "kb")])
    assert result.exit_code == 2
    assert "REDDIT_CLIENT_SECRET, REDDIT_USERNAME, REDDIT_PASSWORD, ALIGNBOT_REDDIT_SUBREDDITS" in result.output
    assert "REDDIT_CLIENT_ID" not in result.output
    assert not (tmp_path / "kb").exists()  # failed before opening the knowledge base


def test_reddit_command_help() -> None:
    result = CliRunner().invoke(app, ["reddit", "--help"])
    assert result.exit_code == 0
    assert "--dry-run" in result.output and "--live" in result.output
