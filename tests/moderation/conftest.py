"""Fixtures for the moderation tests: a real engine (SQLite + Chroma in tmp dirs, the real embedder) with
a small knowledge base, the community members and the existing posts from `fixtures/`."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.moderation.schemas import Submission
from bot.moderation.service import Moderator

try:  # tests/ may or may not be a package; the shared helper is the same either way
    from tests.conftest import make_settings
except ImportError:  # pragma: no cover
    from conftest import make_settings  # type: ignore[no-redef]

FIXTURES = Path(__file__).parent / "fixtures"


FORUM_DATA = json.loads((FIXTURES / "forummagnum.json").read_text(encoding="utf-8"))
_ALIAS = re.compile(r"(u\d+): user\(input: \{selector: \{_id: \$(id\d+)\}\}\)")


class FakeForum:
    """Answers the two queries the client sends, like a ForumMagnum server does; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: list[int] = []  # HTTP statuses to answer with first, one per request
        self.graphql_error: str | None = None

    def answer(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append(payload)
        if self.fail_with:
            return self.fail_with.pop(0), {"error": "unavailable"}
        if self.graphql_error:
            return 200, {"errors": [{"message": self.graphql_error}], "data": None}
        query, variables = payload["query"], payload.get("variables") or {}
        if "posts(input: {terms: $terms})" in query:
            terms = variables["terms"]
            posts = [p for p in FORUM_DATA["posts"] if "af" not in terms or p["af"] == terms["af"]]
            page = posts[terms["offset"] : terms["offset"] + terms["limit"]]
            return 200, {"data": {"posts": {"results": page, "__typename": "MultiPostOutput"}}}
        users = {u["_id"]: u for u in FORUM_DATA["users"]}
        data = {alias: {"result": users.get(variables[var])} for alias, var in _ALIAS.findall(query)}
        if not data:
            return 400, {"errors": [{"message": "Unknown query"}]}
        return 200, {"data": data}


@pytest.fixture
def forum() -> Iterator[tuple[FakeForum, str]]:
    fake = FakeForum()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            status, body = fake.answer(json.loads(self.rfile.read(length)))
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if status == 503:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/graphql"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def text(name: str) -> str:
    return (FIXTURES / "texts" / f"{name}.md").read_text(encoding="utf-8")


def kb_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / "kb.jsonl").read_text(encoding="utf-8").splitlines() if line]


def abstract(work_id: str) -> str:
    return next(r["abstract"] for r in kb_records() if r["id"] == work_id)


# Edits a person makes to pass off a text: a few words swapped, a sentence dropped, a new opening line.
_SWAPS = {
    "simple": "straightforward",
    "think": "believe",
    "because": "since",
    "often": "frequently",
    "large": "big",
    "small": "little",
    "several": "a few",
    "models": "systems",
    "important": "crucial",
}


def lightly_edit(original: str, opening: str = "In this post I share some thoughts.") -> str:
    body = re.sub(r"^#.*\n", "", original).strip()
    sentences = re.split(r"(?<=[.!?])\s+", body)
    if len(sentences) > 6:
        del sentences[len(sentences) // 2]  # drop one sentence from the middle
    edited = " ".join(sentences)
    for old, new in _SWAPS.items():
        edited = re.sub(rf"\b{old}\b", new, edited, count=2)
    return f"{opening}\n\n{edited}"


def submission(**overrides: Any) -> Submission:
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
    return Submission.model_validate(data)


def populate(moderator: Moderator) -> None:
    moderator.engine.ingest_records(kb_records())
    assert not moderator.import_members(FIXTURES / "members.jsonl").errors
    assert not moderator.ingest_posts(FIXTURES / "posts.jsonl").errors


@pytest.fixture(scope="session")
def kb_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    engine = Engine.open(
        make_settings(tmp_path_factory.mktemp("modkb"), load_bundled_knowledge=False), embedder=embedder
    )
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def shared(kb_engine: Engine) -> Moderator:
    """A populated moderator shared by read-only tests: they check with `dry_run=True`."""
    moderator = Moderator(kb_engine, config_path=FIXTURES / "absent.yaml")
    populate(moderator)
    return moderator


@pytest.fixture
def fresh(empty_engine: Engine) -> Moderator:
    """A populated moderator of its own, for tests that record reports and decisions."""
    moderator = Moderator(empty_engine, config_path=FIXTURES / "absent.yaml")
    populate(moderator)
    return moderator
