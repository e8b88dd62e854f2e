"""The claim/act/finish record that keeps the bot from answering twice."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import create_engine

from bot.reddit.handled import PENDING, HandledStore


def test_claim_is_exclusive_and_survives_a_new_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    first = HandledStore(create_engine(url))
    assert first.claim("t1_abc", "comment")
    assert not first.claim("t1_abc", "comment")  # a second claim (another process) loses
    assert [row.item_id for row in first.pending()] == ["t1_abc"]
    first.finish("t1_abc", "replied", "t1_reply")

    restarted = HandledStore(create_engine(url))
    row = restarted.get("t1_abc")
    assert row is not None and (row.action, row.detail, row.kind) == ("replied", "t1_reply", "comment")
    assert restarted.pending() == []
    assert not restarted.claim("t1_abc", "comment")
    assert restarted.record("t3_xyz", "submission", "clean")
    assert not restarted.record("t3_xyz", "submission", "modmail")
    restarted.claim("t1_def", "comment")
    assert restarted.get("t1_def").action == PENDING  # type: ignore[union-attr]
    restarted.release("t1_def")
    assert not restarted.is_handled("t1_def")
