"""The Reddit bot: answers requests in comment threads and reports new submissions to moderators.

A synchronous loop over praw streams (engine calls are CPU-bound; there is nothing to overlap). The
streams use `pause_after=0`, so the loop regains control after every poll that found nothing new: it
then waits `poll_seconds` on the stop event, which SIGTERM sets, and leaves cleanly after the item in hand.

Network and Reddit errors (5xx, timeouts, 429 with Retry-After, expired tokens) never end the loop: it
waits with exponential backoff, honouring Retry-After, and starts new streams (a generator that raised is
finished). prawcore's own retries are off (`transport.py`); a reply that met an ambiguous error is only sent
again after reading the thread back and not finding it. See `handled.py` for the claim/act/finish order
that keeps a restart from answering twice. What a submission's check means (what is stored, what is worth
a report) is the moderation intake's business: this module only translates and sends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import praw
import prawcore
from praw.exceptions import ClientException, RedditAPIException

from bot.domain import Message
from bot.engine import Engine
from bot.moderation.schemas import Finding, rule_ids
from bot.moderation.service import Moderator
from bot.reddit import render
from bot.reddit.answers import compose_answer, count
from bot.reddit.commands import Kind, Request, parse_request
from bot.reddit.config import RedditSettings
from bot.reddit.handled import HandledStore
from bot.reddit.reports import report_request, result_id
from bot.reddit.submissions import RedditPost, author_name, to_post_record, to_submission
from bot.reddit.transport import (
    AMBIGUOUS,
    NOT_APPLIED,
    TRANSIENT_ERRORS,
    Backoff,
    create_reddit,
    is_ratelimit,
    retry_after,
    stop_on_signals,
)

__all__ = ["Outcome", "RedditBot", "create_reddit", "retry_after", "stop_on_signals"]

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    action: str  # what is recorded: replied, modnote, modmail, report, failed
    detail: str | None = None


class RedditBot:
    def __init__(
        self,
        engine: Engine,
        moderator: Moderator | None,
        settings: RedditSettings,
        reddit: praw.Reddit,
        *,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.moderator = moderator
        self.settings = settings
        self.reddit = reddit
        self.handled = HandledStore(engine.db.engine)
        self.username = settings.username or getattr(reddit.config, "username", None) or ""
        self.commands: dict[str, Kind] = {}
        for kind, words in (
            ("related", settings.related_commands),
            ("cite", settings.cite_commands),
            ("bibliography", settings.bibliography_commands),
        ):
            for word in words:
                self.commands[word.casefold()] = kind  # type: ignore[assignment]
        self.stop_event = threading.Event()
        # Waiting on the stop event, not time.sleep: SIGTERM ends a long backoff at once. Tests record delays.
        self.sleep = sleep or (lambda seconds: self.stop_event.wait(seconds))
        self.clock = clock
        self.footer = render.footer(self.username, [*settings.related_commands[:1], *settings.cite_commands[:1]])

    # --- comments --------------------------------------------------------------------------------

    def _is_mine(self, author: str | None) -> bool:
        return bool(author) and author.casefold() == self.username.casefold()  # type: ignore[union-attr]

    def _too_old(self, created_utc: float | None) -> bool:
        return created_utc is not None and self.clock() - float(created_utc) > self.settings.max_age_hours * 3600

    def request_of(self, comment: Any) -> Request | None:
        """What a comment asks of the bot, from the data it came with (no request is made)."""
        data = vars(comment)
        author = author_name(data.get("author"))
        if author is None or self._is_mine(author) or self._too_old(data.get("created_utc")):
            return None
        return parse_request(str(data.get("body") or ""), self.username, self.commands)

    def handle_comment(self, comment: Any) -> str | None:
        """Answer the comment if it asks the bot for something and was not answered yet. Returns the action."""
        if not self.settings.answer_comments:
            return None
        request = self.request_of(comment)
        if request is None:
            return None
        fullname = comment.fullname
        if self.handled.is_handled(fullname):
            log.debug("reddit: %s already handled", fullname)
            return None
        try:
            comment.refresh()  # its ancestors (context) and its replies (has the bot answered already?)
        except ClientException:  # deleted since the stream saw it
            self.handled.record(fullname, "comment", "skipped", "comment no longer exists")
            log.info("reddit: skipped %s: comment no longer exists", fullname)
            return "skipped"
        if self._replied_to(comment):
            self.handled.record(fullname, "comment", "replied", "an earlier reply by the bot is there")
            log.info("reddit: %s already has a reply by u/%s; recorded it", fullname, self.username)
            return "replied"
        context = self._context(comment)
        body, summary = compose_answer(self.engine, self.settings, request, context, self.footer)
        if not self.handled.claim(fullname, "comment"):
            return None  # another bot on this database took it meanwhile
        outcome = self._reply(comment, body)
        if outcome is None:
            log.warning("reddit: stopped while replying to %s; it stays pending and is checked on start", fullname)
            return None
        if outcome.action == "released":
            self.handled.release(fullname)
        else:
            self.handled.finish(fullname, outcome.action, outcome.detail)
        log.info(
            "reddit: comment %s in r/%s: %s (%s via %s; %s)%s",
            fullname,
            getattr(comment.subreddit, "display_name", comment.subreddit),
            outcome.action,
            request.kind,
            request.via,
            summary,
            f": {outcome.detail}" if outcome.detail else "",
        )
        return outcome.action

    def _replied_to(self, comment: Any) -> bool:
        """Is there a reply by the bot among the comment's replies (as last fetched)?"""
        replies = list(getattr(comment, "replies", []))
        return any(self._is_mine(author_name(vars(reply).get("author"))) for reply in replies)

    def _context(self, comment: Any) -> list[Message]:
        """The submission, then the parent comments from the oldest to the one replied to."""
        parents: list[Message] = []
        node = comment
        for _ in range(self.settings.context_comments):
            if not str(node.parent_id).startswith("t1_"):
                break
            node = node.parent()  # known from refresh(); otherwise fetched
            text = str(getattr(node, "body", "") or "")
            if text and text not in ("[deleted]", "[removed]"):
                parents.append(Message(author=author_name(getattr(node, "author", None)), text=text))
        submission = comment.submission
        opening = "\n\n".join(t for t in (submission.title, (submission.selftext or "")[:5000]) if t)
        return [Message(author=author_name(submission.author), text=opening), *reversed(parents)]

    def _reply(self, comment: Any, body: str) -> Outcome | None:
        """Post the reply at most once. None when stopped with the outcome unknown (the claim stays pending)."""
        backoff = Backoff(self.settings.backoff_base_seconds, self.settings.backoff_max_seconds)
        last = "no attempt"
        for _attempt in range(self.settings.reply_attempts):
            try:
                reply = comment.reply(body)
                return Outcome("replied", reply.fullname if reply is not None else None)
            except NOT_APPLIED as exc:
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"reply to {comment.fullname}", exc)
            except AMBIGUOUS as exc:
                last = str(exc)
                # Reddit may have stored the reply before failing: look before sending it again.
                self._wait(backoff.next(), f"reply to {comment.fullname}", exc)
                if self.stop_event.is_set():
                    return None
                try:
                    comment.refresh()
                except (*TRANSIENT_ERRORS, ClientException) as read_error:
                    return Outcome("failed", f"{exc}; could not read the thread back ({read_error}), not resent")
                if self._replied_to(comment):
                    return Outcome("replied", f"stored despite {exc}")
            except RedditAPIException as exc:
                if not is_ratelimit(exc):
                    return Outcome("failed", str(exc))  # THREAD_LOCKED, DELETED_COMMENT, TOO_LONG …
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"reply to {comment.fullname}", exc)
            except (prawcore.ResponseException, ClientException) as exc:  # 403 banned or locked, 404 …
                return Outcome("failed", str(exc))
            if self.stop_event.is_set():
                return Outcome("released", f"stopped before sending ({last})")  # nothing posted: answer after restart
        return Outcome("failed", f"gave up after {self.settings.reply_attempts} attempts: {last}")

    def _wait(self, delay: float, what: str, exc: BaseException) -> None:
        log.warning("reddit: %s failed (%s); waiting %.1fs", what, exc, delay)
        self.sleep(delay)

    # --- submissions -------------------------------------------------------------------------------

    def handle_submission(self, submission: Any) -> str | None:
        """Check a new submission with the moderation rules and report what was found. Returns the action."""
        if not self.settings.check_submissions or self.moderator is None:
            return None
        post = RedditPost.from_praw(submission)
        if self._is_mine(post.author) or self._too_old(post.created_utc):
            return None
        if self.handled.is_handled(post.fullname):
            return None
        parent = to_post_record(post.crosspost_parent) if post.crosspost_parent is not None else None
        intake = self.moderator.receive(
            to_submission(post),
            origin="reddit",
            record=self.settings.record_reports,
            published=to_post_record(post),  # a Reddit post is public already: stored so reposts are caught
            crosspost_of=parent,
            notify_at=self.settings.report_min_severity,
        )
        findings, to_report = intake.report.findings, intake.notify
        where = f"{post.fullname} in r/{post.subreddit} by u/{post.author or '[deleted]'}"
        if not to_report:
            self.handled.record(post.fullname, "submission", "clean", f"{len(findings)} findings below threshold")
            log.info(
                "reddit: checked %s: nothing to report (%s below the threshold)",
                where,
                count(len(findings), "finding"),
            )
            return "clean"
        channel = self.settings.report_channel
        rules_fired = ", ".join(rule_ids(to_report))
        if self.settings.dry_run:
            if self.handled.record(post.fullname, "submission", "dry-run", f"{channel}: {rules_fired}"):
                log.info("reddit: dry run: would send a %s about %s: %s", channel, where, rules_fired)
                for finding in to_report:
                    log.info("reddit:   %s (%s): %s", finding.rule, finding.severity, finding.summary)
            return "dry-run"
        if not self.handled.claim(post.fullname, "submission"):
            return None
        outcome = self._send_report(submission, post, to_report, intake.report.report_id)
        if outcome is None:
            log.warning("reddit: stopped while reporting %s; it stays pending and is checked on start", where)
            return None
        self.handled.finish(post.fullname, outcome.action, outcome.detail)
        log.info(
            "reddit: %s about %s: %s%s",
            outcome.action,
            where,
            rules_fired,
            f" ({outcome.detail})" if outcome.detail else "",
        )
        return outcome.action

    def _send_report(
        self, submission: Any, post: RedditPost, findings: list[Finding], report_id: int | None
    ) -> Outcome | None:
        channel = self.settings.report_channel
        send = report_request(self.reddit, channel, submission, post, findings, report_id)
        if isinstance(send, str):
            return Outcome("failed", send)
        backoff = Backoff(self.settings.backoff_base_seconds, self.settings.backoff_max_seconds)
        last = "no attempt"
        for _attempt in range(self.settings.reply_attempts):
            try:
                result = send()
                return Outcome(channel, result_id(result))
            except TRANSIENT_ERRORS as exc:
                # Moderators alone see these channels: a rare duplicate note beats a lost report.
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"{channel} for {post.fullname}", exc)
            except RedditAPIException as exc:
                if not is_ratelimit(exc):
                    return Outcome("failed", str(exc))
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"{channel} for {post.fullname}", exc)
            except (prawcore.ResponseException, ClientException) as exc:  # 403: the account is not a moderator
                return Outcome("failed", str(exc))
            if self.stop_event.is_set():
                return None
        return Outcome("failed", f"gave up after {self.settings.reply_attempts} attempts: {last}")

    # --- recovery and the loop ---------------------------------------------------------------------

    def recover(self) -> None:
        """Settle items a crash left pending: reply only where the thread shows no reply by the bot."""
        for row in self.handled.pending():
            if self.stop_event.is_set():
                return
            if row.kind == "comment":
                comment = self.reddit.comment(row.item_id.split("_", 1)[1])
                try:
                    comment.refresh()
                except (ClientException, prawcore.NotFound, prawcore.Forbidden):
                    self.handled.finish(row.item_id, "failed", "gone after an interrupted reply")
                    continue
                if self._replied_to(comment):
                    self.handled.finish(row.item_id, "replied", "found after an interrupted reply")
                    log.info("reddit: recovered %s: the reply had been posted", row.item_id)
                    continue
                log.info("reddit: recovered %s: no reply was posted; answering it now", row.item_id)
                self.handled.release(row.item_id)
                self.handle_comment(comment)
            else:
                # A mod note or modmail cannot be read back cheaply; moderators may get one twice, never none.
                submission = self.reddit.submission(row.item_id.split("_", 1)[1])
                try:
                    _ = submission.title  # fetch its data
                except (ClientException, prawcore.NotFound, prawcore.Forbidden):
                    self.handled.finish(row.item_id, "failed", "gone after an interrupted report")
                    continue
                self.handled.release(row.item_id)
                self.handle_submission(submission)

    def _streams(self) -> list[tuple[str, Iterator[Any]]]:
        streams: list[tuple[str, Iterator[Any]]] = []
        if self.settings.answer_comments and self.settings.subreddits:
            subreddit = self.reddit.subreddit("+".join(self.settings.subreddits))
            streams.append(("comment", subreddit.stream.comments(pause_after=0)))
        if self.settings.check_submissions and self.moderator is not None and self.settings.moderated:
            subreddit = self.reddit.subreddit("+".join(self.settings.moderated))
            streams.append(("submission", subreddit.stream.submissions(pause_after=0)))
        return streams

    def _handle(self, kind: str, item: Any) -> None:
        try:
            if kind == "comment":
                self.handle_comment(item)
            else:
                self.handle_submission(item)
        except TRANSIENT_ERRORS:
            raise  # nothing was recorded: the loop waits, and the new stream brings the item again
        except Exception as exc:  # a bug or bad data in one item must not stop the bot
            log.exception("reddit: could not handle %s %s", kind, getattr(item, "fullname", item))
            self.handled.record(item.fullname, kind, "error", f"{type(exc).__name__}: {exc}")

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Poll the streams until `stop_event` is set. Survives network errors and rate limits."""
        if stop_event is not None:
            self.stop_event = stop_event
        stop = self.stop_event
        backoff = Backoff(self.settings.backoff_base_seconds, self.settings.backoff_max_seconds)
        streams: list[tuple[str, Iterator[Any]]] | None = None
        recovered = False
        log.info(
            "reddit: running as u/%s; answering in %s; checking submissions in %s; reports by %s%s",
            self.username,
            ", ".join(f"r/{s}" for s in self.settings.subreddits) or "no subreddit",
            ", ".join(f"r/{s}" for s in self.settings.moderated) if self.moderator else "no subreddit",
            self.settings.report_channel,
            " (dry run)" if self.settings.dry_run else "",
        )
        while not stop.is_set():
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                if streams is None:
                    streams = self._streams()
                for kind, stream in streams:
                    for item in stream:
                        if item is None:
                            break  # this stream has nothing new: go on to the next, then pause
                        self._handle(kind, item)
                        if stop.is_set():
                            break
                    if stop.is_set():
                        break
                backoff.reset()
            except TRANSIENT_ERRORS as exc:
                delay = backoff.next(retry_after(exc))
                log.warning("reddit: %s; retrying in %.1fs", exc, delay)
                streams = None  # a generator that raised is finished: start new ones
                self.sleep(delay)
                continue
            if not stop.is_set():
                self.sleep(self.settings.poll_seconds)
        log.info("reddit: stopped")
