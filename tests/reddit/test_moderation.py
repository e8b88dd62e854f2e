"""New submissions checked with the moderation rules and reported by mod note, modmail or report."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest

from bot.moderation.schemas import PostRecord
from bot.moderation.service import Moderator
from bot.reddit import RedditBot
from tests.reddit.conftest import SUB, run_once
from tests.reddit.fake_reddit import FakeReddit

BuildBot = Callable[..., RedditBot]


def text(seed: str, words: int = 140) -> str:
    """A post body no other test shares: duplicates are only what a test makes on purpose."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    made = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(words)]
    return " ".join(made[i] + ("." if i % 12 == 11 else "") for i in range(words))


def actions(fake: FakeReddit) -> list[tuple[str, dict[str, str]]]:
    """The moderation actions the bot sent."""
    wanted = ("/api/mod/notes", "/api/mod/conversations", "/api/report", "/api/comment")
    return [(r.path, r.form) for r in fake.requests if r.method == "POST" and r.path in wanted]


def repost(fake: FakeReddit, seed: str) -> tuple[str, str]:
    """alice posts a text; bob posts it again: a near-duplicate of someone else's post."""
    body = text(seed)
    first = fake.add_submission(SUB, "alice", f"Thoughts {seed}", body)
    second = fake.add_submission(SUB, "bob", f"My thoughts {seed}", body)
    return first, second


