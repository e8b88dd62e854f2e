"""Two-phase ingestion against a real SQLite file and a real embedded Chroma, with the real model."""

from pathlib import Path

import pytest

import bot.ingest.pipeline as pipeline
import bot.ingest.vectorize as vectorize
from bot.domain import WorkRecord
from bot.engine import Engine
from tests.conftest import FIXTURES


def count_works(engine: Engine) -> int:
    return engine.db.count_works()


def test_records_of_one_work_from_different_sources_merge(empty_engine: Engine) -> None:
    report = empty_engine.ingest(
        [FIXTURES / "papers.jsonl", FIXTURES / "papers.bib", FIXTURES / "arxiv_snapshot.jsonl"]
    )
    assert len(report.errors) == 3 + 1 + 1
    # papers.jsonl: Lanham twice (title casing differs), Jacovi & Goldberg twice (DOI) -> 5 works from 7 records.
    assert count_works(empty_engine) == 5 + 2 + 2
    lanham = empty_engine.db.work_for_key("arxiv:2307.13702")
    assert lanham is not None
    assert lanham.authors[:2] == ["Tamera Lanham", "Anna Chen"]
    assert len(lanham.authors) == 4  # the longer author list wins
    assert lanham.abstract and "Intervening on the reasoning" in lanham.abstract  # the abstract fills in
    assert empty_engine.db.work_for_key("title:measuring faithfulness in chain of thought reasoning") == lanham
    jacovi = empty_engine.db.work_for_key("doi:10.18653/v1/2020.acl-main.386")
    assert jacovi is not None and jacovi.arxiv_id == "2004.03685" and jacovi.venue == "ACL 2020"
    assert empty_engine.db.work_for_key("arxiv:2004.03685") == jacovi
    assert report.embedded == count_works(empty_engine)
    assert empty_engine.vectors.count() == count_works(empty_engine)


def test_reingesting_the_same_file_changes_nothing(empty_engine: Engine, tmp_path: Path) -> None:
    empty_engine.ingest([FIXTURES / "papers.jsonl"])
    before = {w.id: w.model_dump() for w in empty_engine.db.iter_works()}
    again = empty_engine.ingest([FIXTURES / "papers.jsonl"])
    assert again.read == 0  # the checkpoint says the file is done
    forced = empty_engine.ingest([FIXTURES / "papers.jsonl"], force=True)
    assert forced.added == 0 and forced.merged == 0 and forced.unchanged == 7 and forced.embedded == 0
    assert {w.id: w.model_dump() for w in empty_engine.db.iter_works()} == before
    # A copy under another name is the same data: still nothing changes.
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes((FIXTURES / "papers.jsonl").read_bytes())
    assert empty_engine.ingest([copy]).added == 0
    assert {w.id: w.model_dump() for w in empty_engine.db.iter_works()} == before


def test_curated_records_win_over_scraped_ones(empty_engine: Engine, tmp_path: Path) -> None:
    empty_engine.ingest([FIXTURES / "papers.jsonl"])
    curated = tmp_path / "curated.jsonl"
    curated.write_text(
        '{"id": "arxiv:2305.04388", "arxiv_id": "2305.04388", "title": "Language Models Don\'t Always Say What '
        'They Think: Unfaithful Explanations in Chain-of-Thought Prompting", "authors": ["Miles Turpin"], '
        '"year": 2023, "summary": "Our words.", "aliases": ["Turpin et al. 2023"], "topics": ["cot-faithfulness"]}\n'
    )
    empty_engine.ingest([curated], curated=True)
    work = empty_engine.db.work_for_key("arxiv:2305.04388")
    assert work is not None and work.curated
    # The curated list wins what it curates; the most complete author list wins whatever its source.
    assert len(work.authors) == 4 and work.provenance["authors"]["kind"] == "file"
    assert work.summary == "Our words." and work.abstract  # the scraped abstract is kept alongside
    assert work.aliases == ["Turpin et al. 2023"]
    assert {work.provenance[f]["kind"] for f in ("title", "summary", "aliases", "topics")} == {"curated"}
    assert work.provenance["summary"]["name"] == str(curated.resolve())


def synthetic(path: Path, n: int) -> Path:
    lines = [
        f'{{"id": "t:{i}", "title": "Synthetic work number {i} about topic {i % 7}", "authors": ["A. Writer{i}"],'
        f' "year": 2020, "abstract": "Abstract {i}."}}'
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_interrupted_ingest_keeps_what_was_stored_and_resumes(
    empty_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "RECORD_BATCH", 10)
    data = synthetic(tmp_path / "many.jsonl", 55)
    calls = {"n": 0}

    def interrupt_after_two_batches(phase: str, advance: int, total: int | None) -> None:
        if phase.startswith("reading") and advance:
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt

    first = empty_engine.ingest([data], progress=interrupt_after_two_batches)
    assert first.interrupted
    assert count_works(empty_engine) == 20
    checkpoint = empty_engine.db.checkpoint(str(data.resolve()))
    assert checkpoint is not None and checkpoint.lines_done == 20 and not checkpoint.complete

    second = empty_engine.ingest([data])
    assert second.read == 35  # resumed after line 20, did not start over
    assert count_works(empty_engine) == 55
    assert empty_engine.vectors.count() == 55


def test_interrupted_embedding_resumes_with_only_the_missing_vectors(
    empty_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectorize, "VECTOR_BATCH", 8)
    data = synthetic(tmp_path / "many.jsonl", 40)

    def interrupt_embedding(phase: str, advance: int, total: int | None) -> None:
        if phase == "embedding" and advance:
            raise KeyboardInterrupt

    report = empty_engine.ingest([data], progress=interrupt_embedding)
    assert report.interrupted
    done = empty_engine.vectors.count()
    assert 0 < done < 40
    assert empty_engine.db.count_needing_vectors() == 40 - done
    resumed = empty_engine.embed_pending()
    assert resumed.embedded == 40 - done
    assert empty_engine.vectors.count() == 40 and empty_engine.db.count_needing_vectors() == 0


def test_repair_after_the_stores_disagree(empty_engine: Engine, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    empty_engine.ingest([synthetic(tmp_path / "few.jsonl", 12)])
    # A crash after Chroma got vectors the database never recorded, and a lost vector.
    empty_engine.vectors.upsert(["ghost:1"], embedder.encode(["ghost"]))
    lost = sorted(empty_engine.db.vector_marked_ids())[:3]
    empty_engine.vectors.delete(lost)
    repaired = empty_engine.repair()
    assert repaired == {"deleted_vectors": 1, "unmarked_works": 3}
    assert "ghost:1" not in empty_engine.vectors.all_ids()
    assert empty_engine.db.count_needing_vectors() == 3
    empty_engine.embed_pending()
    assert empty_engine.vectors.all_ids() == empty_engine.db.vector_marked_ids()
    assert empty_engine.repair() == {"deleted_vectors": 0, "unmarked_works": 0}


def test_ingest_records_from_memory_validates(empty_engine: Engine) -> None:
    report = empty_engine.ingest_records([{"id": "x:1", "title": "A Study of Things", "authors": ["Ann Lee"]}])
    assert report.added == 1 and report.embedded == 1
    with pytest.raises(ValueError, match="missing title"):
        empty_engine.ingest_records([{"id": "x:2", "authors": []}])
    with pytest.raises(ValueError, match="year"):
        empty_engine.ingest_records([WorkRecord.model_construct(title="T", authors=[], year=2**63).model_dump()])
    with pytest.raises(ValueError, match="year"):
        WorkRecord(title="T", year=2**63)
    assert count_works(empty_engine) == 1
