"""Commands load only what they need: the embedding stack, Chroma and the front ends' libraries are imported
on first use, so commands that never embed start fast (bench/startup.py measures how fast)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from tests.backends import BACKENDS
from tests.conftest import FIXTURES, make_settings

REPO = Path(__file__).resolve().parents[1]
EMBEDDING_STACK = ("torch", "sentence_transformers", "transformers", "onnxruntime", "tokenizers")
FRONT_ENDS = ("discord", "praw", "fastapi", "uvicorn", "langchain_core")
# Libraries `cite` does without: alembic (only to migrate), scipy (bm25s imports it for a backend the index
# never uses), httpx (live metadata clients), and the modules of the other sub-commands.
DEFERRED = ("alembic", "scipy", "httpx", "bot.commands.moderation", "bot.commands.fetch", "bot.http.cli")
# What the review queue and decisions do without: the rule file (YAML, the rules' settings) and text parsing.
RULE_FILE = ("yaml", "bot.moderation.config", "markdown_it", "selectolax")

# Runs one CLI command in this process, then prints which of the named modules got imported.
PROBE = """
import json, sys
from bot.cli import app
try:
    app(sys.argv[2:])
except SystemExit as exit:
    if exit.code:
        raise
print(json.dumps([name for name in json.loads(sys.argv[1]) if name in sys.modules]), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    directory = tmp_path_factory.mktemp("startup")
    engine = Engine.open(make_settings(directory, load_bundled_knowledge=False), embedder=embedder)
    engine.ingest([FIXTURES / "papers.jsonl"])
    engine.close()
    return directory


def cli_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, **BACKENDS.env(data_dir), "PYTHONPATH": str(REPO), "ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE": "false"}


def imported(data_dir: Path, *command: str, also: tuple[str, ...] = ()) -> list[str]:
    watched = [*EMBEDDING_STACK, *FRONT_ENDS, "chromadb", "datasketch", *also]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *command],
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_cite_imports_no_model_no_chroma_and_no_front_end(data_dir: Path) -> None:
    assert imported(data_dir, "cite", "Turpin et al. 2023", "--json", also=DEFERRED) == []


def test_queue_imports_no_model_no_chroma_and_no_rule_file(data_dir: Path) -> None:
    assert imported(data_dir, "queue", "--json", also=RULE_FILE) == []


def test_decide_reads_no_rule_file_unless_it_stores_a_post(data_dir: Path, tmp_path: Path) -> None:
    submission = tmp_path / "submission.json"
    fields = {"id": "s1", "forum": "alignment", "title": "Is chain of thought faithful?", "submitter": "ann"}
    submission.write_text(json.dumps(fields | {"body": "We test stated reasoning.", "authors": [{"handle": "ann"}]}))
    checked = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", str(submission), "--json"],
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = str(json.loads(checked.stdout)["report_id"])
    assert imported(data_dir, "decide", report, "needs-changes", "--by", "m", "--reason", "r", also=RULE_FILE) == []
    stored = imported(data_dir, "decide", report, "approved", "--by", "m", "--reason", "r", also=RULE_FILE)
    assert "bot.moderation.config" in stored  # the approved post is sketched with the rule file's parameters


def test_status_reads_the_database_and_verify_opens_chroma(data_dir: Path) -> None:
    assert imported(data_dir, "status", "--json") == []
    assert imported(data_dir, "status", "--verify", "--json") == ["chromadb"]


def test_status_without_verify_agrees_with_the_vector_store(data_dir: Path, embedder: Embedder) -> None:
    engine = Engine.open(make_settings(data_dir, load_bundled_knowledge=False), embedder=embedder)
    try:
        recorded, verified = engine.status(verify=False), engine.status(verify=True)
    finally:
        engine.close()
    assert recorded.pop("vectors_verified") is False and verified.pop("vectors_verified") is True
    assert recorded == verified and recorded["vectors"] == recorded["works"] > 0


def test_each_lazily_registered_command_is_registered_by_its_module() -> None:
    from bot.cli import LAZY_COMMANDS, registered_by

    for module in set(LAZY_COMMANDS.values()):
        assert set(registered_by(module)) == {name for name, where in LAZY_COMMANDS.items() if where == module}


def test_help_lists_every_command() -> None:
    from typer.testing import CliRunner

    from bot.cli import LAZY_COMMANDS, app

    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert {"ingest", "ask", "cite", "bibliography", "status", "db", *LAZY_COMMANDS} <= listed


def test_ask_loads_the_onnx_model_without_torch(data_dir: Path) -> None:
    loaded = imported(data_dir, "ask", "chain of thought faithfulness", "--json")
    assert "onnxruntime" in loaded and "chromadb" in loaded
    assert not {"torch", "sentence_transformers", "transformers"} & set(loaded)
