"""Answers in comment threads, through real praw and the fake Reddit: exactly one reply per request,
also across restarts and when Reddit fails in the middle of a reply."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.reddit import RedditBot
from tests.reddit.conftest import BOT, SUB, run_once
from tests.reddit.fake_reddit import FakeReddit

BuildBot = Callable[..., RedditBot]

OPENING = "Do reasoning traces reflect what the model actually computes when it answers?"
PARENT = (
    "Models often give explanations that don't reflect their true reasoning; the chain of thought can be "
    "unfaithful to the real decision process."
)


def thread(fake: FakeReddit, request: str) -> tuple[str, str, str]:
    """A submission on CoT faithfulness, a comment about it, and a reply to that comment asking the bot."""
    submission = fake.add_submission(SUB, "alice", "Chain-of-thought faithfulness", OPENING)
    parent = fake.add_comment(submission, "bob", PARENT)
    asking = fake.add_comment(submission, "carol", request, parent=parent)
    return submission, parent, asking


def replies(fake: FakeReddit) -> list[dict[str, str]]:
    return [r.form for r in fake.sent("POST", "/api/comment")]


def test_a_mention_gets_one_reply_with_linked_citations_from_the_thread(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission, _parent, asking = thread(fake, f"u/{BOT} any papers on this?")
    bot = make_bot(moderator=None)
    run_once(bot)

    sent = replies(fake)
    assert len(sent) == 1
    assert sent[0]["thing_id"] == asking
    text = sent[0]["text"]
    # The question names no topic: the answer comes from the submission and the parent comment.
    assert "Faithful" in text and "Chain-of-Thought" in text
    assert "[\\[1\\]](https://arxiv.org/abs/" in text  # numbered, linked citations
    assert "\n1. [" in text and "\n2. [" in text
    assert f"mention u/{BOT}" in text
    # It read the comment in context (ancestors and replies) and the submission, then replied.
    sid, cid = submission[3:], asking[3:]
    paths = [(r.method, r.path) for r in fake.requests]
    assert ("GET", f"/comments/{sid}/_/{cid}") in paths
    assert ("GET", f"/comments/{sid}") in paths
    assert fake.sent("GET", f"/comments/{sid}/_/{cid}")[0].query["context"] == "100"

    # Its own reply is in the stream now; a second pass answers nothing, nor does a restarted bot.
    run_once(bot)
    run_once(make_bot(moderator=None))
    assert len(replies(fake)) == 1
    assert len(fake.replies_to(asking)) == 1
    row = bot.handled.get(asking)
    assert row is not None and row.action == "replied" and row.detail and row.detail.startswith("t1_")


def test_cite_command(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission = fake.add_submission(SUB, "alice", "Faithfulness definitions", "What counts as faithful?")
    asking = fake.add_comment(submission, "dave", "!cite Jacovi & Goldberg")
    run_once(make_bot(moderator=None))
    [sent] = replies(fake)
    assert sent["thing_id"] == asking
    assert sent["text"].startswith(
        "**[Towards Faithfully Interpretable NLP Systems: How Should We Define and Evaluate Faithfulness?]"
        "(https://arxiv.org/abs/2004.03685)** (Jacovi & Goldberg, 2020)"
    )
    assert "> Jacovi, A., & Goldberg, Y. (2020)." in sent["text"]


def test_cite_reads_the_reference_in_its_thread(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission = fake.add_submission(
        SUB, "alice", "Oversight", "Could we oversee models through externalized reasoning?"
    )
    fake.add_comment(submission, "dave", "!cite Lanham et al.")
    run_once(make_bot(moderator=None))
    [sent] = replies(fake)
    # Two of Lanham's works fit: unsure, but the thread's one comes first.
    assert sent["text"].startswith('No paper in the knowledge base matches "Lanham et al."; closest:')
    assert "Externalized reasoning oversight" in sent["text"].split("Measuring Faithfulness")[0]


def test_says_plainly_when_nothing_matches(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission = fake.add_submission(SUB, "alice", "Off topic", "Ceramics.")
    fake.add_comment(submission, "erin", f"u/{BOT} what is known about medieval pottery glazing in Anatolia?")
    run_once(make_bot(moderator=None))
    [sent] = replies(fake)
    assert sent["text"].startswith("No paper in the knowledge base matches; closest:\n\n1. [")


def test_comments_not_addressed_to_the_bot_get_nothing(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission = fake.add_submission(SUB, "alice", "A question", "Is there a paper on reward hacking?")
    fake.add_comment(submission, "bob", "Source? I'd love to read the related work on this.")
    fake.add_comment(submission, "carol", f"u/{BOT}fan is a different account, and !citations are nice")
    fake.add_comment(submission, "dave", f"thanks u/{BOT}!")
    fake.add_comment(submission, "erin", f"> u/{BOT} related work?\n\nQuoting that was a joke.")
    fake.add_comment(submission, BOT, f"I am u/{BOT}; !cite Jacovi & Goldberg")  # the bot's own comment
    fake.add_comment(submission, "frank", f"u/{BOT} old news?", created=time.time() - 3 * 86400)  # too old
    fake.add_comment(submission, None, f"u/{BOT} deleted?")  # deleted account
    bot = make_bot(moderator=None)
    run_once(bot)
    assert replies(fake) == []
    # Nothing was fetched for them either: they were judged on the stream's data.
    assert not fake.sent("GET", "/comments/")


def test_a_5xx_after_reddit_stored_the_reply_does_not_post_it_twice(fake: FakeReddit, make_bot: BuildBot) -> None:
    _submission, _parent, asking = thread(fake, f"u/{BOT} related work?")
    fake.fail(500, method="POST", path="/api/comment", apply=True)  # stored, then a 500
    bot = make_bot(moderator=None)
    delays = run_once(bot)
    assert len(replies(fake)) == 1  # not sent again
    assert len(fake.replies_to(asking)) == 1
    assert delays[0] == 2.0  # waited before reading the thread back
    row = bot.handled.get(asking)
    assert row is not None and row.action == "replied" and "stored despite" in (row.detail or "")


def test_a_5xx_before_the_reply_is_stored_is_retried_once_read_back(fake: FakeReddit, make_bot: BuildBot) -> None:
    _submission, _parent, asking = thread(fake, f"u/{BOT} related work?")
    fake.fail(502, method="POST", path="/api/comment")
    fake.fail(429, method="POST", path="/api/comment", headers={"retry-after": "7"})
    bot = make_bot(moderator=None)
    delays = run_once(bot)
    assert len(replies(fake)) == 3  # 502 (read back: not there), 429 (not applied), then success
    assert len(fake.replies_to(asking)) == 1
    assert delays[:2] == [2.0, 7.0]  # backoff, then Reddit's Retry-After
    assert bot.handled.get(asking).action == "replied"  # type: ignore[union-attr]


def test_stopping_during_a_rate_limit_wait_leaves_the_comment_for_the_next_start(
    fake: FakeReddit, make_bot: BuildBot
) -> None:
    _submission, _parent, asking = thread(fake, f"u/{BOT} related work?")
    fake.fail(429, method="POST", path="/api/comment", headers={"retry-after": "7"})
    stopped = make_bot(moderator=None)
    stopped.sleeps.stop_at = {7.0}  # type: ignore[attr-defined]  # SIGTERM while waiting out the 429
    stopped.run()
    assert not stopped.handled.is_handled(asking)  # nothing was posted: the claim is released
    run_once(make_bot(moderator=None))
    assert [r["thing_id"] for r in replies(fake)] == [asking, asking]  # the 429, then the answer
    assert len(fake.replies_to(asking)) == 1


def test_a_locked_thread_is_recorded_as_failed_and_not_retried(fake: FakeReddit, make_bot: BuildBot) -> None:
    submission, _parent, asking = thread(fake, f"u/{BOT} related work?")
    fake.things[submission]["locked"] = True
    bot = make_bot(moderator=None)
    run_once(bot)
    run_once(make_bot(moderator=None))
    assert len(replies(fake)) == 1  # one 403, no second try
    row = bot.handled.get(asking)
    assert row is not None and row.action == "failed" and "403" in (row.detail or "")


def test_a_crash_between_claim_and_reply_is_settled_by_reading_back(fake: FakeReddit, make_bot: BuildBot) -> None:
    _s1, _p1, answered = thread(fake, f"u/{BOT} related work?")
    _s2, _p2, unanswered = thread(fake, f"u/{BOT} what about this?")
    fake.add_comment(fake.things[answered]["link_id"], BOT, "an earlier answer", parent=answered)
    crashed = make_bot(moderator=None)
    # A process that claimed both and died: one reply made it to Reddit, the other did not.
    assert crashed.handled.claim(answered, "comment") and crashed.handled.claim(unanswered, "comment")
    before = len(replies(fake))

    run_once(make_bot(moderator=None))
    assert crashed.handled.get(answered).action == "replied"  # type: ignore[union-attr]
    assert crashed.handled.get(unanswered).action == "replied"  # type: ignore[union-attr]
    assert [r["thing_id"] for r in replies(fake)[before:]] == [unanswered]
    assert len(fake.replies_to(answered)) == 1 and len(fake.replies_to(unanswered)) == 1
