"""Reddit submissions as moderation submissions and stored posts.

A self-post's Markdown is the body; a link post's URL is the linkpost target; a crosspost's body is its
parent's text and its URL the parent's permalink, and the parent itself is stored as a post of its
subreddit with its own author, so the rules can tell "crossposted someone else's post" (not-own-content)
from "crossposted my own post" (nothing to report). Plain values only: `RedditPost.from_praw` is the one
place that reads praw objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.moderation.schemas import PostRecord, Submission, SubmissionAuthor

PUBLIC_URL = "https://www.reddit.com"  # links shown to moderators point at Reddit, whatever API host is used


def post_id(reddit_id: str) -> str:
    """The id of a Reddit submission among moderation posts and reports."""
    return f"reddit-{reddit_id}"


def forum_name(subreddit: str) -> str:
    return f"r/{subreddit}"


def author_name(value: Any) -> str | None:
    """An author as praw gives it (a Redditor, None when deleted) or as raw JSON gives it (a string)."""
    if value is None:
        return None
    name = value if isinstance(value, str) else getattr(value, "name", None)
    return None if not name or name == "[deleted]" else str(name)


@dataclass
class RedditPost:
    id: str
    subreddit: str
    author: str | None
    title: str
    selftext: str
    url: str | None
    is_self: bool
    permalink: str
    created_utc: float | None = None
    crosspost_parent: RedditPost | None = None

    @property
    def fullname(self) -> str:
        return f"t3_{self.id}"

    @property
    def permalink_url(self) -> str:
        return PUBLIC_URL + self.permalink if self.permalink.startswith("/") else self.permalink

    @property
    def posted_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.created_utc, UTC) if self.created_utc else None

    @property
    def body(self) -> str:
        """The text to check: a crosspost shows its parent's text."""
        if self.crosspost_parent is not None and not self.selftext.strip():
            return self.crosspost_parent.selftext
        return self.selftext

    @property
    def is_link(self) -> bool:
        return self.crosspost_parent is None and not self.is_self

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RedditPost:
        """From a t3 JSON object (as in `crosspost_parent_list`)."""
        subreddit = data.get("subreddit")
        return cls(
            id=str(data["id"]),
            subreddit=str(getattr(subreddit, "display_name", subreddit) or ""),
            author=author_name(data.get("author")),
            title=str(data.get("title") or ""),
            selftext=str(data.get("selftext") or ""),
            url=data.get("url"),
            is_self=bool(data.get("is_self")),
            permalink=str(data.get("permalink") or ""),
            created_utc=data.get("created_utc"),
        )

    @classmethod
    def from_praw(cls, submission: Any) -> RedditPost:
        """From a praw Submission that came with its data (a stream item): no request is made."""
        values = vars(submission)  # the fetched attributes only; getattr would fetch a lazy object
        post = cls.from_data({**values, "subreddit": submission.subreddit, "author": values.get("author")})
        parents = values.get("crosspost_parent_list") or []
        if parents:
            post.crosspost_parent = cls.from_data(parents[0])
        return post


def to_submission(post: RedditPost) -> Submission:
    """The moderation service's submission for a Reddit submission."""
    author = post.author or "[deleted]"
    if post.crosspost_parent is not None:
        url: str | None = post.crosspost_parent.permalink_url
    else:
        url = post.url if post.is_link else None
    return Submission(
        id=post_id(post.id),
        forum=forum_name(post.subreddit),
        title=post.title.strip() or "(untitled)",
        body=post.body,
        body_format="markdown",
        url=url,
        submitter=author,
        authors=[SubmissionAuthor(handle=author, confirmed=True)],
        posted_at=post.posted_at,
    )


def to_post_record(post: RedditPost) -> PostRecord | None:
    """The submission as a stored post, so later reposts are caught as duplicates. None without an author."""
    if post.author is None:
        return None  # unknown authorship is no evidence for any rule
    canonical = None
    if post.crosspost_parent is not None:
        canonical = post.crosspost_parent.permalink_url
    elif post.is_link:
        canonical = post.url
    return PostRecord(
        id=post_id(post.id),
        forum=forum_name(post.subreddit),
        author=post.author,
        title=post.title.strip() or "(untitled)",
        body=post.body,
        body_format="markdown",
        url=post.permalink_url,
        canonical_url=canonical,
        posted_at=post.posted_at,
    )
