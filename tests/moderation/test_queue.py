"""The review queue: a re-check supersedes the submission's report awaiting a decision, and a superseded
report can no longer be decided on (a stale "no flags" report must not be approved by mistake)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.moderation.models import Post
from bot.moderation.service import ModerationError, Moderator

from .conftest import lightly_edit, submission, text


def test_recheck_supersedes_the_open_report(fresh: Moderator) -> None:
    clean = fresh.check(submission(id="edited", body=text("erin_original")))
    assert fresh.review(clean.report_id).rules == []  # "no flags"
    # The author then pastes Zoe's text into the same post, and the forum sends it again.
    copied = fresh.check(submission(id="edited", body=lightly_edit(text("zoe_blog"))))
    assert copied.report_id != clean.report_id

    old = fresh.review(clean.report_id)
    assert (old.status, old.superseded_by) == ("superseded", copied.report_id)
    assert [i.report_id for i in fresh.queue()] == [copied.report_id]
    assert [i.report_id for i in fresh.queue("superseded")] == [clean.report_id]
    assert fresh.review(copied.report_id).superseded_by is None

    for status in ("approved", "rejected", "needs-changes", "open"):
        with pytest.raises(ModerationError, match=f"superseded by report {copied.report_id}"):
            fresh.decide(clean.report_id, status, "mod-ann", "Looks fine.")
    assert fresh.review(clean.report_id).decisions == []
    with fresh.session() as session:  # the stale text did not become a published post
        assert session.exec(select(Post).where(Post.id == "edited")).first() is None

    fresh.decide(copied.report_id, "rejected", "mod-ann", "Copied from Zoe's blog.")
    with fresh.session() as session:
        assert session.get(Post, "edited").status == "rejected"  # type: ignore[union-attr]


def test_a_report_waiting_for_changes_is_superseded_and_a_decided_one_is_kept(fresh: Moderator) -> None:
    first = fresh.check(submission(id="revised")).report_id
    fresh.decide(first, "needs-changes", "mod-ann", "Please add a related-work section.")
    second = fresh.check(submission(id="revised", title="Revised")).report_id
    assert fresh.review(first).status == "superseded"
    fresh.decide(second, "approved", "mod-ann", "Thanks for the changes.")
    third = fresh.check(submission(id="revised", title="Revised again")).report_id
    # An approved report is a decision taken: it stays as it is; the new check opens beside it.
    assert fresh.review(second).status == "approved"
    assert fresh.review(third).status == "open"


def test_other_submissions_and_dry_runs_supersede_nothing(fresh: Moderator) -> None:
    mine = fresh.check(submission(id="mine")).report_id
    fresh.check(submission(id="theirs"))
    fresh.check(submission(id="mine"), dry_run=True)
    assert fresh.review(mine).status == "open"
    assert fresh.report_counts() == {"open": 2}
