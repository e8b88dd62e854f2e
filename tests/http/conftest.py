"""Fixtures for the HTTP tests: the real app over real engines (SQLite + Chroma in tmp dirs, the real
embedder). Reads use the shared read-only `engine`; moderation, which records reports and decisions,
uses an engine of its own with a small knowledge base, members and existing posts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.app import create_app
from bot.http.config import ServerSettings
from bot.moderation.service import Moderator
from bot.settings import REPO_ROOT
from tests.conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures"
RULES = REPO_ROOT / "knowledge" / "moderation.yaml"


def settings(**overrides: Any) -> ServerSettings:
    """Server settings isolated from the environment; generous limits unless a test sets its own."""
    values: dict[str, Any] = {"rate_per_minute": 6000, "rate_burst": 1000, "anonymous_rate_per_minute": 6000}
    values.update(overrides)
    return ServerSettings(_env_file=None, **values)  # type: ignore[call-arg]


def text(name: str) -> str:
    return (FIXTURES / "texts" / f"{name}.md").read_text(encoding="utf-8")


def lightly_edit(original: str, opening: str = "In this post I share some thoughts.") -> str:
    """A text passed off with small edits: a new opening, a dropped sentence, a few swapped words."""
    body = re.sub(r"^#.*\n", "", original).strip()
    sentences = re.split(r"(?<=[.!?])\s+", body)
    if len(sentences) > 6:
        del sentences[len(sentences) // 2]
    edited = " ".join(sentences)
    for old, new in {"simple": "straightforward", "think": "believe", "often": "frequently"}.items():
        edited = re.sub(rf"\b{old}\b", new, edited, count=2)
    return f"{opening}\n\n{edited}"


def submission(**overrides: Any) -> dict[str, Any]:
    """A submission as a forum plugin sends it (JSON)."""
    data: dict[str, Any] = {
        "id": "sub-1",
        "forum": "alignmentforum",
        "title": "A submission",
        "body": text("erin_original"),
        "body_format": "markdown",
        "url": None,
        "canonical_url": None,
        "submitter": "erin",
        "authors": [{"handle": "erin", "confirmed": True}],
        "members_forum": True,
        "posted_at": "2025-07-01T12:00:00Z",
    }
    data.update(overrides)
    return data


def pasted_submission() -> dict[str, Any]:
    """Zoe's blog post passed off by Erin: `not-own-content` with passages to compare."""
    return submission(id="pasted-1", title="Evaluation awareness, a worry", body=lightly_edit(text("zoe_blog")))


def resubmission() -> dict[str, Any]:
    """Mallory's rejected post again, lightly edited: `duplicate-post` with the rejection reason."""
    return submission(
        id="mallory-2",
        title="Rewarding confessions, revisited",
        body=lightly_edit(text("mallory_rejected")),
        submitter="mallory",
        authors=[{"handle": "mallory", "confirmed": True}],
    )


def populate(moderator: Moderator, reading_list: int = 40) -> None:
    """The fixture knowledge base (plus the first works of our reading list), members and existing posts."""
    records = [json.loads(line) for line in (FIXTURES / "kb.jsonl").read_text(encoding="utf-8").splitlines() if line]
    lines = (REPO_ROOT / "knowledge" / "reading_list.jsonl").read_text(encoding="utf-8").splitlines()
    records += [json.loads(line) for line in lines[:reading_list] if line.strip()]
    moderator.engine.ingest_records(records)
    assert not moderator.import_members(FIXTURES / "members.jsonl").errors
    assert not moderator.ingest_posts(FIXTURES / "posts.jsonl").errors


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
def mod_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    engine = Engine.open(
        make_settings(tmp_path_factory.mktemp("http-mod"), load_bundled_knowledge=False), embedder=embedder
    )
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def moderator(mod_engine: Engine) -> Moderator:
    moderator = Moderator(mod_engine, config_path=RULES)
    populate(moderator)
    return moderator


@pytest.fixture(scope="session")
def mod_app(mod_engine: Engine, moderator: Moderator) -> FastAPI:
    return create_app(mod_engine, moderator, settings())


@pytest.fixture(scope="session")
def secrets(mod_app: FastAPI) -> dict[str, str]:
    """One token per scope on the moderation app."""
    store = mod_app.state.ctx.tokens
    return {scope: store.create(f"{scope}-bot", [scope])[1] for scope in ("read", "write", "moderate")}


@pytest.fixture
def client(mod_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(mod_app) as client:
        yield client


@pytest.fixture(scope="session")
def read_app(engine: Engine) -> FastAPI:
    """The app over the shared read-only engine (the bundled reading list); nothing here records reports."""
    return create_app(engine, Moderator(engine, config_path=RULES), settings())


@pytest.fixture(scope="session")
def read_secret(read_app: FastAPI) -> str:
    return read_app.state.ctx.tokens.create("plugin", ["read"])[1]


@pytest.fixture
def reader(read_app: FastAPI, read_secret: str) -> Iterator[TestClient]:
    with TestClient(read_app, headers=bearer(read_secret)) as client:
        yield client
