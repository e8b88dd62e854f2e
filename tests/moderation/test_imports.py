"""Importing community data: members and posts from JSON Lines, submission files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.moderation.service import ModerationError, Moderator, load_submission
from bot.storage.tables.moderation import Member, Post, PostLink

from .conftest import FIXTURES, submission


def test_members_import_reports_bad_lines_and_keeps_the_good_ones(fresh: Moderator) -> None:
    path = FIXTURES / "members_bad.jsonl"
    report = fresh.import_members(path)
    assert report.added == 2 and report.read == 6
    assert report.errors == [
        f"{path}:2: groups: Input should be a valid list",
        f"{path}:3: invalid JSON: Expecting ',' delimiter (column 34)",
        f"{path}:4: handle: Field required",
        f"{path}:6: role: unknown field",
    ]
    members = fresh.members(["frank", "judy", "alice", "gina"])
    assert set(members) == {"frank", "judy", "alice"}  # alice, imported before, is untouched


def test_members_reimport_updates(fresh: Moderator, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"handle": "ERIN", "name": "Erin Park", "groups": ["alignmentForum"]}) + "\n")
    report = fresh.import_members(path)
    assert (report.added, report.updated) == (0, 1)
    with fresh.session() as session:
        erin = session.get(Member, "erin")
    assert erin is not None and erin.groups == ["alignmentForum"] and erin.handle == "ERIN"


def test_posts_ingest_reports_bad_lines_and_indexes_links(fresh: Moderator) -> None:
    path = FIXTURES / "posts_bad.jsonl"
    report = fresh.ingest_posts(path)
    assert (report.read, report.added) == (5, 2)
    assert [e.split(": ", 1)[0] for e in report.errors] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "author: Field required" in report.errors[0]
    assert "posted_at" in report.errors[2]
    with fresh.session() as session:
        ok2 = session.get(Post, "ok-2")
        assert ok2 is not None and ok2.body_format == "html" and ok2.forum is None
        assert session.get(Post, "Cc1PublishedPost1") is not None  # earlier posts are untouched
    cited = fresh.cited_by("2305.04388")
    assert {p.post_id for p in cited.posts} == {"ok-1", "ok-2"}


def test_reingesting_a_post_replaces_its_links(fresh: Moderator, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    record = {
        "id": "Al1UnrelatedPost1",
        "forum": "alignmentforum",
        "author": "alice",
        "title": "Edited",
        "body": "Now it cites https://arxiv.org/abs/2201.11903 only.",
        "url": None,
        "posted_at": None,
    }
    path.write_text(json.dumps(record) + "\n")
    assert fresh.ingest_posts(path).updated == 1
    with fresh.session() as session:
        keys = session.exec(select(PostLink.key).where(PostLink.post_id == "Al1UnrelatedPost1")).all()
    assert keys == ["arxiv:2201.11903"]
    assert fresh.cited_by("1805.00899").posts == []


def test_load_submission_errors_say_where(tmp_path: Path) -> None:
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{"id": "x",\n  "forum": }')
    with pytest.raises(ModerationError, match=rf"{bad_json}:2:\d+: invalid JSON"):
        load_submission(bad_json)
    wrong = tmp_path / "b.json"
    data = submission().model_dump(mode="json")
    data["canonicalUrl"] = "https://x"
    data["authors"] = []
    wrong.write_text(json.dumps(data))
    with pytest.raises(ModerationError) as info:
        load_submission(wrong)
    assert "authors: List should have at least 1 item" in str(info.value)
    assert "canonicalUrl: unknown field" in str(info.value)
