"""`alignbot sync` as users run it: usage errors, and a harvest killed with kill -9 then run again."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import make_settings
from tests.test_cli import alignbot_command, cli_env, wait_for

from .conftest import ON_TOPIC, PROFILE
from .fakes import FakeOAI, Paper


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arxiv", "--category", "cs AI", "--since", "2026-11-01"], "'cs AI' is not an arXiv category"),
        (["arxiv", "--category", "cs.AI", "--since", "1st of May"], "'1st of May' is not a date (YYYY-MM-DD)"),
        (["arxiv", "-c", "cs.AI", "--since", "2026-11-02", "--until", "2026-11-01"], "is after --until"),
        (["arxiv", "-c", "cs.AI", "--match", "topics.txt", "--topics"], "give --match FILE or --topics, not both"),
        (["arxiv", "-c", "cs.AI", "--match", "missing.txt"], "missing.txt: no such file"),
        (["forum", "--site", "reddit"], "unknown site 'reddit'"),
    ],
)
def test_requests_that_cannot_be_made_exit_2_before_opening_anything(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sync", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())


@pytest.fixture
def month() -> Iterator[FakeOAI]:
    """Thirty papers served three a page, slowly enough to kill the harvest in the middle."""
    papers = [
        Paper(f"2611.{2000 + n:05d}", f"{ON_TOPIC[n % 6][0]}, part {n}", ON_TOPIC[n % 6][1], datestamp="2026-11-21")
        for n in range(30)
    ]
    fake = FakeOAI(papers, page_size=3)
    fake.delay = 0.3
    yield fake
    fake.stop()


def cursor_seen(data_dir: Path) -> int:
    engine = create_engine(make_settings(data_dir).sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT seen FROM sync_cursor WHERE source = 'arxiv:cs:cs:AI'")).first()
    finally:
        engine.dispose()
    return int(row[0]) if row else 0


def test_a_harvest_killed_with_kill_9_resumes_with_no_loss_or_duplicate(month: FakeOAI, tmp_path: Path) -> None:
    data_dir = tmp_path / "kb"
    profile = tmp_path / "topics.txt"
    profile.write_text("\n".join(PROFILE) + "\n", encoding="utf-8")
    command = [*alignbot_command(), "sync", "arxiv", "-c", "cs.AI", "--since", "2026-11-01", "--match", str(profile)]
    env = cli_env(
        data_dir,
        ALIGNBOT_ARXIV_OAI_URL=month.url,
        ALIGNBOT_ARXIV_MIN_INTERVAL_SECONDS="0",
        ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE="false",
        ALIGNBOT_SYNC_RELEVANCE_THRESHOLD="-1",  # keep every paper: this is about resuming, not relevance
        ALIGNBOT_EMBEDDING_MAX_TOKENS="16",
    )
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    try:
        wait_for(lambda: cursor_seen(data_dir) >= 6, proc, timeout=300)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen = cursor_seen(data_dir)
    assert 6 <= seen < 30
    month.requests.clear()

    second = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "arxiv:cs:cs:AI (resumed)" in second.stderr and "next run from 2026-12-01" in second.stderr
    assert "resumptionToken" in month.list_requests()[0]  # resumed, not restarted
    settings = make_settings(data_dir)
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            ids = [row[0] for row in connection.execute(text("SELECT id FROM work"))]
            embedded = connection.execute(text("SELECT count(*) FROM work WHERE vector_hash IS NOT NULL")).scalar()
    finally:
        engine.dispose()
    assert sorted(ids) == [f"arxiv:2611.{2000 + n:05d}" for n in range(30)]  # every paper, each once
    assert embedded == 30
