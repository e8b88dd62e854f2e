"""Ingesting over a real engine (SQLite, embedded Chroma, the MiniLM embedder): however often, in whatever
order and with whatever interruptions a file is ingested, each work is stored exactly once, with one vector.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import bot.ingest.pipeline as pipeline
import bot.ingest.vectorize as vectorize
from bot.citations import bibtex
from bot.domain import IngestReport, RankedWork
from bot.engine import Engine
from tests.conftest import OpenEngine
from tests.properties import STATEFUL

# Distinct works: distinct arXiv ids and titles that differ in a word of their own (works with the same
# normalised title merge, as documented).
words = st.text(st.characters(categories=["L", "Nd"]), min_size=1, max_size=8)


@st.composite
def distinct_works(draw: st.DrawFn, min_size: int = 1, max_size: int = 5) -> list[dict[str, Any]]:
    numbers = draw(st.lists(st.integers(0, 99_999), min_size=min_size, max_size=max_size, unique=True))
    works = []
    for i, number in enumerate(numbers):
        works.append(
            {
                "arxiv_id": f"2401.{number:05d}",
                "title": " ".join([*draw(st.lists(words, min_size=1, max_size=4)), f"work{i}"]),
                "authors": draw(st.lists(words, max_size=3)),
                "year": 2024,
            }
        )
    return works


def other_form(work: dict[str, Any], form: int) -> dict[str, Any]:
    """The same work as another source writes it: the id with a version, as a link, or in `id`."""
    arxiv_id = work["arxiv_id"]
    if form == 0:
        return work
    if form == 1:
        return {**work, "arxiv_id": f"arXiv:{arxiv_id}v2"}
    if form == 2:
        return {**work, "arxiv_id": f"https://arxiv.org/abs/{arxiv_id}v3"}
    return {**{k: v for k, v in work.items() if k != "arxiv_id"}, "id": f"arxiv:{arxiv_id}"}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def assert_stored_once(engine: Engine, works: list[dict[str, Any]]) -> None:
    assert engine.db.count_works() == len(works)
    keys = engine.db.key_map()
    for work in works:
        stored = engine.work(keys[f"arxiv:{work['arxiv_id']}"])
        assert stored is not None and stored.title == work["title"] and stored.arxiv_id == work["arxiv_id"]
    # One vector a work: none missing, none left over from a duplicate.
    assert engine.vectors.count() == len(works)
    assert engine.db.count_needing_vectors() == 0


BAD_LINES = ['{"title": ', "[1, 2]", '{"authors": ["no title"]}', '{"title": "x", "year": "never"}', "\x00\x01"]


@given(distinct_works(), st.randoms(use_true_random=False), st.data())
@STATEFUL
def test_each_work_is_stored_once_however_it_is_ingested(
    open_engine: OpenEngine, works: list[dict[str, Any]], rng: random.Random, data: st.DataObject
) -> None:
    engine = open_engine()
    folder = Path(tempfile.mkdtemp(dir=engine.settings.data_dir))
    first = write_lines(folder / "first.jsonl", [json.dumps(w) for w in works])
    # Another file with the same works shuffled, repeated, in other id forms, between bad and blank lines.
    repeated = [other_form(w, data.draw(st.integers(0, 3))) for w in works for _ in range(rng.randint(1, 3))]
    bad = data.draw(st.lists(st.sampled_from(BAD_LINES), max_size=3))
    lines = [json.dumps(r) for r in repeated] + bad + [""]
    rng.shuffle(lines)
    second = write_lines(folder / "second.jsonl", lines)

    reports: list[IngestReport] = [engine.ingest([first])]
    assert reports[0].added == len(works) and not reports[0].errors
    reports.append(engine.ingest([second]))
    reports.append(engine.ingest([first, second]))  # both already complete: nothing is read again
    reports.append(engine.ingest([second], force=True))
    # The same works exported as BibTeX (`cite --style bibtex`) and ingested: merged by arXiv id, none added.
    exported = [bibtex(RankedWork(id="x", score=1, **w)) for w in works]
    reports.append(engine.ingest([write_lines(folder / "export.bib", exported)]))

    assert reports[1].added == 0 and reports[1].read == len(repeated)
    assert len(reports[1].errors) == len(bad)
    assert all(e.startswith(f"{second}:") for e in reports[1].errors)
    assert reports[2].read == 0
    assert reports[3].added == 0 and reports[3].merged == 0 and reports[3].unchanged == len(repeated)
    assert reports[4].added == 0 and reports[4].read == len(works) and not reports[4].errors
    assert_stored_once(engine, works)


class Interrupt:
    """A progress callback that raises KeyboardInterrupt (Ctrl-C, or SIGTERM in the CLI) at its n-th call."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0

    def __call__(self, _phase: str, _advance: int, _total: int | None) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt


@given(distinct_works(min_size=2, max_size=7), st.integers(1, 12), st.integers(1, 3))
# Interrupted in the 2nd vector batch's progress call: the batch was counted as embedded twice.
@example([{"arxiv_id": f"2401.0000{i}", "title": f"w work{i}", "authors": [], "year": 2024} for i in range(5)], 7, 2)
@STATEFUL
def test_an_interrupted_ingest_resumes_without_losing_or_repeating_a_work(
    open_engine: OpenEngine, works: list[dict[str, Any]], interrupt_at: int, batch: int
) -> None:
    engine = open_engine()
    path = write_lines(
        Path(tempfile.mkdtemp(dir=engine.settings.data_dir)) / "papers.jsonl", [json.dumps(w) for w in works]
    )
    with pytest.MonkeyPatch.context() as patch:
        # Small batches, so the interrupt can fall between stored batches of records and of vectors.
        patch.setattr(pipeline, "RECORD_BATCH", batch)
        patch.setattr(vectorize, "VECTOR_BATCH", batch)
        interrupted = engine.ingest([path], progress=Interrupt(interrupt_at))
        resumed = engine.ingest([path])
        finished = engine.embed_pending()
    assert not resumed.interrupted and not finished.interrupted
    # Records read again after the checkpoint would be "unchanged"; none may be added twice.
    assert interrupted.added + resumed.added == len(works)
    assert interrupted.embedded + resumed.embedded + finished.embedded == len(works)
    assert_stored_once(engine, works)
