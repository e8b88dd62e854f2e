"""The OpenAlex client against the fake API: work JSON (inverted-index abstracts) in, WorkRecords out."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.metadata import MetadataResponseError, OpenAlexClient
from bot.metadata.openalex import SELECT, abstract_from_index
from bot.settings import Settings

from .fakes import JSON_TYPE, FakeApis, fixture

PARROTS_DOI = "10.1145/3442188.3445922"


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("W3128646645", "W3128646645"),
        ("w3128646645", "W3128646645"),
        ("https://openalex.org/W3128646645", "W3128646645"),
        ("https://api.openalex.org/works/W3128646645", "W3128646645"),
        ("https://doi.org/10.1145/3442188.3445922", f"doi:{PARROTS_DOI}"),
        ("doi:10.1145/3442188.3445922", f"doi:{PARROTS_DOI}"),
        ("2305.04388", "doi:10.48550/arxiv.2305.04388"),  # through arXiv's own DOI
        ("stochastic parrots", None),
    ],
)
def test_identifiers(text: str, identifier: str | None) -> None:
    assert OpenAlexClient.parse_identifier(text) == identifier


def test_known_keys() -> None:
    assert OpenAlexClient.known_keys("doi:10.48550/arxiv.2305.04388") == ["arxiv:2305.04388"]
    assert OpenAlexClient.known_keys(f"doi:{PARROTS_DOI}") == [f"doi:{PARROTS_DOI}"]
    assert OpenAlexClient.known_keys("W3128646645") == ["id:openalex:W3128646645"]


def test_lookup_rebuilds_the_abstract(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with OpenAlexClient(metadata_settings()) as client:
        record = client.lookup("W3128646645")
    assert record is not None
    assert record.id == "openalex:W3128646645" and record.doi == PARROTS_DOI and record.arxiv_id is None
    assert record.title == "On the Dangers of Stochastic Parrots"
    assert record.abstract == (
        "The past 3 years of work in NLP have been characterized by the development and deployment of ever larger "
        "language models, especially for English. In this paper, we take a step back and ask: How big is too big?"
    )
    assert record.authors == ["Emily M. Bender", "Timnit Gebru", "Angelina McMillan-Major", "Shmargaret Shmitchell"]
    assert record.year == 2021 and record.url == f"https://doi.org/{PARROTS_DOI}"
    assert record.venue == "Proceedings of the 2021 ACM Conference on Fairness, Accountability, and Transparency"
    [request] = apis.to("openalex")
    assert request.path == "/works/W3128646645" and request.query["select"] == SELECT
    assert request.query["mailto"] == "ops@alignbot.test"


def test_arxiv_paper_through_its_doi(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with OpenAlexClient(metadata_settings()) as client:
        record = client.lookup(OpenAlexClient.parse_identifier("arXiv:2305.04388") or "")
    assert record is not None
    assert (record.arxiv_id, record.doi, record.venue) == ("2305.04388", None, None)  # the arXiv repository is no venue
    assert record.url == "https://arxiv.org/abs/2305.04388"
    assert apis.to("openalex")[0].path == "/works/doi:10.48550/arxiv.2305.04388"


def test_arxiv_id_from_a_location(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    work = json.loads(fixture("openalex_work_arxiv.json"))
    work["doi"] = None  # only the arxiv.org landing page says which preprint it is
    apis.script = [(200, {"Content-Type": JSON_TYPE}, json.dumps(work).encode())]
    with OpenAlexClient(metadata_settings()) as client:
        record = client.lookup("W4376504155")
    assert record is not None and record.arxiv_id == "2305.04388"


def test_unknown_work_is_none(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with OpenAlexClient(metadata_settings()) as client:
        assert client.lookup("W1") is None


def test_search(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with OpenAlexClient(metadata_settings()) as client:
        records = client.search("stochastic parrots", limit=2)
    assert [r.id for r in records] == ["openalex:W3128646645", "openalex:W4376504155"]
    [request] = apis.to("openalex")
    assert request.path == "/works" and (request.query["search"], request.query["per_page"]) == (
        "stochastic parrots",
        "2",
    )


def test_abstract_index_shapes() -> None:
    assert abstract_from_index("OpenAlex", {"world": [1], "Hello": [0]}) == "Hello world"
    assert abstract_from_index("OpenAlex", None) is None
    for bad in (["Hello"], {"Hello": "0"}, {"Hello": [True]}):
        with pytest.raises(MetadataResponseError, match="unexpected shape"):
            abstract_from_index("OpenAlex", bad)
    with pytest.raises(MetadataResponseError, match="position 10000000"):
        abstract_from_index("OpenAlex", {"Hello": [10_000_000]})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("openalex_work_doi.json")[:500], "sent a response that is not valid JSON"),
        (b'{"id": "https://openalex.org/W1"}', "sent JSON of an unexpected shape: the work has no id or title"),
        (
            b'{"id": "https://openalex.org/W1", "title": "T", "abstract_inverted_index": {"a": "b"}}',
            "sent JSON of an unexpected shape",
        ),
        (b'{"meta": {}, "results": {"W1": {}}}', "sent JSON of an unexpected shape"),
    ],
)
def test_garbage(apis: FakeApis, metadata_settings: Callable[..., Settings], body: bytes, message: str) -> None:
    apis.script = [(200, {"Content-Type": JSON_TYPE}, body)]
    with OpenAlexClient(metadata_settings()) as client, pytest.raises(MetadataResponseError) as caught:
        client.lookup("W3128646645")
    assert str(caught.value).startswith(f"OpenAlex: {message}")
