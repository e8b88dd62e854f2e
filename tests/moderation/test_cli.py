"""The moderation commands, run through Typer as a user runs them, on a real data directory."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

import bot.engine
from bot.cli import app
from bot.embedding import Embedder
from bot.engine import Engine
from bot.settings import Settings
from tests.backends import BACKENDS

from .conftest import FIXTURES, kb_records, lightly_edit, submission, text


@pytest.fixture
def cli(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch):
    """Run `alignbot …` in a fresh data dir (no bundled reading list, the test KB ingested)."""
    for name in (
        "DATABASE_URL",
        "ALIGNBOT_DATABASE_URL",
        "CHROMA_HOST",
        "ALIGNBOT_CHROMA_HOST",
        "ALIGNBOT_LLM_PROVIDER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in BACKENDS.env(tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE", "false")
    monkeypatch.setattr(bot.engine, "embedder_for", lambda settings: embedder)  # load the model once per run
    engine = Engine.open(Settings(), embedder=embedder)
    engine.ingest_records(kb_records())
    engine.close()
    runner = CliRunner()  # the whole app: its callback closes what each command opened

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def test_moderation_workflow(cli, tmp_path: Path) -> None:
    code, _out, err = cli("members", "import", str(FIXTURES / "members.jsonl"))
    assert code == 0 and "7 members read: 7 new, 0 updated; 0 bad lines" in err
    code, _out, err = cli("members", "import", str(FIXTURES / "members_bad.jsonl"))
    assert code == 0 and f"{FIXTURES / 'members_bad.jsonl'}:4: handle: Field required" in err
    code, _out, err = cli("posts", "ingest", str(FIXTURES / "posts.jsonl"))
    assert code == 0 and "6 posts read: 6 new, 0 updated" in err and "links indexed" in err

    path = tmp_path / "submission.json"
    path.write_text(
        submission(
            id="zoe-copy",
            body=lightly_edit(text("zoe_blog")),
            authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice"}],
        ).model_dump_json()
    )
    code, out, _ = cli("check", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"report_id", "submission_id", "findings"}
    assert report["report_id"] == 1 and report["submission_id"] == "zoe-copy"
    for finding in report["findings"]:
        assert set(finding) == {"rule", "severity", "summary", "evidence", "action", "message"}
    rules = [f["rule"] for f in report["findings"]]
    assert rules[:2] == ["coauthor-convenience", "not-own-content"]  # most severe first
    assert {"coauthor-unconfirmed", "related-work"} <= set(rules)

    code, out, _ = cli("check", str(path))
    assert code == 0 and "report 2" in out and "not-own-content" in out and "zoeq.example" in out

    code, out, _ = cli("check", str(path), "--dry-run", "--rule", "not-own-content", "--json")
    dry = json.loads(out)
    assert dry["report_id"] is None and [f["rule"] for f in dry["findings"]] == ["not-own-content"]

    code, out, _ = cli("queue", "--json")
    # The second check superseded the first; the dry run left no report.
    assert [item["report_id"] for item in json.loads(out)] == [2]
    code, out, _ = cli("queue", "--status", "superseded", "--json")
    assert [(item["report_id"], item["superseded_by"]) for item in json.loads(out)] == [(1, 2)]
    code, _, err = cli("decide", "1", "approved", "--by", "ann", "--reason", "Looks fine.")
    assert code != 0 and "superseded by report 2" in err
    code, out, _ = cli("decide", "2", "rejected", "--by", "ann", "--reason", "Copied from Zoe's blog.")
    assert code == 0 and "open → rejected" in out
    code, out, _ = cli("queue")
    assert "The queue is empty." in out
    code, out, _ = cli("review", "2", "--json")
    detail = json.loads(out)
    assert detail["status"] == "rejected"
    assert [(d["moderator"], d["reason"]) for d in detail["decisions"]] == [("ann", "Copied from Zoe's blog.")]
    code, out, _ = cli("review", "2")
    assert "ann: open → rejected: Copied from Zoe's blog." in out

    code, out, _ = cli("citedby", "2304.03279", "--json")
    assert {p["post_id"] for p in json.loads(out)["posts"]} == {"Cc1PublishedPost1", "Dv1LesswrongHtml1"}
    code, out, _ = cli("citedby", "https://arxiv.org/pdf/2304.03279v4.pdf")
    assert "2 post(s) cite Do the Rewards Justify the Means?" in out and "MACHIAVELLI paper" in out


def test_audit_command(cli) -> None:
    code, out, _ = cli("audit", str(FIXTURES / "related_work.html"), "--json")
    assert code == 0
    audit = json.loads(out)
    [section] = [s for s in audit["sections"] if s["kind"] == "related-work"]
    assert section["paragraphs"] == 2 and section["cited_total"] >= 10
    assert audit["uncited"][0]["id"] == "arxiv:2307.13702"
    code, out, _ = cli("audit", str(FIXTURES / "related_work.md"))
    assert code == 0 and "“Related work” (related-work): 2 paragraphs" in out
    assert "Measuring Faithfulness in Chain-of-Thought Reasoning" in out


def test_errors_say_what_and_where(cli, tmp_path: Path) -> None:
    code, _, err = cli("check", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "id": "x",\n  "forum": \n}')
    code, _, err = cli("check", str(bad))
    assert code == 2 and f"{bad}:4:1: invalid JSON" in err
    good = tmp_path / "good.json"
    good.write_text(submission().model_dump_json())
    code, _, err = cli("check", str(good), "--rule", "spam")
    assert code == 2 and "unknown rule 'spam'" in err
    config = tmp_path / "moderation.yaml"
    config.write_text("rules:\n  not-own-content:\n    min_containment: 2\n")
    code, _, err = cli("check", str(good), "--config", str(config))
    assert code == 2 and "rules.not-own-content.min_containment" in err
    code, _, err = cli("audit", str(good))
    assert code == 2 and "give a .md or .html file" in err
    code, _, err = cli("decide", "41", "approved", "--by", "ann", "--reason", "ok")
    assert code == 2 and "no report 41" in err
    code, _, err = cli("citedby", "some words")
    assert code == 2 and "is not a link" in err
    code, _, err = cli("queue", "--status", "closed")
    assert code == 2 and "status must be one of" in err


def test_posts_fetch_from_a_forummagnum_server(cli, forum) -> None:
    fake, url = forum
    code, _out, err = cli("posts", "fetch", url, "--site", "lesswrong", "--limit", "10")
    assert code == 0, err
    assert "4 members read: 4 new" in err and "3 posts read: 3 new" in err
    code, out, _ = cli("citedby", "2304.03279", "--json")
    assert [p["post_id"] for p in json.loads(out)["posts"]] == ["fmPost0000000002b"]
    fake.fail_with = [400]  # not retried: a client error is final
    code, _out, err = cli("posts", "fetch", url, "--site", "lesswrong", "--limit", "1")
    assert code == 2 and "HTTP 400" in err


def test_commands_are_registered_on_the_main_app() -> None:
    from typer.main import get_command

    main = get_command(app)
    context = click.Context(main)
    names = {"check", "audit", "queue", "review", "decide", "citedby", "members", "posts"}
    assert names <= set(main.list_commands(context))  # type: ignore[attr-defined]
    assert all(main.get_command(context, name) for name in names)  # type: ignore[attr-defined]
    assert set(main.get_command(context, "members").commands) == {"import"}  # type: ignore[attr-defined]
    assert set(main.get_command(context, "posts").commands) == {"ingest", "fetch"}  # type: ignore[attr-defined]
