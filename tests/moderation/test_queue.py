"""The review queue: a re-check supersedes the submission's report awaiting a decision, and a superseded
report can no longer be decided on (a stale "no flags" report must not be approved by mistake)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from bot.moderation.service import ModerationError, Moderator
from bot.storage.tables.moderation import Post

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


def test_check_records_a_report_and_decisions_are_logged(fresh: Moderator) -> None:
    sub = submission(id="zoe-copy", body=lightly_edit(text("zoe_blog")))
    report = fresh.check(sub)
    assert report.report_id is not None
    [item] = fresh.queue()
    assert item.report_id == report.report_id and item.status == "open"
    assert item.rules == ["not-own-content"] and item.severity == "high"

    first = fresh.decide(report.report_id, "needs-changes", "mod-ann", "Please quote and attribute the text.")
    assert (first.previous_status, first.status) == ("open", "needs-changes")
    assert fresh.queue() == []
    assert [i.report_id for i in fresh.queue("needs-changes")] == [report.report_id]
    fresh.decide(report.report_id, "rejected", "mod-ben", "Copied from Zoe's blog without attribution.")

    detail = fresh.review(report.report_id)
    assert detail.status == "rejected"
    assert [(d.moderator, d.status) for d in detail.decisions] == [
        ("mod-ann", "needs-changes"),
        ("mod-ben", "rejected"),
    ]
    assert detail.findings[0].rule == "not-own-content"
    assert detail.submission["id"] == "zoe-copy"


def test_a_rejected_submission_is_caught_when_resubmitted(fresh: Moderator) -> None:
    report = fresh.check(submission(id="first-try"))
    fresh.decide(report.report_id, "rejected", "mod-ann", "Too speculative for the Alignment Forum.")
    again = fresh.check(submission(id="second-try", body=lightly_edit(text("erin_original"))))
    [dup] = [f for f in again.findings if f.rule == "duplicate-post"]
    assert dup.evidence["source"]["id"] == "first-try"
    assert dup.evidence["source"]["rejected_reason"] == "Too speculative for the Alignment Forum."
    assert "Too speculative" in dup.summary


def test_dry_run_records_nothing(fresh: Moderator) -> None:
    report = fresh.check(submission(body=lightly_edit(text("zoe_blog"))), dry_run=True)
    assert report.report_id is None and report.findings
    assert fresh.queue(None) == []


def test_decisions_are_validated(fresh: Moderator) -> None:
    report_id = fresh.check(submission()).report_id
    with pytest.raises(ModerationError, match="status must be one of"):
        fresh.decide(report_id, "deleted", "mod", "why")
    with pytest.raises(ModerationError, match="reason"):
        fresh.decide(report_id, "approved", "mod", "  ")
    with pytest.raises(ModerationError, match="moderator"):
        fresh.decide(report_id, "approved", "", "fine")
    with pytest.raises(ModerationError, match="no report 999"):
        fresh.decide(999, "approved", "mod", "fine")
    with pytest.raises(ModerationError, match="unknown rule"):
        fresh.check(submission(), rules={"spam"})
    assert fresh.review(report_id).decisions == []


def test_checks_recorded_at_once_leave_one_report_awaiting(fresh: Moderator) -> None:
    sub = submission(id="raced")
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = sorted(d.report_id for d in pool.map(lambda _: fresh.reviews.record(sub, []), range(8)))
    [open_item] = fresh.queue()
    assert open_item.report_id == ids[-1]
    superseded = fresh.queue("superseded")
    assert sorted(i.report_id for i in superseded) == ids[:-1]
    assert {i.superseded_by for i in superseded} <= set(ids)
