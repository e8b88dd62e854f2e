"""Fixtures for the metadata tests: fake APIs on the loopback interface, and real engines pointed at them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.settings import REPO_ROOT, Settings
from tests.conftest import engines_built, make_settings

from .fakes import FakeApis

READING_LIST = REPO_ROOT / "knowledge" / "reading_list.jsonl"


@pytest.fixture
def metadata_settings(tmp_path: Path, apis: FakeApis) -> Callable[..., Settings]:
    """Settings for clients without an engine: the fake APIs, no pacing unless a test sets it."""

    def build(**overrides: Any) -> Settings:
        return make_settings(tmp_path / "clients", load_bundled_knowledge=False, **apis.settings(**overrides))

    return build


@pytest.fixture
def make_engine(tmp_path: Path, embedder: Embedder, apis: FakeApis) -> Iterator[Callable[..., Engine]]:
    """Real engines (SQLite, Chroma, MiniLM) whose settings point at the fake APIs; closed after the test."""
    yield from engines_built(tmp_path, embedder, apis.settings)


@pytest.fixture
def fetch_engine(make_engine: Callable[..., Engine]) -> Engine:
    """An empty knowledge base."""
    return make_engine()


@pytest.fixture
def reading_list_engine(make_engine: Callable[..., Engine], tmp_path: Path) -> Engine:
    """A knowledge base loaded as on first run from a bundled reading list: the first works of ours,
    among them Turpin et al. 2023 (arXiv 2305.04388)."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    lines = [line for line in READING_LIST.read_text(encoding="utf-8").splitlines() if line.strip()][:4]
    assert any(json.loads(line)["arxiv_id"] == "2305.04388" for line in lines)
    (knowledge / "reading_list.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return make_engine("curated", knowledge_dir=knowledge, load_bundled_knowledge=True)


def snapshot(engine: Engine) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """Everything stored: works (all fields), their keys, and the vector count."""
    works = [w.model_dump(mode="json") for w in engine.db.iter_works()]
    return works, engine.db.key_map(), engine.vectors.count()
