"""The arXiv client against the fake arXiv API: Atom feeds in, WorkRecords out, arXiv's quirks handled."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.metadata import ArxivClient, MetadataRequestError, MetadataResponseError
from bot.metadata.arxiv import search_query
from bot.settings import Settings

from .fakes import ATOM_TYPE, HTML_PAGE, FakeApis, fixture


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("2305.04388", "2305.04388"),
        ("2305.04388v2", "2305.04388"),
        ("arXiv:2305.04388", "2305.04388"),
        ("https://arxiv.org/abs/2305.04388v1", "2305.04388"),
        ("https://arxiv.org/pdf/2305.04388v2.pdf", "2305.04388"),
        ("10.48550/arXiv.2305.04388", "2305.04388"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),  # the subject class is not part of the id
        ("sleeper agents", None),
        ("see 2305.04388 for details", None),  # an id inside a sentence is a search, not a lookup
    ],
)
def test_identifiers(text: str, identifier: str | None) -> None:
    assert ArxivClient.parse_identifier(text) == identifier


def test_a_doi_is_not_an_arxiv_identifier() -> None:
    with pytest.raises(ValueError, match="not by DOI: use the s2 or openalex source"):
        ArxivClient.parse_identifier("doi:10.1145/3442188.3445922")


def test_lookup_parses_the_atom_entry(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with ArxivClient(metadata_settings()) as client:
        record = client.lookup("2305.04388")
    assert record is not None
    assert record.id == "arxiv:2305.04388" and record.arxiv_id == "2305.04388"  # no version
    assert record.title == (
        "Language Models Don't Always Say What They Think: Unfaithful Explanations in Chain-of-Thought Prompting"
    )
    assert record.authors == ["Miles Turpin", "Julian Michael", "Ethan Perez", "Samuel R. Bowman"]
    assert record.year == 2023
    assert record.abstract is not None and record.abstract.startswith("Large Language Models (LLMs) can achieve")
    assert "\n" not in record.abstract and "  " not in record.abstract
    assert record.url == "https://arxiv.org/abs/2305.04388"
    assert record.topics == ["cs.CL", "cs.AI"]  # primary category first
    assert (record.doi, record.venue, record.source, record.curated) == (None, None, "arxiv-api", False)
    [request] = apis.to("arxiv")
    assert request.query["id_list"] == "2305.04388"


def test_old_style_id_with_doi_and_journal_reference(
    apis: FakeApis, metadata_settings: Callable[..., Settings]
) -> None:
    with ArxivClient(metadata_settings()) as client:
        record = client.lookup(ArxivClient.parse_identifier("hep-ex/0307015v1") or "")
    assert record is not None
    assert record.arxiv_id == "hep-ex/0307015" and record.id == "arxiv:hep-ex/0307015"
    assert record.title == "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA"
    assert record.authors == ["H1 Collaboration"] and record.year == 2003
    assert record.doi == "10.1140/epjc/s2003-01326-x"
    assert record.venue == "Eur.Phys.J. C31 (2003) 17-29"
    assert apis.to("arxiv")[0].query["id_list"] == "hep-ex/0307015"


def test_error_entry_is_a_clear_refusal(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    # The current API answers 400 with the error feed; the documented one answered 200. Both are refusals.
    with ArxivClient(metadata_settings()) as client:
        with pytest.raises(MetadataRequestError) as caught:
            client.lookup("1234.12345x")
        assert str(caught.value) == "arXiv: refused '1234.12345x': incorrect id format for 1234.12345x"
        apis.script = [(200, {"Content-Type": ATOM_TYPE}, fixture("arxiv_error.xml"))]
        with pytest.raises(MetadataRequestError, match=r"incorrect id format for 1234\.12345"):
            client.lookup("1234.12345")


def test_unknown_id_is_none(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    # arXiv answers an unknown, well-formed id with an empty feed (totalResults 1 notwithstanding) or with an
    # entry that has neither id nor title.
    bare_entry = fixture("arxiv_empty.xml").replace(
        b"</feed>", b"<entry><updated>2025-07-01T00:00:00Z</updated><title/></entry></feed>"
    )
    with ArxivClient(metadata_settings()) as client:
        assert client.lookup("2501.99999") is None
        apis.script = [(200, {"Content-Type": ATOM_TYPE}, bare_entry)]
        assert client.lookup("2501.99999") is None
        # An answer about another paper is not an answer about this one.
        apis.script = [(200, {"Content-Type": ATOM_TYPE}, fixture("arxiv_hep-ex_0307015.xml"))]
        assert client.lookup("2501.99999") is None


def test_search(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    with ArxivClient(metadata_settings()) as client:
        records = client.search("deceptive alignment in the LLMs", limit=2)
    assert [r.arxiv_id for r in records] == ["2401.05566", "2412.14093"]
    assert records[0].title == "Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training"
    assert records[0].topics == ["cs.CR", "cs.AI", "cs.CL", "cs.LG", "cs.SE"]
    [request] = apis.to("arxiv")
    assert request.query["search_query"] == "all:deceptive AND all:alignment AND all:LLMs"
    assert (request.query["max_results"], request.query["sortBy"]) == ("2", "relevance")


def test_search_query_syntax() -> None:
    assert search_query('ti:"sleeper agents" AND au:hubinger') == 'ti:"sleeper agents" AND au:hubinger'
    assert search_query("chain-of-thought: is it faithful?") == "all:chain-of-thought AND all:faithful"


def test_only_arxiv_categories_become_topics(apis: FakeApis, metadata_settings: Callable[..., Settings]) -> None:
    feed = fixture("arxiv_2305.04388.xml").replace(
        b'<category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>',
        b'<category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>'
        b'<category term="I.2.7" scheme="http://arxiv.org/schemas/atom"/>'
        b'<category term="68T50" scheme="http://arxiv.org/schemas/atom"/>',
    )
    apis.script = [(200, {"Content-Type": ATOM_TYPE}, feed)]
    with ArxivClient(metadata_settings()) as client:
        record = client.lookup("2305.04388")
    assert record is not None and record.topics == ["cs.CL", "cs.AI"]  # not the ACM and MSC codes


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HTML_PAGE[2], "sent an HTML page instead of an Atom feed"),
        (fixture("arxiv_2305.04388.xml")[:700], "sent XML that cannot be parsed"),
        (b"", "sent XML that cannot be parsed"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "sent XML that is not an Atom feed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>',
            "sent XML with entity declarations",
        ),
    ],
)
def test_garbage_is_a_clear_error(
    apis: FakeApis, metadata_settings: Callable[..., Settings], body: bytes, message: str
) -> None:
    apis.script = [(200, {"Content-Type": ATOM_TYPE}, body)]
    with ArxivClient(metadata_settings()) as client, pytest.raises(MetadataResponseError) as caught:
        client.lookup("2305.04388")
    assert str(caught.value).startswith(f"arXiv: {message}")
