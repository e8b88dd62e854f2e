"""Reports to a subreddit's moderators: the request for each channel (mod note, modmail, report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import praw
from praw.endpoints import API_PATH

from bot.moderation.schemas import Finding
from bot.reddit import render
from bot.reddit.submissions import RedditPost


def report_request(
    reddit: praw.Reddit, channel: str, submission: Any, post: RedditPost, findings: list[Finding], report_id: int | None
) -> Callable[[], Any] | str:
    """The call that reports `findings` on `channel`, or why there is none."""
    send: Callable[[], Any]
    if channel == "modnote":
        if post.author is None:
            return "a mod note needs an author; the account is deleted"
        note = render.modnote_text(findings, report_id)
        send = lambda: submission.mod.create_note(note=note)  # noqa: E731
    elif channel == "report":
        reason = render.report_reason(findings)
        send = lambda: submission.report(reason)  # noqa: E731
    else:
        data = {
            "subject": render.modmail_subject(post.title, findings),
            "body": render.modmail_body(
                title=post.title,
                permalink=post.permalink_url,
                author=post.author,
                subreddit=post.subreddit,
                findings=findings,
                report_id=report_id,
            ),
            "srName": post.subreddit,
            "isAuthorHidden": False,
            # No "to": a conversation without a recipient is an internal Mod Discussion.
        }
        send = lambda: reddit.post(API_PATH["modmail_conversations"], data=data)  # noqa: E731
    return send


def result_id(result: Any) -> str | None:
    """The id Reddit gave what was sent (a note, a conversation), for the log."""
    for attribute in ("id", "fullname"):
        value = getattr(result, attribute, None)
        if isinstance(value, str):
            return value
    return None
