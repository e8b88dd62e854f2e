"""`alignbot fetch arxiv|s2|openalex` against the fake APIs: in-process with typer's runner (the model loads
once), and once as users run it, the installed script in a subprocess. Exit codes: 0 stored or present,
1 nothing found, 2 a request that cannot be made, 3 the API failed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.storage import Database

from .fakes import FakeApis, json_answer

_FOREIGN_ENV = re.compile(r"^(ALIGNBOT_|DATABASE_URL$|CHROMA_|OPENAI_|ANTHROPIC_|OLLAMA_|COLUMNS$|LINES$)")


def environment(apis: FakeApis, data_dir: Path, **overrides: Any) -> dict[str, str]:
    values = {"data_dir": data_dir, "load_bundled_knowledge": False, **apis.settings(**overrides)}
    return {f"ALIGNBOT_{name.upper()}": str(value) for name, value in values.items()}


@pytest.fixture
def cli(apis: FakeApis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    for name in list(os.environ):
        if _FOREIGN_ENV.match(name):
            monkeypatch.delenv(name)
    for name, value in environment(apis, tmp_path / "kb").items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no developer .env
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["fetch", *args])


def count_works(data_dir: Path) -> int:
    db = Database(f"sqlite:///{data_dir / 'alignbot.sqlite3'}")
    try:
        return db.count_works()
    finally:
        db.close()


def test_lookup_json_then_present(cli: Callable[..., Result], apis: FakeApis, tmp_path: Path) -> None:
    first = cli("arxiv", "https://arxiv.org/abs/2305.04388v2", "--json")
    assert first.exit_code == 0, first.output
    [line] = first.stdout.splitlines()  # one JSON object, nothing else on stdout
    result = json.loads(line)
    assert set(result) == {"source", "query", "identifier", "from_knowledge_base", "dry_run", "works"}
    assert [(w["status"], w["work"]["id"]) for w in result["works"]] == [("added", "arxiv:2305.04388")]
    again = cli("s2", "arXiv:2305.04388")
    assert again.exit_code == 0
    assert re.search(r"present\s+arxiv:2305\.04388\s+Language Models Don't Always Say", again.stdout)
    assert "0 added, 0 updated, 1 already present (found in the knowledge base; no request made)" in again.stderr
    assert len(apis.requests) == 1 and count_works(tmp_path / "kb") == 1


def test_search_words_need_no_quotes_and_dry_run_stores_nothing(
    cli: Callable[..., Result], apis: FakeApis, tmp_path: Path
) -> None:
    preview = cli("openalex", "stochastic", "parrots", "--limit", "2", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "would add" in preview.stdout and "dry run, nothing stored: 2 would be added" in preview.stderr
    assert apis.to("openalex")[0].query["search"] == "stochastic parrots"
    assert count_works(tmp_path / "kb") == 0
    stored = cli("openalex", "stochastic", "parrots", "-n", "2")
    assert stored.exit_code == 0 and "2 added, 0 updated, 0 already present" in stored.stderr
    assert count_works(tmp_path / "kb") == 2


def test_nothing_found_is_exit_1(cli: Callable[..., Result], tmp_path: Path) -> None:
    missing = cli("arxiv", "2501.99999")
    assert missing.exit_code == 1 and "arXiv has no paper 2501.99999" in missing.stderr
    assert cli("s2", "DOI:10.9999/none", "--json").exit_code == 1


def test_a_request_that_cannot_be_made_is_exit_2(cli: Callable[..., Result], apis: FakeApis) -> None:
    doi = cli("arxiv", "doi:10.1145/3442188.3445922")
    assert doi.exit_code == 2
    assert "error: arXiv looks papers up by arXiv id, not by DOI" in " ".join(doi.stderr.split())
    assert cli("s2", "--limit", "26", "x").exit_code == 2
    assert cli("crossref", "x").exit_code == 2
    assert not apis.requests
    apis.script = [json_answer(400, {"error": "Unrecognized or unsupported fields: [nonsense] [/x]"})]
    refused = cli("s2", "CorpusId:1")  # the API refuses it: also the user's to fix, and shown as sent
    assert refused.exit_code == 2
    assert "refused the request (HTTP 400): Unrecognized or unsupported fields: [nonsense] [/x]" in " ".join(
        refused.stderr.split()
    )


def test_a_failing_api_is_exit_3_and_stores_nothing(cli: Callable[..., Result], apis: FakeApis, tmp_path: Path) -> None:
    apis.script = ["hang"] * 3
    hung = cli("arxiv", "2305.04388")
    assert hung.exit_code == 3
    assert "error: arXiv: did not answer within 0.5 s (3 tries); nothing was stored" in " ".join(hung.stderr.split())
    assert "Traceback" not in hung.output and hung.stdout == ""
    assert count_works(tmp_path / "kb") == 0


def test_the_installed_command(apis: FakeApis, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "alignbot"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]
    env = {k: v for k, v in os.environ.items() if not _FOREIGN_ENV.match(k)}
    env.update(environment(apis, tmp_path / "kb"))
    run = subprocess.run(
        [*command, "fetch", "openalex", "W3128646645", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    [result] = [json.loads(line) for line in run.stdout.splitlines()]
    assert result["identifier"] == "W3128646645"
    assert result["works"][0]["status"] == "added" and result["works"][0]["work"]["doi"] == "10.1145/3442188.3445922"
    assert count_works(tmp_path / "kb") == 1
