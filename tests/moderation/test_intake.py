"""One intake for every front end: the same submission gets the same check, record and storage whichever
front end saw it; only the facts a front end reports (already published, a crosspost's original, its
notification threshold) change the outcome."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from bot.moderation.intake import ORIGINS
from bot.moderation.schemas import PostRecord, flags
from bot.moderation.service import ModerationError, Moderator
from bot.moderation.severity import Severity
from bot.storage.tables.moderation import Post

from .conftest import lightly_edit, submission, text


def words(seed: str, n: int = 160) -> str:
    """A body no fixture shares: the only duplicates are the ones a test makes."""
    rng = random.Random(seed)
    made = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(n)]
    return " ".join(w + ("." if i % 12 == 11 else "") for i, w in enumerate(made))


def stored(moderator: Moderator, post_id: str) -> Post | None:
    with moderator.session() as session:
        return session.exec(select(Post).where(Post.id == post_id)).first()


def test_every_origin_gets_the_same_check_record_and_storage(fresh: Moderator) -> None:
    outcomes = {}
    for origin in ORIGINS:
        sub = submission(id=f"copy-{origin}", body=lightly_edit(text("zoe_blog")))
        outcomes[origin] = fresh.receive(sub, origin=origin)
    seen = {
        origin: [(f.rule, f.severity, f.summary, f.action, f.message) for f in intake.report.findings]
        for origin, intake in outcomes.items()
    }
    assert len({repr(v) for v in seen.values()}) == 1, seen
    for origin, intake in outcomes.items():
        assert intake.rules == ["not-own-content"] and intake.severity is Severity.HIGH
        assert intake.detail is not None and intake.detail.report_id == intake.report.report_id
        assert intake.detail == fresh.review(intake.report.report_id)  # what the queue shows, no read-back needed
        assert [f.rule for f in intake.notify] == ["not-own-content"]  # the advisory audit is below "low"
        assert not intake.stored and stored(fresh, f"copy-{origin}") is None  # unreviewed: not a post yet
    assert fresh.report_counts() == {"open": len(ORIGINS)}


def test_a_published_copy_is_stored_so_a_repost_is_caught(fresh: Moderator) -> None:
    body = words("published")
    original = submission(id="r-1", forum="r/alignment", body=body, submitter="zoe", authors=[{"handle": "zoe"}])
    published = PostRecord(id="r-1", forum="r/alignment", author="zoe", title="A submission", body=body)
    intake = fresh.receive(original, origin="reddit", record=False, published=published)
    assert intake.stored and intake.report.report_id is None and fresh.queue(None) == []
    assert stored(fresh, "r-1") is not None  # stored even in a dry run: the post exists whatever the check says

    repost = submission(id="r-2", forum="r/alignment", body=body, submitter="bob", authors=[{"handle": "bob"}])
    dup = fresh.receive(repost, origin="cli", record=False)
    assert "duplicate-post" in dup.rules
    assert next(f for f in dup.flags if f.rule == "duplicate-post").evidence["source"]["id"] == "r-1"


def test_a_crosspost_is_neither_its_own_duplicate_nor_audited(fresh: Moderator) -> None:
    body = words("crosspost")
    original = PostRecord(id="orig", forum="r/elsewhere", author="zoe", title="Original", body=body)

    def crosspost(post_id: str, author: str) -> object:
        return submission(
            id=post_id,
            forum="r/alignment",
            body=body,
            url="https://www.reddit.com/r/elsewhere/comments/orig/",
            submitter=author,
            authors=[{"handle": author, "confirmed": True}],
            members_forum=False,
        )

    own = fresh.receive(crosspost("x-zoe", "zoe"), origin="reddit", crosspost_of=original)
    assert stored(fresh, "orig") is not None  # stored first, with its own author
    assert own.report.findings == []  # no duplicate of its own original, no related-work audit
    # The same text without saying it is a crosspost is a duplicate of the stored original.
    plain = fresh.receive(crosspost("x-plain", "zoe"), origin="http", record=False)
    assert plain.rules == ["duplicate-post"]
    # Someone else's post crossposted is still not their own content.
    other = fresh.receive(crosspost("x-bob", "bob"), origin="reddit", crosspost_of=original)
    assert other.rules == ["not-own-content"]


def test_a_linkpost_without_a_body_is_not_audited(fresh: Moderator) -> None:
    link = fresh.receive(
        submission(id="link", body="", url="https://example.org/paper", members_forum=False),
        origin="http",
        record=False,
    )
    text_post = fresh.receive(submission(id="empty", body="", members_forum=False), origin="http", record=False)
    assert [f.rule for f in link.report.findings] == []
    assert [f.rule for f in text_post.report.findings] == ["related-work"]


def test_notification_threshold(fresh: Moderator) -> None:
    sub = submission(
        id="thresholds",
        body=lightly_edit(text("zoe_blog")),
        authors=[{"handle": "erin", "confirmed": True}, {"handle": "dan"}],
        members_forum=False,
    )
    every = fresh.receive(sub, origin="reddit", record=False, notify_at="info")
    assert {f.rule for f in every.notify} == {"not-own-content", "coauthor-unconfirmed", "related-work"}
    high = fresh.receive(sub, origin="reddit", record=False, notify_at=Severity.HIGH)
    assert [f.rule for f in high.notify] == ["not-own-content"]
    assert [f.rule for f in flags(every.report.findings)] == ["not-own-content", "coauthor-unconfirmed"]


def test_bad_input_changes_nothing(fresh: Moderator) -> None:
    original = PostRecord(id="never", forum="r/x", author="zoe", title="t", body=words("never"))
    with pytest.raises(ModerationError, match="unknown rule"):
        fresh.receive(submission(id="bad"), origin="cli", rules={"spam"}, crosspost_of=original)
    assert fresh.queue(None) == [] and stored(fresh, "never") is None
