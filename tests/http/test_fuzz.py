"""Schema-driven fuzzing: schemathesis generates requests from the app's own OpenAPI document (valid and
invalid ones) and sends them in-process (ASGI). No request may cause a 5xx, and every response must
match the documented status codes, content types and schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.app import create_app
from bot.moderation.service import Moderator
from tests.conftest import make_settings
from tests.metadata.fakes import FakeApis

from .conftest import RULES, bearer, populate
from .conftest import settings as server_settings

EXAMPLES = 12  # per operation and generation mode: enough to find crashes, small enough for CI
# Every other default check runs (no 5xx, documented status codes, content types and response schemas,
# auth not ignored, …). Left out: pydantic's lax coercions ("posted_at": 0 as a timestamp, "curated": 0 as
# false) count as "schema-violating data accepted"; and refusals the schema cannot express (an id that is
# no reference, a report that does not exist) as "schema-valid data rejected".
EXCLUDED = [negative_data_rejection, positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[FastAPI]:
    """An app of its own: fuzzing ingests papers and queues reports. POST /v1/papers/fetch asks fake metadata
    APIs on the loopback interface, never the real ones."""
    apis = FakeApis().start()
    engine = Engine.open(
        make_settings(tmp_path_factory.mktemp("fuzz"), load_bundled_knowledge=False, **apis.settings()),
        embedder=embedder,
    )
    moderator = Moderator(engine, config_path=RULES)
    populate(moderator, reading_list=0)
    yield create_app(engine, moderator, server_settings())
    engine.close()
    apis.stop()


@pytest.fixture(scope="module")
def all_scopes(fuzz_app: FastAPI) -> dict[str, str]:
    return bearer(fuzz_app.state.ctx.tokens.create("fuzzer", ["read", "write", "moderate", "metrics"])[1])


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_with_a_token(case: schemathesis.Case, all_scopes: dict[str, str]) -> None:
    case.call_and_validate(headers=all_scopes, excluded_checks=EXCLUDED)


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_without_a_token(case: schemathesis.Case) -> None:
    response = case.call_and_validate(excluded_checks=EXCLUDED)
    if case.path.startswith("/v1/"):  # nothing is served without a token (bad JSON is refused before auth)
        assert response.status_code in (400, 401, 404, 405, 413, 415, 422), response.text