def test_dry_run_sends_nothing_but_logs_what_it_would(
    fake: FakeReddit, make_bot: BuildBot, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = repost(fake, "dry-run")
    bot = make_bot()  # dry_run is the default
    with caplog.at_level(logging.INFO, logger="bot.reddit"):
        run_once(bot)
    assert actions(fake) == []
    assert f"dry run: would send a modmail about {second} in r/{SUB} by u/bob" in caplog.text
    assert "duplicate-post (high): Near-duplicate" in caplog.text
    assert f"checked {first} in r/{SUB} by u/alice: nothing to report" in caplog.text
    assert bot.handled.get(second).action == "dry-run"  # type: ignore[union-attr]
    # Recorded: a restarted bot neither checks it again nor repeats the log.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.reddit"):
        run_once(make_bot())
    assert "would send" not in caplog.text and actions(fake) == []


@pytest.mark.parametrize("channel", ["modmail", "modnote", "report"])
def test_reports_go_out_by_the_configured_channel(fake: FakeReddit, make_bot: BuildBot, channel: str) -> None:
    _first, second = repost(fake, f"channel-{channel}")
    bot = make_bot(dry_run=False, report_channel=channel)
    run_once(bot)
    run_once(make_bot(dry_run=False, report_channel=channel))  # a restart reports nothing again
    [(path, form)] = actions(fake)
    permalink = fake.things[second]["permalink"]
    if channel == "modmail":
        assert path == "/api/mod/conversations"
        assert form["srName"] == SUB and "to" not in form  # no recipient: an internal Mod Discussion
        assert form["subject"].startswith("alignbot: ") and f'on "My thoughts channel-{channel}"' in form["subject"]
        assert f"(https://www.reddit.com{permalink}) by u/bob in r/{SUB}" in form["body"]
        assert "duplicate-post** (high)" in form["body"] and "Draft message to the author" in form["body"]
        assert "Advice only: nothing was removed" in form["body"]
    elif channel == "modnote":
        assert path == "/api/mod/notes"
        assert (form["reddit_id"], form["user"], form["subreddit"]) == (second, "bob", SUB)
        assert form["note"].startswith("alignbot: ") and len(form["note"]) <= 250
        assert "label" not in form
    else:
        assert path == "/api/report"
        assert form["id"] == second
        assert form["reason"].startswith("alignbot: ") and "duplicate-post" in form["reason"]
    assert len(form.get("reason", "")) <= 100
    row = bot.handled.get(second)
    assert row is not None and row.action == channel
    # Nothing is ever removed or approved: the only writes are the report itself.
    assert not [r for r in fake.requests if r.method == "POST" and r.path.startswith(("/api/remove", "/api/approve"))]


def test_crossposts_of_someone_elses_post_are_reported_not_own_ones(fake: FakeReddit, make_bot: BuildBot) -> None:
    others = fake.add_submission("ControlProblem", "carol", "Carol's essay", text("crosspost-carol"))
    own = fake.add_submission("ControlProblem", "erin", "Erin's essay", text("crosspost-erin"))
    by_dave = fake.add_submission(SUB, "dave", "Carol's essay", crosspost_of=others)
    by_erin = fake.add_submission(SUB, "erin", "Erin's essay", crosspost_of=own)
    bot = make_bot(dry_run=False, report_channel="report")
    run_once(bot)
    [(_path, form)] = actions(fake)
    assert form["id"] == by_dave
    assert form["reason"] == "alignbot: not-own-content"  # not also a "duplicate" of the post it crossposts
    assert bot.handled.get(by_erin).action == "clean"  # type: ignore[union-attr]


def test_the_authors_blog_post_without_a_canonical_link(
    fake: FakeReddit, make_bot: BuildBot, reddit_moderator: Moderator
) -> None:
    blog, linked_blog = text("blog-1"), text("blog-2")
    for n, body in enumerate((blog, linked_blog), start=1):
        url = f"https://frank.example/post-{n}"
        reddit_moderator.store_posts([PostRecord(id=url, author="frank", title=f"Post {n}", body=body, url=url)])
    silent = fake.add_submission(SUB, "frank", "From my blog", blog)
    linked = fake.add_submission(
        SUB, "frank", "Also on my blog", f"{linked_blog}\n\n[Originally here](https://frank.example/post-2)"
    )
    bot = make_bot(dry_run=False, report_channel="report")
    run_once(bot)
    [(_path, form)] = actions(fake)
    assert (form["id"], form["reason"]) == (silent, "alignbot: crosspost-missing-canonical")
    assert bot.handled.get(linked).action == "clean"  # type: ignore[union-attr]


def test_related_work_audit_of_self_posts(fake: FakeReddit, make_bot: BuildBot) -> None:
    essay = (
        "Chain-of-thought explanations and faithfulness. When a language model writes out its reasoning before "
        "answering, can we trust that the written reasoning is what actually produced the answer? I argue that "
        "stated reasoning is often post-hoc: models can be biased by features of the prompt that never appear "
        "in their explanations, and truncating or corrupting the reasoning often leaves the answer unchanged. "
        "This matters for monitoring models through their reasoning traces."
    )
    self_post = fake.add_submission(SUB, "gina", "Is CoT faithful?", essay)
    link_post = fake.add_submission(SUB, "gina", "A paper on CoT faithfulness", url="https://example.org/cot-paper")
    bot = make_bot(dry_run=False, report_channel="modmail", report_min_severity="info")
    run_once(bot)
    [(_path, form)] = actions(fake)
    assert "related-work** (info): Cites 0 works" in form["body"]
    assert "Faithful" in form["body"]  # the closest uncited works are named
    assert bot.handled.get(self_post).action == "modmail"  # type: ignore[union-attr]
    assert bot.handled.get(link_post).action == "clean"  # type: ignore[union-attr]  # no text: no audit


def test_a_mod_note_is_retried_on_5xx_and_given_up_on_403(fake: FakeReddit, make_bot: BuildBot) -> None:
    _first, second = repost(fake, "retry-note")
    fake.fail(503, method="POST", path="/api/mod/notes")
    bot = make_bot(dry_run=False, report_channel="modnote")
    delays = run_once(bot)
    assert [path for path, _form in actions(fake)] == ["/api/mod/notes", "/api/mod/notes"]
    assert delays[0] == 2.0
    assert bot.handled.get(second).action == "modnote"  # type: ignore[union-attr]

    _third, fourth = repost(fake, "forbidden-note")
    fake.fail(403, method="POST", path="/api/mod/notes", body='{"message": "Forbidden", "error": 403}')
    run_once(bot)
    assert len(actions(fake)) == 3  # the 403 was not retried: the account is not a moderator there
    row = bot.handled.get(fourth)
    assert row is not None and row.action == "failed" and "403" in (row.detail or "")


def test_a_report_interrupted_by_a_crash_is_sent_on_start(fake: FakeReddit, make_bot: BuildBot) -> None:
    body = text("crash-report")
    crashed = make_bot(dry_run=False, report_channel="report")
    fake.add_submission(SUB, "alice", "Thoughts crash-report", body)
    run_once(crashed)  # checked and remembered
    second = fake.add_submission(SUB, "bob", "My thoughts crash-report", body)
    assert crashed.handled.claim(second, "submission")  # claimed, then the process died before reporting
    restarted = make_bot(dry_run=False, report_channel="report")
    run_once(restarted)
    run_once(make_bot(dry_run=False, report_channel="report"))
    [(_path, form)] = actions(fake)
    assert form["id"] == second and "duplicate-post" in form["reason"]
    assert restarted.handled.get(second).action == "report"  # type: ignore[union-attr]
