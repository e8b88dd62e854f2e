"""The lexical index saved beside the database with the knowledge base's generation: loaded when unchanged,
updated with just the changed works when behind (not rebuilt), and never served stale."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.lexical import stems
from tests.conftest import FIXTURES, OpenEngine

RECORD = {"id": "bib:persisted", "title": "Persisted Lexical Indexes for Quokka Retrieval", "authors": ["A. Writer"]}


@pytest.fixture
def engine(open_engine: OpenEngine) -> Engine:
    engine = open_engine()
    engine.ingest([FIXTURES / "papers.jsonl"], embed=False)
    return engine


def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts CorpusIndex.build calls from here on."""
    calls: list[int] = []
    build = CorpusIndex.build.__func__  # type: ignore[attr-defined]

    def counted(cls: type[CorpusIndex], db):  # type: ignore[no-untyped-def]
        calls.append(1)
        return build(cls, db)

    monkeypatch.setattr(CorpusIndex, "build", classmethod(counted))
    return calls


def test_an_unchanged_knowledge_base_loads_the_saved_index(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    path = engine.lexical_index_path
    first = CorpusIndex.load_or_build(engine.db, path)
    assert path.is_file()
    calls = builds(monkeypatch)
    loaded = CorpusIndex.load_or_build(engine.db, path)
    assert calls == []
    assert loaded.ids == first.ids and loaded.keys == first.keys and loaded.aliases == first.aliases
    query = "chain of thought faithfulness"
    assert loaded.full.search(query, 5) == first.full.search(query, 5)
    assert loaded.title_index.idf(stems(query)) == first.title_index.idf(stems(query))


def test_an_added_work_is_applied_without_a_rebuild_and_saved(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    path = engine.lexical_index_path
    before = CorpusIndex.load_or_build(engine.db, path)
    engine.ingest_records([RECORD], embed=False)
    calls = builds(monkeypatch)
    index = CorpusIndex.load_or_build(engine.db, path)
    assert calls == [] and "bib:persisted" in index.ids and index.generation == before.generation + 1
    assert index.ids[index.full.search("quokka", 1)[0][0]] == "bib:persisted"
    assert index.full.delta_size == 1
    saved = path.stat().st_mtime_ns
    assert CorpusIndex.load_or_build(engine.db, path).ids == index.ids
    assert path.stat().st_mtime_ns == saved and calls == []  # saved once at the new generation, then loaded


def test_an_updated_index_holds_what_a_rebuilt_one_does(engine: Engine) -> None:
    path = engine.lexical_index_path
    CorpusIndex.load_or_build(engine.db, path)
    paula = {**RECORD, "authors": ["Paula Writer", "Quentin Other"], "arxiv_id": "2212.00001", "year": 2023}
    engine.ingest_records([paula], embed=False)
    updated, rebuilt = CorpusIndex.load_or_build(engine.db, path), CorpusIndex.build(engine.db)
    assert updated.full.delta_size == 1  # applied, not rebuilt
    per_work = [f.name for f in dataclasses.fields(CorpusIndex) if isinstance(getattr(rebuilt, f.name), list)]
    assert {"preprint_years", "given_names", "surnames"} <= set(per_work)
    for work_id, doc in rebuilt.position.items():
        for name in per_work:
            assert getattr(updated, name)[updated.position[work_id]] == getattr(rebuilt, name)[doc], (work_id, name)
    doc = updated.doc_for_key("arxiv:2212.00001")
    assert doc is not None and (updated.preprint_years[doc], updated.given_names[doc]) == (2022, ["paula", "quentin"])
    assert {"paula", "quentin"} <= updated.known_given_names == rebuilt.known_given_names


def test_a_merge_into_an_existing_work_is_seen(engine: Engine) -> None:
    path = engine.lexical_index_path
    engine.ingest_records([RECORD], embed=False)
    CorpusIndex.load_or_build(engine.db, path)
    # Same id, a longer abstract: merged, not added, so only `updated_at` tells the index it changed.
    engine.ingest_records([{**RECORD, "abstract": "Marsupial wombats and quokkas in search engines."}], embed=False)
    index = CorpusIndex.load_or_build(engine.db, path)
    assert [index.ids[d] for d, _ in index.full.search("wombats", 3)] == ["bib:persisted"]


def test_the_engine_serves_new_works_at_once(engine: Engine) -> None:
    title = RECORD["title"]
    before = engine.cite(title).match
    assert before is None or before.id != "bib:persisted"
    engine.ingest_records([RECORD], embed=False)
    after = engine.cite(title).match
    assert after is not None and after.id == "bib:persisted"


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_an_unreadable_file_is_rebuilt(engine: Engine, content: bytes) -> None:
    path: Path = engine.lexical_index_path
    path.write_bytes(content)
    index = CorpusIndex.load_or_build(engine.db, path)
    assert len(index) == engine.db.count_works()
    assert CorpusIndex.load_or_build(engine.db, path).ids == index.ids  # and saved whole this time
