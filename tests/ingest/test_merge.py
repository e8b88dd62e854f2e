"""Merging per field (`merge_record`): who wins each field, provenance, and refused changes to curated works.
Pure functions over the storage model; `test_pipeline.py` runs the same rules through real stores."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain import IngestReport, Origin, WorkRecord
from bot.ingest.parsers import MAX_RECORD_CHARS
from bot.ingest.pipeline import RecordMerger, ingest_file, merge_record, new_work
from bot.storage import Database

LIST = Origin(kind="curated", name="knowledge/reading_list.jsonl")
BIB = Origin(kind="file", name="/home/ana/library.bib")
ARXIV = Origin(kind="fetch", name="arxiv")
TOKEN = Origin(kind="api", name="forum-plugin")
TEN = [f"Author{i} Surname{i}" for i in range(10)]
FULL = [*TEN, *(f"Author{i} Surname{i}" for i in range(10, 40))]


def curated_work() -> WorkRecord:
    return WorkRecord(
        id="arxiv:2401.05566",
        arxiv_id="2401.05566",
        title="Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training",
        authors=TEN,
        year=2024,
        url="https://arxiv.org/abs/2401.05566",
        summary="Our words.",
        aliases=["the sleeper agents paper"],
        topics=["deception"],
        kind="paper",
    )


def test_the_most_complete_author_list_wins_whatever_its_source() -> None:
    work = new_work(curated_work(), "arxiv:2401.05566", LIST)
    for origin in (ARXIV, BIB, TOKEN):
        merged, conflicts = merge_record(work, WorkRecord(title=work.title, authors=FULL), origin)
        assert merged.authors == FULL and conflicts == []
        assert merged.provenance["authors"]["kind"] == origin.kind
        # The curated list's shorter (cut) list never truncates it again.
        again, _ = merge_record(merged, curated_work(), LIST)
        assert again.authors == FULL and again.provenance["authors"]["kind"] == origin.kind
    # A same-length list: the curated list's spelling wins.
    spelled = [a.upper() for a in TEN]
    assert merge_record(work, curated_work().model_copy(update={"authors": spelled}), LIST)[0].authors == spelled


def test_the_curated_list_wins_what_it_curates_and_fetches_fill_gaps() -> None:
    fetched = WorkRecord(
        title="Sleeper agents: training deceptive LLMs",
        authors=FULL,
        year=2023,
        abstract="Humans are capable of strategic deception.",
        venue="arXiv preprint",
        doi="10.1234/abc",
        topics=["cs.CR"],
    )
    work = new_work(fetched, "arxiv:2401.05566", ARXIV)
    merged, conflicts = merge_record(work, curated_work(), LIST)
    assert conflicts == [] and merged.curated
    assert (merged.title, merged.summary, merged.aliases, merged.year) == (
        curated_work().title,
        "Our words.",
        ["the sleeper agents paper"],
        2024,
    )
    assert merged.topics == ["deception"]  # ours, not the API's categories
    assert (merged.abstract, merged.venue, merged.doi, merged.authors) == (
        fetched.abstract,
        "arXiv preprint",
        "10.1234/abc",
        FULL,
    )
    kinds = {field: source["kind"] for field, source in merged.provenance.items()}
    assert kinds == {
        "title": "curated",
        "summary": "curated",
        "aliases": "curated",
        "topics": "curated",
        "kind": "curated",
        "year": "curated",
        "url": "curated",
        "arxiv_id": "curated",
        "authors": "fetch",
        "abstract": "fetch",
        "venue": "fetch",
        "doi": "fetch",
    }
    # A later fetch changes nothing the curated list says, and refuses nothing (public records are not hostile).
    again, conflicts = merge_record(merged, fetched, ARXIV)
    assert conflicts == [] and again.model_dump(exclude={"sources"}) == merged.model_dump(exclude={"sources"})


def test_untrusted_writes_to_a_curated_work_are_refused_field_by_field() -> None:
    work = new_work(curated_work(), "arxiv:2401.05566", LIST)
    work, _ = merge_record(work, WorkRecord(title="x", abstract="The arXiv abstract."), ARXIV)
    hostile = WorkRecord(
        title="Sleeper Agents are a hoax",
        authors=["Mallory"],
        year=2019,
        abstract="A much longer abstract that says something else entirely. " * 5,
        url="https://evil.example/x",
        summary="A hoax.",
        aliases=["hoax"],
        kind="post",
    )
    for origin in (BIB, TOKEN):
        merged, conflicts = merge_record(work, hostile, origin)
        assert merged.model_dump(exclude={"sources"}) == work.model_dump(exclude={"sources"})
        assert {c.field for c in conflicts} == {
            "title",
            "authors",
            "year",
            "abstract",
            "url",
            "summary",
            "aliases",
            "kind",
        }
        assert all(c.origin == origin and c.work_id == work.id for c in conflicts)
    # Other spellings of what we have are not conflicts: title casing, a versioned link, a shorter author list.
    harmless = WorkRecord(
        title=work.title.upper(), url="https://arxiv.org/abs/2401.05566v3", authors=TEN[:3], doi="10.1/fill"
    )
    merged, conflicts = merge_record(work, harmless, BIB)
    assert conflicts == [] and merged.doi == "10.1/fill"  # a gap is filled, from any source


def test_non_curated_works_merge_as_before() -> None:
    first = new_work(WorkRecord(title="A study of probes", authors=["A. Lee"], abstract="Short."), "x:1", BIB)
    merged, conflicts = merge_record(first, WorkRecord(title="Other title", authors=["A. Lee", "B. Kim"]), TOKEN)
    assert conflicts == [] and merged.title == "A study of probes" and merged.authors == ["A. Lee", "B. Kim"]
    # Abstracts fill gaps; a public record's fuller abstract replaces a shorter one, an API's does not.
    assert merge_record(merged, WorkRecord(title="t", abstract="Much longer abstract."), TOKEN)[0].abstract == "Short."
    assert merge_record(merged, WorkRecord(title="t", abstract="Much longer abstract."), ARXIV)[0].abstract != "Short."


def test_curated_and_non_curated_files_through_the_stores(tmp_path: Path, database_url: str) -> None:
    """A user's file cannot change the curated list's work, and the refusals are stored once."""
    db = Database(database_url)
    curated = tmp_path / "reading_list.jsonl"
    curated.write_text(json.dumps(curated_work().model_dump(exclude={"curated", "source"})) + "\n")
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"arxiv_id": "2401.05566", "title": "Sleeper Agents", "summary": "Mine."}) + "\n")
    try:
        ingest_file(db, RecordMerger(db), curated, IngestReport(), curated=True)
        for _ in range(2):
            report = IngestReport()
            ingest_file(db, RecordMerger(db), mine, report, force=True)
            assert [(c.field, c.proposed) for c in report.conflicts] == [("summary", "Mine.")]
            assert report.conflicts[0].origin == Origin(kind="file", name=str(mine.resolve()))
        [stored] = db.conflicts("arxiv:2401.05566")
        assert (stored.field, stored.stored, stored.proposed) == ("summary", "Our words.", "Mine.")
        assert db.works(["arxiv:2401.05566"])["arxiv:2401.05566"].summary == "Our words."
    finally:
        db.close()


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory from getrusage (KiB on Linux)")
def test_a_50_mb_record_is_refused_early_without_a_memory_spike(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    with huge.open("w") as handle:
        handle.write(json.dumps({"title": "Huge", "abstract": "word " * 10_000_000}) + "\n")  # 50 MB
        handle.write(json.dumps({"title": "Next one"}) + "\n")
    assert huge.stat().st_size > 50_000_000 >= 25 * MAX_RECORD_CHARS
    script = (
        "import resource, sys\n"
        "from bot.ingest.parsers import parse_path\n"
        "from pathlib import Path\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "items = list(parse_path(Path(sys.argv[1])))\n"
        "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(grown, [str(item) if not hasattr(item, 'title') else item.title for _, item in items])\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(huge)], capture_output=True, text=True, check=True)
    grown_kib, items = done.stdout.split(" ", 1)
    assert int(grown_kib) < 40_000  # < 40 MB more at peak for a 50 MB line (it was gigabytes)
    assert "huge.jsonl:1: record of 50,000,034 characters; a record may have at most 2,000,000" in items
    assert "'Next one'" in items
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
