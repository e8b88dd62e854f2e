"""Live lookup of references the knowledge base lacks (`live_lookup`), against the fake APIs on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.engine import Engine

from .fakes import FakeApis

# In the fake Semantic Scholar and OpenAlex searches, not in the fake arXiv search ("Alignment faking …").
PARROTS = "On the Dangers of Stochastic Parrots"


def test_off_by_default_nothing_is_asked(apis: FakeApis, make_engine: Callable[..., Engine]) -> None:
    engine = make_engine()
    result = engine.bibliography(f"Everyone cites “{PARROTS}” here.")
    assert [u.text for u in result.unresolved] == [PARROTS]
    assert apis.requests == []


def test_a_quoted_title_is_fetched_stored_and_said(apis: FakeApis, make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(live_lookup=True)
    result = engine.bibliography(f"Everyone cites “{PARROTS}” here.")
    [entry] = result.entries
    assert result.unresolved == []
    assert entry.work.title.startswith(PARROTS) and entry.fetched == "semantic-scholar"
    # arXiv answered first with a different paper, which was not accepted.
    assert [s.api for s in apis.requests] == ["arxiv", "s2"]
    stored = engine.work(entry.work.id)
    assert stored is not None and stored.sources  # stored, with where it came from
    # Next time it is in the knowledge base: no request.
    before = len(apis.requests)
    again = engine.cite(PARROTS)
    assert again.confident and again.fetched is None and len(apis.requests) == before


def test_a_title_no_api_agrees_with_stays_unresolved(apis: FakeApis, make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(live_lookup=True)
    result = engine.bibliography("Everyone cites “Zebra Herds Do Not Exist: A Survey” here.")
    assert result.entries == [] and [u.kind for u in result.unresolved] == ["quote"]
    assert engine.db.count_works() == 0
    assert {s.api for s in apis.requests} == {"arxiv", "s2", "openalex"}


def test_a_hanging_api_is_cut_off_at_the_deadline(apis: FakeApis, make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(live_lookup=True, live_lookup_deadline_seconds=1.0, metadata_read_timeout_seconds=30.0)
    apis.script = ["hang"]
    started = time.monotonic()
    result = engine.cite(f"“{PARROTS}”")
    assert time.monotonic() - started < 3
    assert result.fetched is None and not result.confident
