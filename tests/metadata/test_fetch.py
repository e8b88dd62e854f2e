"""The fetch service over a real engine (SQLite, Chroma, MiniLM) and the fake APIs: what is stored, merged
and answered, and that nothing stored is lost or duplicated when an API hangs, fails or talks nonsense."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.domain import WorkRecord
from bot.engine import Engine
from bot.metadata import MetadataError, MetadataHTTPError, MetadataResponseError, MetadataTimeout
from bot.metadata.fetch import default_source, fetch_papers, parse_request

from .conftest import snapshot
from .fakes import ATOM_TYPE, HTML_PAGE, JSON_TYPE, FakeApis, fixture, json_answer

TURPIN = "arxiv:2305.04388"
PARROTS_DOI = "10.1145/3442188.3445922"


def statuses(result: Any) -> list[tuple[str, str]]:
    return [(item.status, item.work.id) for item in result.works]


# --- storing ------------------------------------------------------------------------------------------------


def test_a_looked_up_paper_is_stored_and_answers_questions(apis: FakeApis, fetch_engine: Engine) -> None:
    result = fetch_papers(fetch_engine, "arxiv", "https://arxiv.org/abs/2305.04388v2")
    assert (result.identifier, result.from_knowledge_base, result.dry_run) == ("2305.04388", False, False)
    assert statuses(result) == [("added", TURPIN)]
    assert result.works[0].work.title.startswith("Language Models Don't Always Say What They Think")
    assert fetch_engine.db.count_works() == 1 and fetch_engine.vectors.count() == 1  # stored and embedded
    assert fetch_engine.cite("Turpin et al. 2023").match.id == TURPIN  # type: ignore[union-attr]
    ask = fetch_engine.ask("are chain-of-thought explanations unfaithful?", k=1)
    assert ask.results[0].id == TURPIN


def test_fetching_the_same_paper_again_does_not_duplicate_it(apis: FakeApis, fetch_engine: Engine) -> None:
    fetch_papers(fetch_engine, "arxiv", "2305.04388")
    stored = snapshot(fetch_engine)
    again = fetch_papers(fetch_engine, "arxiv", "arXiv:2305.04388v1")
    assert again.from_knowledge_base and statuses(again) == [("present", TURPIN)]
    assert len(apis.to("arxiv")) == 1  # answered from the knowledge base: no second request
    refreshed = fetch_papers(fetch_engine, "arxiv", "2305.04388", refresh=True)
    assert not refreshed.from_knowledge_base and statuses(refreshed) == [("present", TURPIN)]
    assert len(apis.to("arxiv")) == 2
    assert snapshot(fetch_engine) == stored


def test_the_same_papers_from_three_apis_are_two_works(apis: FakeApis, fetch_engine: Engine) -> None:
    fetch_papers(fetch_engine, "arxiv", "2305.04388")
    by_s2 = fetch_papers(fetch_engine, "s2", "stochastic parrots", limit=2)
    parrots = by_s2.works[0].work.id
    # Turpin et al. gains S2's venue; the parrots paper is new.
    assert statuses(by_s2) == [("added", parrots), ("updated", TURPIN)]
    assert fetch_engine.db.count_works() == 2
    by_openalex = fetch_papers(fetch_engine, "openalex", "stochastic parrots", limit=2)
    # OpenAlex brings the parrots abstract (S2 has none); Turpin's arXiv abstract is longer than OpenAlex's.
    assert statuses(by_openalex) == [("updated", parrots), ("present", TURPIN)]
    assert fetch_engine.db.count_works() == 2
    work = fetch_engine.work(parrots)
    assert work is not None and work.doi == PARROTS_DOI and work.abstract and work.abstract.startswith("The past 3")
    assert set(work.sources) == {"semantic-scholar", "openalex"}
    # Each API's own id now names the work: a lookup by it needs no request.
    before = len(apis.requests)
    for source, identifier in (("openalex", "W3128646645"), ("s2", "6d9727f1f058614cada3fe296eeebd8ec4fc512a")):
        result = fetch_papers(fetch_engine, source, identifier)
        assert result.from_knowledge_base and statuses(result) == [("present", parrots)]
    assert len(apis.requests) == before


def test_a_reading_list_paper_is_merged_not_duplicated(apis: FakeApis, reading_list_engine: Engine) -> None:
    engine = reading_list_engine
    count = engine.db.count_works()
    curated = engine.work(TURPIN)
    assert curated is not None and curated.curated and curated.abstract is None
    present = fetch_papers(engine, "arxiv", "2305.04388")
    assert present.from_knowledge_base and statuses(present) == [("present", TURPIN)] and not apis.requests
    merged = fetch_papers(engine, "arxiv", "2305.04388", refresh=True)
    assert statuses(merged) == [("updated", TURPIN)]
    assert engine.db.count_works() == count
    work = engine.work(TURPIN)
    assert work is not None and work.curated  # still our reading list's work …
    assert (work.title, work.venue, work.aliases) == (curated.title, curated.venue, curated.aliases)
    assert work.abstract and work.abstract.startswith("Large Language Models (LLMs)")  # … with arXiv's abstract
    assert "arxiv-api" in work.sources
    by_doi = fetch_papers(engine, "openalex", "10.48550/arXiv.2305.04388")  # arXiv's DOI is the arXiv id
    assert by_doi.from_knowledge_base and statuses(by_doi) == [("present", TURPIN)]


def test_dry_run_stores_nothing(apis: FakeApis, reading_list_engine: Engine) -> None:
    engine = reading_list_engine
    stored = snapshot(engine)
    result = fetch_papers(engine, "s2", "stochastic parrots", limit=2, dry_run=True)
    assert result.dry_run
    assert statuses(result) == [("added", "s2:6d9727f1f058614cada3fe296eeebd8ec4fc512a"), ("updated", TURPIN)]
    refresh = fetch_papers(engine, "arxiv", "2305.04388", refresh=True, dry_run=True)
    assert statuses(refresh) == [("updated", TURPIN)]
    assert refresh.works[0].work.title == engine.work(TURPIN).title  # type: ignore[union-attr]
    assert snapshot(engine) == stored


def test_unknown_paper_and_empty_search_store_nothing(apis: FakeApis, fetch_engine: Engine) -> None:
    missing = fetch_papers(fetch_engine, "arxiv", "2501.99999")
    assert (missing.identifier, missing.works) == ("2501.99999", [])
    assert fetch_papers(fetch_engine, "s2", "DOI:10.9999/none").works == []
    apis.script = [json_answer(200, {"meta": {"count": 0}, "results": [], "group_by": []})]
    assert fetch_papers(fetch_engine, "openalex", "zyxwv qwerty").works == []
    assert fetch_engine.db.count_works() == 0


def test_search_limit(apis: FakeApis, fetch_engine: Engine) -> None:
    result = fetch_papers(fetch_engine, "openalex", "stochastic parrots", limit=1)
    assert [item.work.doi for item in result.works] == [PARROTS_DOI]
    assert apis.to("openalex")[0].query["per_page"] == "1"
    fetch_papers(fetch_engine, "arxiv", "deceptive", limit=999)
    assert apis.to("arxiv")[0].query["max_results"] == "25"  # clamped


def test_requests_that_cannot_be_made() -> None:
    for source, query, message in [
        ("crossref", "10.1/x", "unknown source 'crossref'"),
        ("arxiv", "   ", "give an identifier"),
        ("arxiv", "doi:10.1145/3442188.3445922", "not by DOI"),
        ("openalex", "https://example.com/paper", "OpenAlex cannot look up this link"),
        ("s2", "x" * 1001, "longer than 1000"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_request(source, query)
    assert parse_request("s2", "  stochastic \n parrots ") == ("stochastic parrots", None)
    assert (default_source("arXiv:2305.04388"), default_source("10.1145/3442188.3445922")) == ("arxiv", "s2")


# --- failures: nothing stored is lost or duplicated ---------------------------------------------------------

FAILURES = [
    pytest.param("arxiv", "2305.04388", ["hang"] * 3, MetadataTimeout, id="arxiv-hangs"),
    pytest.param("s2", "stochastic parrots", ["hang"] * 3, MetadataTimeout, id="s2-hangs"),
    pytest.param("arxiv", "2305.04388", [json_answer(503, {})] * 3, MetadataHTTPError, id="arxiv-503s"),
    pytest.param(
        "arxiv", "2305.04388", [(200, {"Content-Type": ATOM_TYPE}, b"<feed><entry>")], MetadataResponseError, id="xml"
    ),
    pytest.param("arxiv", "deceptive alignment", [HTML_PAGE], MetadataResponseError, id="arxiv-html"),
    pytest.param(
        "s2",
        "DOI:10.1145/3442188.3445922",
        [(200, {"Content-Type": JSON_TYPE}, fixture("s2_paper_doi.json")[:200])],
        MetadataResponseError,
        id="s2-truncated-json",
    ),
    pytest.param(
        "s2", "stochastic parrots", [json_answer(200, {"data": {"oops": 1}})], MetadataResponseError, id="s2-shape"
    ),
    pytest.param(
        "openalex",
        "W3128646645",
        [json_answer(200, {"id": "https://openalex.org/W3", "title": "T", "abstract_inverted_index": [1]})],
        MetadataResponseError,
        id="openalex-shape",
    ),
]


@pytest.mark.parametrize(("source", "query", "script", "error"), FAILURES)
def test_a_failing_api_changes_nothing_stored(
    apis: FakeApis,
    make_engine: Callable[..., Engine],
    source: str,
    query: str,
    script: list[Any],
    error: type[MetadataError],
) -> None:
    engine = make_engine(metadata_retries=2)
    engine.ingest_records([WorkRecord(id="arxiv:2305.04388", arxiv_id="2305.04388", title="An earlier record")])
    stored = snapshot(engine)
    apis.script = list(script)
    with pytest.raises(error) as caught:
        fetch_papers(engine, source, query, refresh=True)
    assert str(caught.value).startswith(("arXiv: ", "Semantic Scholar: ", "OpenAlex: "))
    assert snapshot(engine) == stored


def test_odd_fields_are_dropped_and_duplicates_in_one_answer_merged(apis: FakeApis, fetch_engine: Engine) -> None:
    odd = {"id": "https://openalex.org/W1", "title": "Odd  work", "authorships": "x", "publication_year": "soon"}
    apis.script = [json_answer(200, {"results": [odd, odd]})]
    result = fetch_papers(fetch_engine, "openalex", "odd", limit=2)
    assert statuses(result) == [("added", "openalex:W1")]
    work = fetch_engine.work("openalex:W1")
    assert work is not None and (work.title, work.authors, work.year) == ("Odd work", [], None)
    assert fetch_engine.db.count_works() == 1


def test_questions_are_answered_while_an_api_hangs(apis: FakeApis, reading_list_engine: Engine) -> None:
    engine = reading_list_engine
    engine.settings.metadata.read_timeout_seconds = 3.0  # the hang lasts 3 s: plenty of time to ask meanwhile
    engine.settings.metadata.retries = 0
    engine.warm_up()
    stored = snapshot(engine)
    apis.script = ["hang"]
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            fetch_papers(engine, "arxiv", "2305.04388", refresh=True)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    while not apis.to("arxiv"):  # the request is at the hanging server
        time.sleep(0.01)
    started = time.monotonic()
    answer = engine.ask("is chain-of-thought reasoning faithful?", k=2)
    cite = engine.cite("Turpin et al. 2023")
    other = engine.ingest_records([WorkRecord(id="post:x", title="A note written meanwhile about oversight")])
    elapsed = time.monotonic() - started
    assert thread.is_alive(), "the fetch should still be waiting for the API"
    assert elapsed < 2.0
    assert answer.results and cite.match is not None and cite.match.id == TURPIN and other.added == 1
    thread.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], MetadataTimeout)
    works, _keys, vectors = snapshot(engine)
    assert [w for w in works if w["id"] != "post:x"] == stored[0] and vectors == stored[2] + 1
