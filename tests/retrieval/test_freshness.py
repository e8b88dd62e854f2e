"""Every process sees the works any other process stores: the generation is followed, the indexes updated
with just the changed works, and `cite` in a running server returns a work the CLI added moments ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.engine import Engine
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.freshness import FollowedCorpus
from bot.storage import Database
from tests.backends import BACKENDS
from tests.conftest import FIXTURES, OpenEngine, make_settings
from tests.live_server import serve_process

ROOT = Path(__file__).resolve().parents[2]
QUOKKA = {"id": "bib:quokka", "title": "Quokka Gradient Hacking in Marsupial Transformers", "authors": ["Q. Wallaby"]}


def test_another_process_write_is_seen_within_the_poll(open_engine: OpenEngine) -> None:
    """Two engines on one database stand for two processes: the reader never wrote, yet follows the writer."""
    writer = open_engine()
    reader = Engine.open(writer.settings, embedder=writer.embedder)
    reader._corpus.poll_seconds = 0.2
    writer.ingest([FIXTURES / "papers.jsonl"], embed=False)
    seen = reader.generation_seen
    assert reader.cite(QUOKKA["title"]).match is None or reader.cite(QUOKKA["title"]).match.id != "bib:quokka"
    writer.ingest_records([QUOKKA], embed=False)
    time.sleep(0.3)
    match = reader.cite(QUOKKA["title"]).match
    assert match is not None and match.id == "bib:quokka"
    assert reader.generation_seen == writer.db.generation().value > (seen or 0)
    assert reader.corpus.full.delta_size >= 1  # updated, not rebuilt
    # A heartbeat, not the poll, brings an idle reader up to date.
    reader._corpus.poll_seconds = 3600
    writer.ingest_records([{**QUOKKA, "id": "bib:wombat", "title": "Wombat Oversight"}], embed=False)
    assert reader.follow_generation() == writer.db.generation().value == reader.generation_seen
    assert "bib:wombat" in reader.corpus.position
    reader.close()


def test_a_reader_keeps_its_snapshot_while_the_index_moves_on(open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.ingest([FIXTURES / "papers.jsonl"], embed=False)
    before = engine.corpus
    ids, keys, aliases = list(before.ids), dict(before.keys), {k: list(v) for k, v in before.aliases.items()}
    engine.ingest_records([QUOKKA, {**QUOKKA, "id": "bib:other", "title": "Another work", "aliases": ["quokka"]}])
    after = engine.corpus
    assert after is not before and after.generation > before.generation
    assert before.ids == ids and before.keys == keys and before.aliases == aliases  # untouched
    assert after.aliases["quokka"] == [after.position["bib:other"]]


def test_a_changed_work_is_found_once_with_its_new_text(open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.ingest_records([QUOKKA], embed=False)
    first = engine.corpus
    old_doc = first.position["bib:quokka"]
    engine.ingest_records([{**QUOKKA, "abstract": "Wombats burrow through loss landscapes."}], embed=False)
    index = engine.corpus
    assert index.position["bib:quokka"] != old_doc and index.titles[old_doc] == ""
    assert [index.ids[d] for d, _ in index.full.search("wombats quokka", 5)] == ["bib:quokka"]
    assert [index.ids[d] for d, _ in index.title_index.search("quokka gradient hacking", 5)] == ["bib:quokka"]
    assert index.by_surname["wallaby"] == [index.position["bib:quokka"]]


def test_many_changes_rebuild_and_a_recreated_database_is_not_mistaken(
    open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_engine()
    engine.ingest_records([QUOKKA], embed=False)
    index = engine.corpus
    monkeypatch.setattr("bot.retrieval.corpus.COMPACT_AT", 2)
    engine.ingest_records([{**QUOKKA, "id": f"bib:q{n}", "title": f"Quokka study {n}"} for n in range(3)], embed=False)
    rebuilt = engine.corpus
    assert rebuilt.full.delta_size == 0 and len(rebuilt) == len(index) + 3  # compacted: a fresh main index
    assert index.follow(engine.db).full.delta_size == 0
    # A saved index of another knowledge base at the same generation is rebuilt, not trusted.
    stranger = CorpusIndex(kb_id="another", generation=rebuilt.generation)
    assert stranger.follow(engine.db).ids == rebuilt.ids


def test_a_follower_too_far_behind_the_pruned_log_rebuilds(open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.ingest_records([QUOKKA], embed=False)
    followed = FollowedCorpus(engine.db, engine.lexical_index_path, poll_seconds=0)
    old = followed.current()
    engine.ingest_records([{**QUOKKA, "id": "bib:q2", "title": "Quokka sequel"}], embed=False)
    with engine.db.engine.begin() as connection:  # what pruning leaves: the log starts after `old`
        connection.exec_driver_sql("UPDATE kb_generation SET oldest = value")
    assert engine.db.changed_since(old.generation, engine.db.generation()) is None
    new = followed.current()
    assert "bib:q2" in new.position and new.full.delta_size == 0


def test_a_work_added_by_the_cli_is_cited_by_a_running_server_within_10_s(tmp_path: Path) -> None:
    """Real processes: `alignbot serve` answering, then `alignbot ingest` in another process."""
    data_dir = tmp_path / "kb"
    env = {**BACKENDS.env(data_dir), "ALIGNBOT_HTTP_OPEN_READS": "true"}
    papers = tmp_path / "new.jsonl"
    papers.write_text(json.dumps(QUOKKA) + "\n")
    with serve_process(env) as url:
        before = httpx.post(f"{url}/v1/cite", json={"reference": QUOKKA["title"]}, timeout=30).json()
        assert (before.get("match") or {}).get("id") != "bib:quokka"
        run_env = {**os.environ, "PYTHONPATH": str(ROOT), "ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE": "false", **env}
        ingest = [sys.executable, "-m", "bot.cli", "ingest", str(papers)]
        subprocess.run(ingest, env=run_env, check=True, capture_output=True, timeout=300)
        stored = time.monotonic()
        while True:
            answer = httpx.post(f"{url}/v1/cite", json={"reference": QUOKKA["title"]}, timeout=30).json()
            if (answer.get("match") or {}).get("id") == "bib:quokka":
                print(f"cited {time.monotonic() - stored:.2f} s after the ingest process exited")  # shown with -s
                break
            assert time.monotonic() - stored < 10, answer
            time.sleep(0.25)
    assert Database(make_settings(data_dir).sqlalchemy_url).generation().value >= 1
