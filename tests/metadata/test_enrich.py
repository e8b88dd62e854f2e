"""`enrich` over a real engine (SQLite or PostgreSQL, Chroma, MiniLM) and the fake APIs: what it fills, that it
never changes what the curated list says, that a re-run skips what is done, that an interrupted run resumes,
and that failing APIs store nothing wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot.metadata.enrich as enrich_module
from bot.domain import Origin, WorkRecord
from bot.engine import Engine
from bot.metadata.enrich import enrich

from . import fakes
from .conftest import READING_LIST, snapshot
from .fakes import HTML_PAGE, FakeApis, json_answer

TURPIN, LANHAM, JACOVI = "arxiv:2305.04388", "arxiv:2307.13702", "arxiv:2004.03685"
PARROTS = "doi:10.1145/3442188.3445922"


@pytest.fixture
def engine(make_engine: Callable[..., Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Our first four reading-list works, with Lanham et al.'s author list cut at 10 as an older list had it,
    and the stochastic parrots paper from someone's BibTeX file, with one author and no abstract."""
    monkeypatch.setitem(fakes.ARXIV_IDS, "2307.13702", "arxiv_2307.13702.xml")  # the full 30-author record
    records = [json.loads(line) for line in READING_LIST.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = records[:4]
    for record in records:
        if record.get("arxiv_id") == "2307.13702":
            record["authors"] = record["authors"][:10]
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "reading_list.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    engine = make_engine("curated", knowledge_dir=knowledge, load_bundled_knowledge=True)
    parrots = WorkRecord(
        id=PARROTS, doi="10.1145/3442188.3445922", title="On the Dangers of Stochastic Parrots", authors=["Bender"]
    )
    engine.ingest_records([parrots], origin=Origin(kind="file", name="library.bib"))
    return engine


def asked(apis: FakeApis) -> list[tuple[str, str]]:
    return [(r.api, r.query.get("id_list") or r.path) for r in apis.requests]


def test_enrich_fills_gaps_and_completes_author_lists(apis: FakeApis, engine: Engine) -> None:
    curated = {w.id: w for w in engine.db.iter_works() if w.curated}
    assert len(curated[LANHAM].authors) == 10
    report = enrich(engine)
    assert (report.checked, report.not_found, report.errors, report.remaining) == (5, 2, [], 0)
    changed = {change.id: change.fields for change in report.changed}
    assert changed[LANHAM] == {"authors": "arxiv", "abstract": "arxiv"}
    assert changed[TURPIN] == {"abstract": "arxiv"}
    assert changed[PARROTS]["abstract"] == "openalex" and changed[PARROTS]["venue"] == "s2"
    assert report.filled["abstract"] == 3 and report.filled["authors"] == 2
    lanham = engine.work(LANHAM)
    assert lanham is not None and len(lanham.authors) == 30 and lanham.authors[:10] == curated[LANHAM].authors
    assert lanham.provenance["authors"]["kind"] == "enrich" and lanham.provenance["authors"]["name"] == "arxiv"
    for work_id, work in curated.items():  # what the curated list says is untouched
        now = engine.work(work_id)
        assert now is not None
        for field in ("title", "summary", "aliases", "topics", "kind", "year", "venue", "url"):
            assert getattr(now, field) == getattr(work, field), (work_id, field)
    parrots = engine.work(PARROTS)
    assert parrots is not None and parrots.abstract and parrots.abstract.startswith("The past 3")
    assert len(parrots.authors) == 4 and parrots.title == "On the Dangers of Stochastic Parrots"
    assert report.embedded == 3 and engine.db.count_needing_vectors() == 0
    # Enriched works are marked: a second run asks nothing.
    requests = len(apis.requests)
    again = enrich(engine)
    assert (again.checked, again.changed, len(apis.requests)) == (0, [], requests)
    # With --again every work is asked about once more, and nothing changes but the marks.
    stored = snapshot(engine)
    assert enrich(engine, again=True, sources=["arxiv"]).changed == []
    unmarked = [[{**w, "enriched_at": None} for w in works] for works in (stored[0], snapshot(engine)[0])]
    assert unmarked[0] == unmarked[1]


def test_dry_run_reports_the_same_changes_and_stores_nothing(apis: FakeApis, engine: Engine) -> None:
    stored = snapshot(engine)
    preview = enrich(engine, dry_run=True)
    assert preview.dry_run and snapshot(engine) == stored
    assert preview.remaining == 5  # nothing was marked either
    real = enrich(engine)
    assert [c.model_dump() for c in preview.changed] == [c.model_dump() for c in real.changed]


def test_an_interrupted_run_resumes_with_the_works_it_had_not_done(
    apis: FakeApis, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enrich_module, "BATCH", 2)
    seen: list[int] = []

    def interrupt_in_the_second_batch(phase: str, advance: int, _total: int | None) -> None:
        if phase == "enriching" and advance:
            seen.append(advance)
            if len(seen) == 3:
                raise KeyboardInterrupt

    first = enrich(engine, progress=interrupt_in_the_second_batch)
    assert first.interrupted and first.remaining == 3  # the first batch (two works) is stored and marked
    done = {w.id for w in engine.db.iter_works() if w.enriched_at is not None}
    assert done == {JACOVI, TURPIN}  # id order
    before = len(apis.requests)
    rest = enrich(engine)
    assert not rest.interrupted and rest.checked == 3 and rest.remaining == 0
    asked_again = [r for r in apis.requests[before:] if "2305.04388" in (r.query.get("id_list") or r.path.lower())]
    assert asked_again == []  # Turpin et al. was done before the interruption
    lanham = engine.work(LANHAM)
    assert lanham is not None and len(lanham.authors) == 30
    assert engine.db.count_needing_vectors() == 0


FAILING = [
    pytest.param([json_answer(503, {"message": "down"})] * 3, "Semantic Scholar: answered HTTP 503", id="503"),
    pytest.param([HTML_PAGE], "Semantic Scholar: sent an HTML page instead of JSON", id="html"),
    pytest.param([json_answer(200, {"paperId": 5, "title": ["x"]})], "Semantic Scholar: sent JSON", id="shape"),
]


@pytest.mark.parametrize(("script", "message"), FAILING)
def test_a_failing_api_stores_nothing_wrong_and_is_asked_again(
    apis: FakeApis, make_engine: Callable[..., Engine], script: list[Any], message: str
) -> None:
    engine = make_engine(metadata_retries=2)
    engine.ingest_records(
        [WorkRecord(id=PARROTS, doi="10.1145/3442188.3445922", title="On the Dangers of Stochastic Parrots")],
        origin=Origin(kind="file", name="library.bib"),
    )
    apis.script = list(script)  # the first requests: Semantic Scholar's (arXiv cannot look a DOI up)
    report = enrich(engine)
    [error] = report.errors
    assert error.startswith(f"{PARROTS}: ") and message in error
    work = engine.work(PARROTS)
    assert work is not None and work.enriched_at is None and report.remaining == 1  # asked again next run
    assert work.abstract and work.provenance["abstract"]["name"] == "openalex"  # what answered is kept
    assert "semantic-scholar" not in work.sources  # nothing from the failed answer
    assert {p["name"] for p in work.provenance.values()} == {"library.bib", "openalex"}
    retry = enrich(engine)
    assert retry.errors == [] and retry.remaining == 0
    work = engine.work(PARROTS)
    assert work is not None and work.enriched_at is not None and "semantic-scholar" in work.sources


def test_an_api_that_keeps_failing_is_left_alone(
    apis: FakeApis, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enrich_module, "MAX_FAILURES", 2)
    apis.script = ["drop"] * 100  # every request fails: the connection is dropped
    report = enrich(engine, sources=["arxiv"])
    assert report.skipped_sources == ["arxiv"] and len(report.errors) == 2
    assert report.remaining == 5 and report.changed == []
