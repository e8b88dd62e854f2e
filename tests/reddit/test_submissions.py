"""Reddit submissions as moderation submissions and stored posts."""

from __future__ import annotations

from bot.reddit.submissions import RedditPost, to_post_record, to_submission


def post(**overrides: object) -> RedditPost:
    values: dict[str, object] = {
        "id": "abc123",
        "subreddit": "AIAlignment",
        "author": "alice",
        "title": "On debate",
        "selftext": "Some **markdown** text.",
        "url": "https://www.reddit.com/r/AIAlignment/comments/abc123/on_debate/",
        "is_self": True,
        "permalink": "/r/AIAlignment/comments/abc123/on_debate/",
        "created_utc": 1_700_000_000.0,
    }
    values.update(overrides)
    return RedditPost(**values)  # type: ignore[arg-type]


def test_self_post() -> None:
    submission = to_submission(post())
    assert (submission.id, submission.forum, submission.body, submission.body_format) == (
        "reddit-abc123",
        "r/AIAlignment",
        "Some **markdown** text.",
        "markdown",
    )
    assert submission.url is None and submission.submitter == "alice" and submission.handles == ["alice"]
    assert submission.authors[0].confirmed and submission.posted_at is not None
    record = to_post_record(post())
    assert record is not None
    assert record.url == "https://www.reddit.com/r/AIAlignment/comments/abc123/on_debate/"
    assert record.canonical_url is None


def test_link_post() -> None:
    link = post(is_self=False, selftext="", url="https://alice.blog/debate")
    assert to_submission(link).url == "https://alice.blog/debate"
    record = to_post_record(link)
    assert record is not None and record.canonical_url == "https://alice.blog/debate"


def test_crosspost_reads_its_parent() -> None:
    parent = RedditPost.from_data(
        {
            "id": "par001",
            "subreddit": "ControlProblem",
            "author": "carol",
            "title": "Original",
            "selftext": "The original text.",
            "url": "https://www.reddit.com/r/ControlProblem/comments/par001/original/",
            "is_self": True,
            "permalink": "/r/ControlProblem/comments/par001/original/",
        }
    )
    crosspost = post(selftext="", is_self=False, url=parent.permalink, crosspost_parent=parent)
    submission = to_submission(crosspost)
    assert submission.body == "The original text."
    assert submission.url == "https://www.reddit.com/r/ControlProblem/comments/par001/original/"
    assert to_post_record(parent).author == "carol"  # type: ignore[union-attr]


def test_deleted_author() -> None:
    gone = post(author=None)
    assert to_submission(gone).submitter == "[deleted]"
    assert to_post_record(gone) is None  # unknown authorship is no evidence
    assert RedditPost.from_data({"id": "x", "author": "[deleted]"}).author is None
