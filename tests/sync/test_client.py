"""The OAI-PMH client against the fake arXiv interface: sets, paging, errors, flow control, XML it refuses."""

from __future__ import annotations

import time

import pytest

from bot.metadata.errors import MetadataResponseError
from bot.settings import Settings
from bot.sync.client import ArxivOAIClient, OAIError, forum_endpoint, oai_date, parse_page, set_spec
from tests.conftest import make_settings

from .conftest import sync_settings
from .fakes import XML_TYPE, FakeOAI


def client(oai: FakeOAI, tmp_path, **overrides) -> ArxivOAIClient:  # type: ignore[no-untyped-def]
    return ArxivOAIClient(make_settings(tmp_path, **sync_settings(oai, **overrides)))


@pytest.mark.parametrize(
    ("category", "spec"),
    [
        ("cs.AI", "cs:cs:AI"),
        ("cs.CL", "cs:cs:CL"),
        ("stat.ML", "stat:stat:ML"),
        ("q-bio.NC", "q-bio:q-bio:NC"),
        ("hep-th", "physics:hep-th"),
        ("cond-mat.stat-mech", "physics:cond-mat:stat-mech"),
        ("cs", "cs"),
        ("cs:cs:LG", "cs:cs:LG"),
    ],
)
def test_categories_name_arxivs_sets(category: str, spec: str) -> None:
    assert set_spec(category) == spec


def test_bad_categories_and_dates_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="'cs AI' is not an arXiv category"):
        set_spec("cs AI")
    with pytest.raises(ValueError, match="'2026-13' is not a date"):
        oai_date("2026-13")
    with pytest.raises(ValueError, match="unknown site 'reddit'"):
        forum_endpoint("reddit", None, Settings())
    assert forum_endpoint("eaforum", "https://forum.example/", Settings()) == "https://forum.example/graphql"


def test_pages_follow_resumption_tokens_to_the_end(oai: FakeOAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with client(oai, tmp_path) as oai_client:
        first = oai_client.list_records(set_spec="cs:cs:AI", since="2026-11-01", until="2026-11-30")
        assert (
            first.complete_size == 7 and first.token
        )  # the withdrawn paper counts and first.response_date == "2026-12-01T10:00:00Z"
        second = oai_client.list_records(set_spec="cs:cs:AI", token=first.token)
    assert second.token is None  # the empty token of the last page
    records = first.records + second.records
    assert first.deleted + second.deleted == 1 and len(records) == 6 and all("cs.AI" in r.topics for r in records)
    paper = records[0]
    assert (paper.id, paper.arxiv_id, paper.url) == (
        "arxiv:2611.01000",
        "2611.01000",
        "https://arxiv.org/abs/2611.01000",
    )
    assert paper.authors == ["Ada Lovelace"] and paper.year == 2026
    assert paper.abstract and not paper.abstract.startswith(" ")  # arXiv's padding folded away
    assert oai.list_requests() == [
        {
            "verb": "ListRecords",
            "metadataPrefix": "arXiv",
            "set": "cs:cs:AI",
            "from": "2026-11-01",
            "until": "2026-11-30",
        },
        {"verb": "ListRecords", "resumptionToken": first.token},
    ]


def test_deleted_records_are_counted_not_returned(oai: FakeOAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    oai.page_size = 50
    with client(oai, tmp_path) as oai_client:
        page = oai_client.list_records(set_spec="cs", since="2026-11-22", until="2026-11-22")
    assert page.deleted == 1 and "2611.09999" not in {r.arxiv_id for r in page.records}


def test_no_records_match_is_an_empty_page(oai: FakeOAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with client(oai, tmp_path) as oai_client:
        page = oai_client.list_records(set_spec="cs:cs:AI", since="2027-01-01")
    assert (page.records, page.token) == ([], None)


def test_protocol_errors_carry_their_code(oai: FakeOAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with client(oai, tmp_path) as oai_client, pytest.raises(OAIError, match="badResumptionToken: Bad or expired") as e:
        oai_client.list_records(set_spec="cs:cs:AI", token="0001|4")
    assert e.value.code == "badResumptionToken"


def test_503_retry_after_is_honoured(oai: FakeOAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    oai.script = [(503, {"Retry-After": "1", "Content-Type": "text/html"}, b"<html>Retry after 1 second</html>")]
    started = time.monotonic()
    with client(oai, tmp_path) as oai_client:
        page = oai_client.list_records(set_spec="cs:cs:AI", since="2026-11-01")
    assert len(page.records) == 4 and time.monotonic() - started >= 1.0
    assert len(oai.requests) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Service unavailable</body></html>", "sent an HTML page instead of an OAI-PMH answer"),
        (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><rec', "cannot be"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "entity declarations"),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>', "not an OAI-PMH answer"),
    ],
)
def test_xml_we_cannot_read_is_a_clear_error(oai: FakeOAI, tmp_path, body: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    oai.script = [(200, {"Content-Type": XML_TYPE}, body)]
    with client(oai, tmp_path) as oai_client, pytest.raises(MetadataResponseError, match=message):
        oai_client.list_records(set_spec="cs:cs:AI", since="2026-11-01")


def test_arxiv_raw_records_are_read_too() -> None:
    page = parse_page(
        b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-01T10:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXivRaw" set="cs:cs:CL">https://oaipmh.arxiv.org/oai</request>
<ListRecords><record><header><identifier>oai:arXiv.org:2305.04388</identifier><datestamp>2026-11-02</datestamp>
<setSpec>cs:cs:CL</setSpec><setSpec>cs:cs:AI</setSpec></header><metadata>
<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>2305.04388</id><submitter>Miles Turpin</submitter>
<version version="v1"><date>Sun, 7 May 2023 17:00:00 GMT</date><size>1234kb</size></version>
<version version="v2"><date>Sat, 9 Dec 2023 10:00:00 GMT</date><size>1300kb</size></version>
<title>Language Models Don't Always Say What They Think: Unfaithful Explanations in
  Chain-of-Thought Prompting</title><authors>Miles Turpin, Julian Michael, Ethan Perez and Samuel R. Bowman</authors>
<categories>cs.CL cs.AI</categories><journal-ref>NeurIPS 2023</journal-ref><doi>10.48550/arXiv.2305.04388</doi>
<abstract>Short.</abstract></arXivRaw></metadata></record>
<resumptionToken cursor="0" completeListSize="1"></resumptionToken></ListRecords></OAI-PMH>""",
        "arXivRaw",
    )
    (paper,) = page.records
    assert paper.title.endswith("Unfaithful Explanations in Chain-of-Thought Prompting")
    assert paper.authors == ["Miles Turpin", "Julian Michael", "Ethan Perez", "Samuel R. Bowman"]
    assert (paper.year, paper.venue, paper.doi, paper.arxiv_id) == (2023, "NeurIPS 2023", None, "2305.04388")
    assert page.token is None and page.complete_size == 1
