"""The Reddit bot: answers requests in comment threads and reports new submissions to moderators.

A synchronous loop over praw streams (engine calls are CPU-bound; there is nothing to overlap). The
streams use `pause_after=0`, so the loop regains control after every poll that found nothing new: it
then waits `poll_seconds` on the stop event, which SIGTERM sets, and leaves cleanly after the item in hand.

Network and Reddit errors (5xx, timeouts, 429 with Retry-After, expired tokens) never end the loop: it
waits with exponential backoff, honouring Retry-After, and starts new streams (a generator that raised is
finished). prawcore's own retries are turned off (`create_reddit`): they re-send a POST blindly, and a 5xx
after Reddit stored a reply would post it twice. Instead a reply that met an ambiguous error is only sent
again after reading the thread back and not finding it. See `handled.py` for the claim/act/finish order
that keeps a restart from answering twice.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import praw
import prawcore
import requests
from praw.endpoints import API_PATH
from praw.exceptions import ClientException, RedditAPIException
from prawcore.sessions import RetryStrategy

from bot.domain import Message
from bot.engine import Engine
from bot.moderation.config import RULE_IDS
from bot.moderation.schemas import Finding
from bot.moderation.service import Moderator
from bot.reddit import render
from bot.reddit.commands import Kind, Request, parse_request
from bot.reddit.config import SEVERITY_RANK, RedditSettings
from bot.reddit.handled import HandledStore
from bot.reddit.submissions import RedditPost, to_post_record, to_submission

log = logging.getLogger(__name__)

# Errors that say nothing about the request itself: wait and try again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    prawcore.ServerError,
    prawcore.RequestException,
    prawcore.TooManyRequests,
    prawcore.InvalidToken,  # an expired token; the next request fetches a new one
)
# Errors after which a POST certainly did not take effect: safe to send again.
_NOT_APPLIED: tuple[type[BaseException], ...] = (prawcore.TooManyRequests, prawcore.InvalidToken)
# Errors after which a POST may or may not have taken effect.
_AMBIGUOUS: tuple[type[BaseException], ...] = (prawcore.ServerError, prawcore.RequestException)
_RATELIMIT_MESSAGE = re.compile(r"(\d+)\s*(millisecond|second|minute)", re.IGNORECASE)


class _SingleAttempt(RetryStrategy):
    """prawcore retry strategy that never retries: the bot decides what is safe to send again."""

    def _sleep_seconds(self) -> float | None:
        return None

    def consume_available_retry(self) -> _SingleAttempt:
        return self

    def should_retry_on_failure(self) -> bool:
        return False


def create_reddit(settings: RedditSettings, *, session: requests.Session | None = None) -> praw.Reddit:
    """A praw client for the bot's script app, pointed at the configured URLs (a fake Reddit in tests)."""
    missing = [name for name in settings.missing() if name.startswith("REDDIT_")]
    if missing:
        raise ValueError(f"missing Reddit credentials: set {', '.join(missing)}")
    assert settings.client_secret is not None and settings.password is not None
    requestor_kwargs: dict[str, Any] = {"timeout": settings.request_timeout}
    if session is not None:
        requestor_kwargs["session"] = session
    reddit = praw.Reddit(
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(),
        username=settings.username,
        password=settings.password.get_secret_value(),
        user_agent=settings.agent(),
        oauth_url=settings.oauth_url,
        reddit_url=settings.reddit_url,
        check_for_updates=False,  # no calls home to PyPI from a bot
        check_for_async=False,
        ratelimit_seconds=0,  # "try again in N minutes" comes to us; we wait on the stop event, praw would not
        requestor_kwargs=requestor_kwargs,
    )
    for core in (reddit._core, reddit._authorized_core, reddit._read_only_core):
        if core is not None and hasattr(core, "_retry_strategy_class"):
            core._retry_strategy_class = _SingleAttempt
        elif core is not None:  # pragma: no cover - a prawcore without the hook: its retries stay on
            log.warning("could not turn off prawcore's retries; a 5xx on a reply may post it twice")
    return reddit


def retry_after(exc: BaseException) -> float | None:
    """Seconds Reddit asked us to wait: a 429's Retry-After, or a RATELIMIT error's "try again in N minutes"."""
    if isinstance(exc, prawcore.TooManyRequests) and exc.retry_after:
        try:
            return float(exc.retry_after)
        except ValueError:
            return None
    if isinstance(exc, RedditAPIException):
        for item in exc.items:
            if item.error_type == "RATELIMIT" and item.message:
                match = _RATELIMIT_MESSAGE.search(item.message)
                if match:
                    amount, unit = int(match[1]), match[2].lower()
                    return amount * 60 if unit == "minute" else amount if unit == "second" else 1
    return None


def _is_ratelimit(exc: BaseException) -> bool:
    return isinstance(exc, RedditAPIException) and any(i.error_type == "RATELIMIT" for i in exc.items)


