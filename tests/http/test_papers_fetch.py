"""POST /v1/papers/fetch against the real app and engine, with the metadata APIs faked on the loopback
interface: the write scope, the FetchResult JSON, and API failures as 502/504 that store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.app import create_app
from bot.metadata.fetch import FetchResult
from bot.moderation.service import Moderator
from tests.conftest import make_settings
from tests.metadata.conftest import snapshot
from tests.metadata.fakes import ATOM_TYPE, HTML_PAGE, FakeApis, fixture

from .conftest import RULES, bearer, settings

FETCH = "/v1/papers/fetch"
App = tuple[TestClient, Engine, dict[str, str]]  # client, its engine, a secret per scope


@pytest.fixture
def fetch_app(tmp_path: Path, embedder: Embedder, apis: FakeApis) -> Iterator[App]:
    engine = Engine.open(
        make_settings(tmp_path / "kb", load_bundled_knowledge=False, **apis.settings(metadata_retries=0)),
        embedder=embedder,
    )
    app = create_app(engine, Moderator(engine, config_path=RULES), settings())
    tokens = app.state.ctx.tokens
    secrets = {scope: tokens.create(f"{scope}-bot", [scope])[1] for scope in ("read", "write", "moderate")}
    with TestClient(app) as client:
        yield client, engine, secrets
    engine.close()


def post(client: TestClient, secret: str, **body: Any) -> Any:
    return client.post(FETCH, json=body, headers=bearer(secret))


def test_only_write_tokens_may_fetch(fetch_app: App, apis: FakeApis) -> None:
    client, engine, secrets = fetch_app
    assert client.post(FETCH, json={"source": "arxiv", "query": "2305.04388"}).status_code == 401
    for scope in ("read", "moderate"):
        refused = post(client, secrets[scope], source="arxiv", query="2305.04388")
        assert refused.status_code == 403 and refused.json()["error"] == "this token lacks the 'write' scope"
    assert not apis.requests and engine.db.count_works() == 0


def test_lookup_then_from_the_knowledge_base(fetch_app: App, apis: FakeApis) -> None:
    client, engine, secrets = fetch_app
    response = post(client, secrets["write"], source="arxiv", query="https://arxiv.org/abs/2305.04388v2")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"source", "query", "identifier", "from_knowledge_base", "dry_run", "works"}
    assert (body["source"], body["identifier"], body["from_knowledge_base"]) == ("arxiv", "2305.04388", False)
    [item] = body["works"]
    assert item["status"] == "added" and item["work"]["id"] == "arxiv:2305.04388"
    assert set(item["work"]) == {
        "id",
        "arxiv_id",
        "doi",
        "title",
        "authors",
        "year",
        "url",
        "venue",
        "kind",
        "score",
        "reason",
    }
    again = post(client, secrets["write"], source="s2", query="arXiv:2305.04388").json()
    assert again["from_knowledge_base"] and again["works"][0]["status"] == "present"
    assert len(apis.requests) == 1 and engine.db.count_works() == 1
    FetchResult.model_validate(again)


def test_search_with_limit_and_dry_run(fetch_app: App, apis: FakeApis) -> None:
    client, engine, secrets = fetch_app
    preview = post(client, secrets["write"], source="openalex", query="stochastic parrots", limit=2, dry_run=True)
    assert preview.status_code == 200
    assert [w["status"] for w in preview.json()["works"]] == ["added", "added"] and engine.db.count_works() == 0
    stored = post(client, secrets["write"], source="openalex", query="stochastic parrots", limit=2).json()
    assert [w["work"]["id"] for w in stored["works"]] == ["openalex:W3128646645", "arxiv:2305.04388"]
    assert engine.db.count_works() == 2
    assert apis.to("openalex")[-1].query["per_page"] == "2"


def test_unknown_paper_is_404(fetch_app: App) -> None:
    client, _engine, secrets = fetch_app
    response = post(client, secrets["write"], source="arxiv", query="2501.99999")
    assert response.status_code == 404
    assert response.json() == {
        "error": "no such paper: 2501.99999",
        "detail": {"source": "arxiv", "query": "2501.99999"},
    }
    nothing = post(client, secrets["write"], source="s2", query="zyxwv qwerty")
    assert nothing.status_code == 200  # the fake answers every search; a search is never a 404


def test_bad_requests(fetch_app: App, apis: FakeApis) -> None:
    client, _engine, secrets = fetch_app
    doi_to_arxiv = post(client, secrets["write"], source="arxiv", query="10.1145/3442188.3445922")
    assert doi_to_arxiv.status_code == 400 and "not by DOI" in doi_to_arxiv.json()["error"]
    assert post(client, secrets["write"], source="crossref", query="x").status_code == 422
    assert post(client, secrets["write"], source="arxiv", query="x", limit=26).status_code == 422
    assert post(client, secrets["write"], source="arxiv", query="x", lmit=2).status_code == 422
    assert post(client, secrets["write"], source="arxiv", query="   ").status_code == 422
    assert not apis.requests
    apis.script = [(400, {"Content-Type": ATOM_TYPE}, fixture("arxiv_error.xml"))]
    refused = post(client, secrets["write"], source="arxiv", query="1234.12345")  # arXiv calls it malformed
    assert refused.status_code == 400
    assert refused.json()["error"] == "arXiv: refused '1234.12345': incorrect id format for 1234.12345"


def test_api_failures_are_502_and_504_and_store_nothing(fetch_app: App, apis: FakeApis) -> None:
    client, engine, secrets = fetch_app
    post(client, secrets["write"], source="arxiv", query="2305.04388")
    stored = snapshot(engine)
    apis.script = ["hang"]
    timeout = post(client, secrets["write"], source="arxiv", query="2305.04388", refresh=True)
    assert timeout.status_code == 504
    assert timeout.json() == {
        "error": "arXiv: did not answer within 0.5 s (1 try)",
        "detail": "nothing was stored; try again later",
    }
    apis.script = [HTML_PAGE]
    garbage = post(client, secrets["write"], source="s2", query="stochastic parrots")
    assert garbage.status_code == 502
    assert garbage.json()["error"].startswith("Semantic Scholar: sent an HTML page instead of JSON")
    assert snapshot(engine) == stored


def test_the_endpoint_is_documented(fetch_app: App) -> None:
    client, _engine, _secrets = fetch_app
    operation = client.get("/openapi.json").json()["paths"][FETCH]["post"]
    assert operation["tags"] == ["write"]
    assert {"200", "404", "502", "504"} <= set(operation["responses"])
