"""The claim/act/finish record that keeps the bot from answering twice."""

from __future__ import annotations

from bot.reddit.handled import PENDING, HandledStore
from bot.storage import Database


def test_claim_is_exclusive_and_survives_a_new_store(database_url: str) -> None:
    first = HandledStore(Database(database_url).engine)
    assert first.claim("t1_abc", "comment")
    assert not first.claim("t1_abc", "comment")  # a second claim (another process) loses
    assert [row.item_id for row in first.pending()] == ["t1_abc"]
    first.finish("t1_abc", "replied", "t1_reply")

    restarted = HandledStore(Database(database_url).engine)
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