class Backoff:
    """Exponential backoff: base, 2×base, 4×base … up to `cap`; never shorter than what Reddit asked for."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap, self.failures = base, cap, 0

    def next(self, at_least: float | None = None) -> float:
        delay = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return max(delay, min(at_least, self.cap * 2)) if at_least else delay

    def reset(self) -> None:
        self.failures = 0


def _name(author: Any) -> str | None:
    name = getattr(author, "name", author)
    return str(name) if name and name != "[deleted]" else None


@contextmanager
def stop_on_signals(
    stop_event: threading.Event, signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """SIGTERM (and Ctrl-C) set `stop_event`: the loop finishes the item in hand and returns."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping after the current item", signal.Signals(signum).name)
        stop_event.set()

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
        author = _name(data.get("author"))
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
        body, summary = self._compose(request, context)
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
        return any(self._is_mine(_name(vars(reply).get("author"))) for reply in replies)

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
                parents.append(Message(author=_name(getattr(node, "author", None)), text=text))
        submission = comment.submission
        opening = "\n\n".join(t for t in (submission.title, (submission.selftext or "")[:5000]) if t)
        return [Message(author=_name(submission.author), text=opening), *reversed(parents)]

    def _compose(self, request: Request, context: list[Message]) -> tuple[str, str]:
        """(reply body, a short summary for the log)."""
        settings, engine = self.settings, self.engine
        if request.kind == "cite" and request.text:
            cited = engine.cite(request.text, style=settings.cite_style)
            summary = "confident match" if cited.confident else "no confident match"
            return render.render_cite(cited, settings.cite_style, self.footer), summary
        if request.kind in ("cite", "bibliography"):
            # A bare "!cite" cites what the comment replies to; "!bibliography" the whole thread above it.
            thread = context if request.kind == "bibliography" else context[-1:]
            bibliography = engine.bibliography(thread, style=settings.cite_style)
            summary = _count(len(bibliography.entries), "work")
            return render.render_bibliography(bibliography, settings.cite_style, self.footer), summary
        asked = engine.ask(request.text, k=settings.results, context=context)
        summary = f"{_count(len(asked.results), 'work')}, {'confident' if asked.confident else 'no confident match'}"
        return render.render_ask(asked, self.footer), summary

    def _reply(self, comment: Any, body: str) -> Outcome | None:
        """Post the reply at most once. None when stopped with the outcome unknown (the claim stays pending)."""
        backoff = Backoff(self.settings.backoff_base_seconds, self.settings.backoff_max_seconds)
        last = "no attempt"
        for _attempt in range(self.settings.reply_attempts):
            try:
                reply = comment.reply(body)
                return Outcome("replied", reply.fullname if reply is not None else None)
            except _NOT_APPLIED as exc:
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"reply to {comment.fullname}", exc)
            except _AMBIGUOUS as exc:
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
                if not _is_ratelimit(exc):
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
        moderator = self.moderator
        if post.crosspost_parent is not None:
            parent = to_post_record(post.crosspost_parent)
            if parent is not None:
                moderator.store_posts([parent], source="reddit")
        # The related-work audit reads a post's own text: link posts and crossposts have none.
        rules = None if post.is_self and post.crosspost_parent is None else set(RULE_IDS) - {"related-work"}
        report = moderator.check(to_submission(post), dry_run=not self.settings.record_reports, rules=rules)
        findings = [f for f in report.findings if not _duplicates_crosspost_parent(f, post)]
        record = to_post_record(post)
        if record is not None:
            moderator.store_posts([record], source="reddit")  # so a later repost is caught as a duplicate
        threshold = SEVERITY_RANK[self.settings.report_min_severity]
        to_report = [f for f in findings if SEVERITY_RANK[f.severity] <= threshold]
        where = f"{post.fullname} in r/{post.subreddit} by u/{post.author or '[deleted]'}"
        if not to_report:
            self.handled.record(post.fullname, "submission", "clean", f"{len(findings)} findings below threshold")
            log.info(
                "reddit: checked %s: nothing to report (%s below the threshold)",
                where,
                _count(len(findings), "finding"),
            )
            return "clean"
        channel = self.settings.report_channel
        rules_fired = ", ".join(dict.fromkeys(f.rule for f in to_report))
        if self.settings.dry_run:
            if self.handled.record(post.fullname, "submission", "dry-run", f"{channel}: {rules_fired}"):
                log.info("reddit: dry run: would send a %s about %s: %s", channel, where, rules_fired)
                for finding in to_report:
                    log.info("reddit:   %s (%s): %s", finding.rule, finding.severity, finding.summary)
            return "dry-run"
        if not self.handled.claim(post.fullname, "submission"):
            return None
        outcome = self._send_report(submission, post, to_report, report.report_id)
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
        send: Callable[[], Any]
        if channel == "modnote":
            if post.author is None:
                return Outcome("failed", "a mod note needs an author; the account is deleted")
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
            send = lambda: self.reddit.post(API_PATH["modmail_conversations"], data=data)  # noqa: E731
        backoff = Backoff(self.settings.backoff_base_seconds, self.settings.backoff_max_seconds)
        last = "no attempt"
        for _attempt in range(self.settings.reply_attempts):
            try:
                result = send()
                return Outcome(channel, _result_id(result))
            except TRANSIENT_ERRORS as exc:
                # Moderators alone see these channels: a rare duplicate note beats a lost report.
                last = str(exc)
                self._wait(backoff.next(retry_after(exc)), f"{channel} for {post.fullname}", exc)
            except RedditAPIException as exc:
                if not _is_ratelimit(exc):
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


def _duplicates_crosspost_parent(finding: Finding, post: RedditPost) -> bool:
    """A crosspost repeats its parent by design (Reddit links the original): not a duplicate to report."""
    if finding.rule != "duplicate-post" or post.crosspost_parent is None:
        return False
    source = finding.evidence.get("source") or {}
    return source.get("id") == f"reddit-{post.crosspost_parent.id}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _result_id(result: Any) -> str | None:
    for attribute in ("id", "fullname"):
        value = getattr(result, attribute, None)
        if isinstance(value, str):
            return value
    return None
