"""The Semantic Scholar client against the fake Graph API: paper JSON in, WorkRecords out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.metadata import MetadataRequestError, MetadataResponseError, SemanticScholarClient
from bot.metadata.semantic_scholar import FIELDS
from bot.settings import Settings

from .fakes import JSON_TYPE, FakeApis, fixture, json_answer

PARROTS_DOI = "10.1145/3442188.3445922"


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("10.1145/3442188.3445922", f"DOI:{PARROTS_DOI}"),
        ("doi:10.1145/3442188.3445922", f"DOI:{PARROTS_DOI}"),
        ("https://doi.org/10.1145/3442188.3445922", f"DOI:{PARROTS_DOI}"),
        ("2305.04388v2", "arXiv:2305.04388"),
        ("arxiv:2305.04388", "arXiv:2305.04388"),
        ("https://arxiv.org/abs/2305.04388", "arXiv:2305.04388"),
        ("6D9727F1F058614CADA3FE296EEEBD8EC4FC512A", "6d9727f1f058614cada3fe296eeebd8ec4fc512a"),
        (
            "https://www.semanticscholar.org/paper/On-the-Dangers-of-Stochastic-Parrots/6d9727f1f058614cada3fe296eeebd8ec4fc512a",
            "6d9727f1f058614cada3fe296eeebd8ec4fc512a",
        ),
        ("corpusid:262580630", "CorpusId:262580630"),
        ("https://aclanthology.org/2020.acl-main.386/", "URL:https://aclanthology.org/2020.acl-main.386/"),
        ("stochastic parrots", None),
    ],
)
def test_identifiers(text: str, identifier: str | None) -> None:
    assert SemanticScholarClient.parse_identifier(text) == identifier


def test_lookup_by_doi(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with SemanticScholarClient(metadata_settings()) as client:
        record = client.lookup(f"DOI:{PARROTS_DOI}")
    assert record is not None
    assert record.id == "s2:6d9727f1f058614cada3fe296eeebd8ec4fc512a"
    assert record.title == "On the Dangers of Stochastic Parrots: Can Language Models Be Too Big? 🦜"
    assert record.authors == ["Emily M. Bender", "Timnit Gebru", "Angelina McMillan-Major", "Shmargaret Shmitchell"]
    assert (record.doi, record.arxiv_id, record.year, record.abstract) == (PARROTS_DOI, None, 2021, None)
    assert record.venue == "Proceedings of the 2021 ACM Conference on Fairness, Accountability, and Transparency"
    assert record.url == f"https://doi.org/{PARROTS_DOI}" and record.source == "semantic-scholar"
    [request] = apis.to("s2")
    assert request.path == f"/graph/v1/paper/DOI:{PARROTS_DOI}"
    assert request.query["fields"] == FIELDS


def test_arxiv_doi_becomes_the_arxiv_id(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with SemanticScholarClient(metadata_settings()) as client:
        record = client.lookup("arXiv:2305.04388")
    assert record is not None
    # externalIds has ArXiv and arXiv's own DOI: the work is the arXiv paper, its DOI slot stays free.
    assert (record.arxiv_id, record.doi) == ("2305.04388", None)
    assert record.url == "https://arxiv.org/abs/2305.04388"
    assert record.venue == "Neural Information Processing Systems"  # journal "ArXiv" is no venue


def test_unknown_paper_is_none(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with SemanticScholarClient(metadata_settings()) as client:
        assert client.lookup("DOI:10.9999/nothing") is None


def test_search(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with SemanticScholarClient(metadata_settings()) as client:
        records = client.search("stochastic-parrots dangers", limit=2)
    assert [r.doi or r.arxiv_id for r in records] == [PARROTS_DOI, "2305.04388"]
    [request] = apis.to("s2")
    assert request.path == "/graph/v1/paper/search"
    assert (request.query["query"], request.query["limit"]) == ("stochastic parrots dangers", "2")
    apis.script = [json_answer(200, {"total": 0, "offset": 0})]  # nothing matched: no "data" at all
    with SemanticScholarClient(metadata_settings()) as client:
        assert client.search("zyxwv qwerty") == []


def test_a_bad_request_is_refused_clearly(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    apis.script = [json_answer(400, {"error": "Unrecognized or unsupported fields: [nonsense]"})]
    with SemanticScholarClient(metadata_settings()) as client, pytest.raises(MetadataRequestError) as caught:
        client.lookup("CorpusId:1")
    assert str(caught.value) == (
        "Semantic Scholar: refused the request (HTTP 400): Unrecognized or unsupported fields: [nonsense]"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("s2_paper_doi.json")[:300], "sent a response that is not valid JSON (cut off?)"),
        (b"", "sent an empty response instead of JSON"),
        (b"[1, 2, 3]", "sent JSON of an unexpected shape: a paper is not a JSON object"),
        (b'{"paperId": "abc", "year": 2021}', "sent JSON of an unexpected shape: the paper has no paperId or title"),
    ],
)
def test_garbage_lookup(apis: FakeApis, metadata_settings: Callable[..., Settings], body: bytes, message: str) -> None:
    apis.script = [(200, {"Content-Type": JSON_TYPE}, body)]
    with SemanticScholarClient(metadata_settings()) as client, pytest.raises(MetadataResponseError) as caught:
        client.lookup(f"DOI:{PARROTS_DOI}")
    assert str(caught.value).startswith(f"Semantic Scholar: {message}")


@pytest.mark.parametrize("body", [b'{"data": "none"}', b'{"data": [1, 2]}', b'"papers"'])
def test_garbage_search(apis: FakeApis, metadata_settings: Callable[..., Settings], body: bytes) -> None:
    apis.script = [(200, {"Content-Type": JSON_TYPE}, body)]
    with (
        SemanticScholarClient(metadata_settings()) as client,
        pytest.raises(MetadataResponseError, match=r"^Semantic Scholar: sent JSON of an unexpected shape"),
    ):
        client.search("stochastic parrots")


def test_implausible_fields_are_dropped_not_fatal(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    body = b'{"paperId": "abc", "title": " A  title ", "year": 99999, "authors": [{"name": 7}, "x", {"name": "Ann"}]}'
    apis.script = [(200, {"Content-Type": JSON_TYPE}, body)]
    with SemanticScholarClient(metadata_settings()) as client:
        record = client.lookup("CorpusId:1")
    assert record is not None
    assert (record.title, record.year, record.authors) == ("A title", None, ["Ann"])
