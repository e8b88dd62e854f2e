"""`POST /v1/papers` takes "ingest JSON Lines records": whatever it accepts must be stored as the same record
in a JSON Lines file would be, so a paper sent by a forum plugin and the same paper ingested from a file are
one work (ids without version, DOIs in lower case, titles with whitespace folded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from bot.http.app import create_app
from bot.moderation.service import Moderator
from tests.conftest import OpenEngine
from tests.http.conftest import RULES, bearer, settings
from tests.properties import STATEFUL


@st.composite
def api_records(draw: st.DrawFn) -> dict[str, Any]:
    """A record as a client sends it: ids in the forms people paste, titles as they come."""
    number = draw(st.integers(0, 99_999))
    arxiv_forms = ["2402.{:05d}", "arXiv:2402.{:05d}v2", "https://arxiv.org/abs/2402.{:05d}v1", "2402.{:05d}v3"]
    record: dict[str, Any] = {
        "title": draw(st.sampled_from(["Sleeper agents", "  Alignment\tfaking in  large language models\n"])),
        "authors": draw(st.lists(st.sampled_from(["Evan Hubinger", " Ryan  Greenblatt "]), max_size=2)),
        "arxiv_id": draw(st.sampled_from(arxiv_forms)).format(number),
    }
    if draw(st.booleans()):
        record["doi"] = draw(st.sampled_from(["10.48550/ARXIV.2402.{:05d}", "https://doi.org/10.1000/X{:05d}"])).format(
            number
        )
    return record


@given(api_records())
@example({"title": "Sleeper agents", "authors": [], "arxiv_id": "arXiv:2402.00001v2"})
@STATEFUL
def test_a_paper_sent_to_the_api_and_in_a_file_is_one_work(open_engine: OpenEngine, record: dict[str, Any]) -> None:
    engine = open_engine()
    app = create_app(engine, Moderator(engine, config_path=RULES), settings())
    secret = app.state.ctx.tokens.create("plugin", ["write"])[1]
    with TestClient(app, headers=bearer(secret)) as client:
        response = client.post("/v1/papers", json={"records": [record]})
    assert response.status_code == 200, response.text
    path = Path(engine.settings.data_dir) / "same.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = engine.ingest([path])
    assert report.added == 0 and not report.errors
    assert engine.db.count_works() == 1
    [work] = engine.db.works(sorted(set(engine.db.key_map().values()))).values()
    assert work.title == " ".join(record["title"].split())
    assert work.arxiv_id == record["arxiv_id"].removeprefix("https://arxiv.org/abs/").removeprefix("arXiv:")[:10]
    assert work.url == f"https://arxiv.org/abs/{work.arxiv_id}"
