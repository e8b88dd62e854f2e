"""`POST /v1/papers` with a write token against a real engine holding part of our reading list: curated works
cannot be changed or have their names claimed (the attempt comes back as a conflict and is kept for a moderator),
links must be http(s), and record fields have size caps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.domain import Origin, WorkRecord
from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.app import create_app
from bot.ingest.provenance import work_detail
from bot.moderation.service import Moderator
from bot.settings import REPO_ROOT
from tests.conftest import make_settings

from .conftest import RULES, bearer, settings

SLEEPER = "arxiv:2401.05566"
TURPIN = "arxiv:2305.04388"
ARXIV_ABSTRACT = "Humans are capable of strategically deceptive behavior: behaving helpfully in most situations."


@pytest.fixture
def curated_engine(tmp_path: Path, embedder: Embedder) -> Iterator[Engine]:
    """Our reading list's first 40 works (Turpin et al., the sleeper agents paper among them), one with the
    abstract a fetch from arXiv brought."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    lines = (REPO_ROOT / "knowledge" / "reading_list.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    assert {json.loads(line)["id"] for line in lines} >= {SLEEPER, TURPIN}
    (knowledge / "reading_list.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = Engine.open(make_settings(tmp_path / "kb", knowledge_dir=knowledge), embedder=embedder)
    engine.ingest_records(
        [WorkRecord(id=SLEEPER, arxiv_id="2401.05566", title="Sleeper Agents", abstract=ARXIV_ABSTRACT)],
        origin=Origin(kind="fetch", name="arxiv"),
    )
    yield engine
    engine.close()


@pytest.fixture
def writer(curated_engine: Engine) -> Iterator[TestClient]:
    app = create_app(curated_engine, Moderator(curated_engine, config_path=RULES), settings())
    secret = app.state.ctx.tokens.create("forum-plugin", ["write"])[1]
    with TestClient(app, headers=bearer(secret)) as client:
        yield client


def post(client: TestClient, *records: dict[str, Any]) -> Any:
    return client.post("/v1/papers", json={"records": list(records)})


def test_a_hostile_alias_does_not_make_a_curated_citation_unconfident(
    writer: TestClient, curated_engine: Engine
) -> None:
    before = curated_engine.cite("the sleeper agents paper")
    assert before.confident and before.match is not None and before.match.id == SLEEPER
    hostile = {
        "id": "x:decoy",
        "title": "A decoy paper about something else",
        "authors": ["Mallory"],
        "aliases": ["The Sleeper Agents paper", "decoy"],
    }
    response = post(writer, hostile)
    assert response.status_code == 200
    [conflict] = response.json()["conflicts"]
    assert (conflict["work_id"], conflict["target_id"], conflict["field"]) == (SLEEPER, "x:decoy", "aliases")
    assert conflict["proposed"] == "The Sleeper Agents paper"
    assert conflict["origin"] == {"kind": "api", "name": "forum-plugin"}
    decoy = curated_engine.work("x:decoy")
    assert decoy is not None and decoy.aliases == ["decoy"]  # stored without the curated work's name
    after = curated_engine.cite("the sleeper agents paper")
    assert after.confident and after.match is not None and after.match.id == SLEEPER
    # Sent again: the same answer, one stored conflict, visible on both works.
    again = post(writer, hostile).json()["conflicts"]
    assert [c | {"at": None} for c in again] == [c | {"at": None} for c in response.json()["conflicts"]]
    assert [c.field for c in work_detail(curated_engine.db, curated_engine.work(SLEEPER)).conflicts] == ["aliases"]
    assert len(work_detail(curated_engine.db, decoy).conflicts) == 1


def test_api_writes_cannot_change_a_curated_work(writer: TestClient, curated_engine: Engine) -> None:
    curated = curated_engine.work(SLEEPER)
    assert curated is not None and curated.curated and curated.abstract == ARXIV_ABSTRACT
    hostile = {
        "arxiv_id": "2401.05566",
        "title": "Sleeper agents are a hoax",
        "authors": ["Mallory", "Trent"],
        "abstract": "Nothing to see here. " * 40,  # longer than the stored abstract: the old merge took it
        "summary": "A hoax.",
        "year": 2019,
        "aliases": ["the hoax paper"],
        "topics": ["hoaxes"],
    }
    response = post(writer, hostile)
    assert response.status_code == 200
    body = response.json()
    assert (body["read"], body["added"], body["merged"], body["unchanged"]) == (1, 0, 0, 1)
    refused = {c["field"]: c for c in body["conflicts"]}
    assert set(refused) == {"title", "authors", "abstract", "summary", "year", "aliases", "topics"}
    assert refused["abstract"]["stored"] == ARXIV_ABSTRACT and refused["year"]["stored"] == 2024
    work = curated_engine.work(SLEEPER)
    assert work is not None
    assert work.model_dump(exclude={"updated_at"}) == curated.model_dump(exclude={"updated_at"})
    # The refused title does not become a key of the curated work.
    assert curated_engine.db.work_for_key("title:sleeper agents are a hoax") is None
    stored = [c.field for c in work_detail(curated_engine.db, work).conflicts]
    assert sorted(stored) == sorted(refused)


def test_api_writes_complete_a_curated_work(writer: TestClient, curated_engine: Engine) -> None:
    """What is not curated and missing may be filled; a longer author list that completes ours wins."""
    curated = curated_engine.work(TURPIN)
    assert curated is not None and curated.abstract is None and curated.doi is None
    authors = [*curated.authors, "A. Nother"]
    response = post(
        writer, {"arxiv_id": "2305.04388", "title": curated.title, "authors": authors, "abstract": "An abstract."}
    )
    assert response.status_code == 200 and response.json()["conflicts"] == []
    work = curated_engine.work(TURPIN)
    assert work is not None and work.authors == authors and work.abstract == "An abstract."
    assert work.provenance["authors"] == work.provenance["abstract"]
    assert work.provenance["abstract"]["kind"] == "api" and work.provenance["abstract"]["name"] == "forum-plugin"
    assert work.provenance["title"]["kind"] == "curated"


BAD_RECORDS = [
    ({"url": "javascript:alert(1)"}, "records.0.url: Value error, 'javascript:alert(1)' is not an http(s) link"),
    ({"url": " JAVASCRIPT:alert(1)"}, "is not an http(s) link"),
    ({"url": "data:text/html,<script>"}, "is not an http(s) link"),
    ({"abstract": "a" * 20_001}, "records.0.abstract: String should have at most 20000 characters"),
    ({"title": "t" * 2_001}, "records.0.title: String should have at most 2000 characters"),
    ({"summary": "s" * 5_001}, "records.0.summary: String should have at most 5000 characters"),
    ({"authors": ["A. Author"] * 10_001}, "records.0.authors: List should have at most 10000 items"),
    ({"authors": ["x" * 301]}, "records.0.authors.0: String should have at most 300 characters"),
    ({"aliases": ["a"] * 101}, "records.0.aliases: List should have at most 100 items"),
    ({"doi": 10.1234}, "records.0.doi: Input should be a valid string"),
]


def test_bad_records_are_refused_with_the_field(writer: TestClient, curated_engine: Engine) -> None:
    count = curated_engine.db.count_works()
    for record, message in BAD_RECORDS:
        response = post(writer, {"title": "A paper", **record})
        assert response.status_code == 422, record
        assert message in response.json()["error"]
    assert curated_engine.db.count_works() == count
    at_the_caps = {"title": "t" * 2_000, "abstract": "a" * 20_000, "url": "HTTPS://example.org/x"}
    assert post(writer, at_the_caps).status_code == 200


def test_a_doi_that_is_not_one_is_an_error_not_dropped(writer: TestClient, curated_engine: Engine) -> None:
    response = post(writer, {"title": "A paper with a numeric DOI", "doi": "5678"})
    assert response.status_code == 400
    assert "doi '5678' is not a DOI" in response.json()["error"]
    ok = post(writer, {"title": "A paper with a DOI link", "doi": "https://doi.org/10.1234/5678"})
    assert ok.status_code == 200
    assert curated_engine.db.work_for_key("doi:10.1234/5678") is not None
