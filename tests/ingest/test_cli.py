"""`alignbot show` and `alignbot enrich` in-process with typer's runner (the model loads once), against the fake
metadata APIs and the run's stores."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from tests.conftest import make_settings
from tests.metadata.fakes import FakeApis, json_answer

_FOREIGN_ENV = re.compile(r"^(ALIGNBOT_|DATABASE_URL$|CHROMA_|OPENAI_|ANTHROPIC_|OLLAMA_|COLUMNS$|LINES$)")
RECORDS = [
    {"id": "arxiv:2305.04388", "arxiv_id": "2305.04388", "title": "Language Models Don't Always Say What They Think"},
    {"doi": "10.1145/3442188.3445922", "title": "On the Dangers of Stochastic Parrots", "authors": ["Bender"]},
]


@pytest.fixture
def cli(apis: FakeApis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    for name in list(os.environ):
        if _FOREIGN_ENV.match(name) and name not in ("CHROMA_HOST", "CHROMA_PORT"):
            monkeypatch.delenv(name)
    settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False, **apis.settings())
    values = settings.model_dump(include={"data_dir", "load_bundled_knowledge", "chroma_collection"})
    for name, value in {**values, **apis.settings()}.items():  # flat names: ALIGNBOT_ARXIV_API_URL …
        monkeypatch.setenv(f"ALIGNBOT_{name.upper()}", str(value))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    if settings.chroma_host is None:
        monkeypatch.setenv("ALIGNBOT_CHROMA_HOST", "")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_ingest_enrich_and_show(cli: Callable[..., Result], apis: FakeApis, tmp_path: Path) -> None:
    assert cli("ingest", "mine.jsonl").exit_code == 0
    preview = cli("enrich", "--dry-run", "--json")
    assert preview.exit_code == 0, preview.output
    report = json.loads(preview.stdout.splitlines()[-1])
    assert report["dry_run"] and report["checked"] == 2 and report["remaining"] == 2
    assert report["changed"][0]["fields"]["abstract"] == "arxiv"
    done = cli("enrich")
    assert done.exit_code == 0, done.output
    assert "2 works checked: 2 changed" in done.stderr and "0 left to check" in done.stderr
    assert "Say What They Think: changed authors (arxiv), year (arxiv), abstract (arxiv)" in done.stdout
    assert (
        "Stochastic Parrots: changed authors (s2), year (s2), abstract (openalex), url (s2), venue (s2)" in done.stdout
    )
    shown = cli("show", "2305.04388", "--json")
    assert shown.exit_code == 0, shown.output
    work = json.loads(shown.stdout)
    assert work["id"] == "arxiv:2305.04388" and work["abstract"].startswith("Large Language Models")
    assert work["provenance"]["abstract"]["kind"] == "enrich" and work["provenance"]["abstract"]["name"] == "arxiv"
    assert work["provenance"]["title"] == {
        "kind": "file",
        "name": str((tmp_path / "mine.jsonl").resolve()),
        "at": work["provenance"]["title"]["at"],
    }
    assert work["enriched_at"] and work["conflicts"] == []
    human = cli("show", "https://doi.org/10.1145/3442188.3445922")
    assert human.exit_code == 0 and "enrich openalex" in human.stdout and "file mine.jsonl" in human.stdout
    missing = cli("show", "arxiv:2501.99999")
    assert missing.exit_code == 1 and "no work 'arxiv:2501.99999'" in missing.stderr


def test_enrich_exit_codes(cli: Callable[..., Result], apis: FakeApis) -> None:
    assert cli("ingest", "mine.jsonl").exit_code == 0
    assert cli("enrich", "--source", "crossref").exit_code == 2
    apis.script = [json_answer(503, {})] * 3  # arXiv fails for the first work
    failed = cli("enrich", "--source", "arxiv")
    assert failed.exit_code == 3 and "arXiv: answered HTTP 503" in failed.stderr
    assert "1 left to check" in failed.stderr  # asked again next time
    assert cli("enrich", "--source", "arxiv").exit_code == 0


def test_ingest_says_what_it_refused_and_show_lists_it(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    ours = {
        "id": "arxiv:2305.04388",
        "arxiv_id": "2305.04388",
        "title": "Language Models Don't Always Say",
        "summary": "Ours.",
    }
    (knowledge / "reading_list.jsonl").write_text(json.dumps(ours) + "\n")
    monkeypatch.setenv("ALIGNBOT_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE", "true")
    (tmp_path / "theirs.jsonl").write_text(json.dumps({**ours, "summary": "Theirs."}) + "\n")
    ingested = cli("ingest", "theirs.jsonl")
    assert ingested.exit_code == 0, ingested.output
    assert "1 changes to curated works refused and kept for a moderator" in ingested.stderr
    shown = cli("show", "arxiv:2305.04388")
    assert "summary   Ours.  [curated list reading_list.jsonl]" in shown.stdout
    assert (
        "summary: 'Theirs.' from file theirs.jsonl — a curated work's value is changed only by the curated list"
        in shown.stdout
    )
