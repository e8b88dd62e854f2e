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
# never uses).
DEFERRED = ("alembic", "scipy")

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


def imported(data_dir: Path, *command: str, also: tuple[str, ...] = ()) -> list[str]:
    env = {**os.environ, **BACKENDS.env(data_dir), "PYTHONPATH": str(REPO), "ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE": "false"}
    watched = [*EMBEDDING_STACK, *FRONT_ENDS, "chromadb", "datasketch", *also]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_cite_imports_no_model_no_chroma_and_no_front_end(data_dir: Path) -> None:
    assert imported(data_dir, "cite", "Turpin et al. 2023", "--json", also=DEFERRED) == []


def test_queue_imports_no_model_and_no_chroma(data_dir: Path) -> None:
    assert imported(data_dir, "queue", "--json") == []


def test_status_opens_chroma_but_loads_no_model(data_dir: Path) -> None:
    assert imported(data_dir, "status", "--json") == ["chromadb"]


def test_ask_loads_the_onnx_model_without_torch(data_dir: Path) -> None:
    loaded = imported(data_dir, "ask", "chain of thought faithfulness", "--json")
    assert "onnxruntime" in loaded and "chromadb" in loaded
    assert not {"torch", "sentence_transformers", "transformers"} & set(loaded)
