"""Corrupt store files: a one-line error naming the file and the command that recovers it, never a traceback.

The stores here are always the local files (SQLite and embedded Chroma), whatever backends the run tests:
corruption of a file is what is being tested. The files are really damaged, then the real CLI is run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.settings import Settings
from bot.storage import Database, StoreCorrupt
from bot.storage.chroma import ChromaVectorStore
from tests.test_cli import _FOREIGN_ENV, alignbot_command

RECORDS = [
    {"id": f"test:corrupt-{n}", "title": f"Corruption test paper {n}", "authors": ["Ada Lovelace"], "year": 2020}
    for n in range(3)
]


def damage(path: Path) -> bytes:
    """Overwrite the start of a file (its header) with garbage; returns the damaged bytes."""
    with path.open("r+b") as file:
        file.write(b"\x00garbage, not a store\xff" * 8)
    return path.read_bytes()


def local_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=None, chroma_host=None, load_bundled_knowledge=False)


@pytest.fixture(scope="module")
def healthy_kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A small local knowledge base with embedded works; tests corrupt copies of it."""
    data_dir = tmp_path_factory.mktemp("healthy") / "kb"
    engine = Engine.open(local_settings(data_dir), embedder=embedder)
    report = engine.ingest_records(RECORDS)
    assert report.added == 3 and report.embedded == 3
    engine.close()
    return data_dir


def copy_of(healthy_kb: Path, tmp_path: Path) -> Path:
    # A copy under a new path: chromadb caches clients per path within a process.
    return Path(shutil.copytree(healthy_kb, tmp_path / "kb"))


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not _FOREIGN_ENV.match(k)}
    env.update(ALIGNBOT_DATA_DIR=str(data_dir), ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE="false", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [*alignbot_command(), *args], capture_output=True, text=True, env=env, cwd=data_dir.parent, timeout=300
    )


def recovery_command(message: str) -> str:
    match = re.search(r"with: (.+)$", message)
    assert match, message
    return match.group(1)


def test_a_corrupt_sqlite_file_is_named_with_its_salvage_command(tmp_path: Path) -> None:
    path = tmp_path / "alignbot.sqlite3"
    Database(f"sqlite:///{path}").close()
    damaged = damage(path)
    with pytest.raises(StoreCorrupt) as caught:
        Database(f"sqlite:///{path}")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: the database file is corrupt (file is not a database)")
    assert f"sqlite3 {path} .recover | sqlite3 {path}.recovered && mv {path}.recovered {path}" in message
    assert path.read_bytes() == damaged  # nothing was written over what may still be salvaged


def test_other_database_errors_are_not_called_corruption(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()  # cannot be opened, but is not a damaged database
    with pytest.raises(Exception) as caught:
        Database(f"sqlite:///{tmp_path / 'dir.sqlite3'}")
    assert not isinstance(caught.value, StoreCorrupt)


def test_a_corrupt_chroma_directory_is_named_with_its_recovery_command(tmp_path: Path) -> None:
    healthy = tmp_path / "healthy"
    store = ChromaVectorStore.open(path=healthy, host=None, port=0, collection="c", embedding_name="m")
    store.upsert(["a", "b"], np.random.default_rng(0).random((2, 8), dtype=np.float32))
    path = Path(shutil.copytree(healthy, tmp_path / "kb" / "chroma"))
    damage(path / "chroma.sqlite3")
    with pytest.raises(StoreCorrupt) as caught:
        ChromaVectorStore.open(path=path, host=None, port=0, collection="c", embedding_name="m")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: the Chroma directory cannot be read (")
    assert message.endswith(f"mv {path} {path}.corrupt && alignbot ingest --data-dir {path.parent}")


def test_cli_on_a_corrupt_sqlite_file_prints_one_line_and_fails(healthy_kb: Path, tmp_path: Path) -> None:
    data_dir = copy_of(healthy_kb, tmp_path)
    database = data_dir / "alignbot.sqlite3"
    damage(database)
    run = run_cli(data_dir, "status")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith("opening")]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: {database}: the database file is corrupt") and ".recover" in lines[0]


def test_cli_on_a_corrupt_chroma_directory_fails_then_its_recovery_command_works(
    healthy_kb: Path, tmp_path: Path
) -> None:
    data_dir = copy_of(healthy_kb, tmp_path)
    damage(data_dir / "chroma" / "chroma.sqlite3")
    run = run_cli(data_dir, "status", "--verify")  # plain `status` reads the database only
    assert run.returncode == 2 and "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {data_dir / 'chroma'}: the Chroma directory"), run.stderr
    # The command the message gives, run as the user would (with the installed script), restores the vectors.
    command = recovery_command(lines[0]).replace("alignbot ", " ".join(alignbot_command()) + " ", 1)
    env = {k: v for k, v in os.environ.items() if not _FOREIGN_ENV.match(k)}
    env["ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE"] = "false"
    recovered = subprocess.run(command, shell=True, capture_output=True, text=True, env=env, timeout=300)
    assert recovered.returncode == 0, recovered.stderr
    assert (data_dir / "chroma.corrupt").is_dir()  # moved aside, not deleted
    status = run_cli(data_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["works"] == 3 and info["vectors"] == 3, info
