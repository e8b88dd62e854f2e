"""Talking to Reddit safely: a praw client without blind retries, what errors mean, how long to wait, and
stopping on SIGTERM.

prawcore's own retries are turned off (`create_reddit`): they re-send a POST blindly, and a 5xx after Reddit
stored a reply would post it twice. The bot decides what is safe to send again from the error classes here.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import praw
import prawcore
import requests
from praw.exceptions import RedditAPIException
from prawcore.sessions import RetryStrategy

from bot.reddit.config import RedditSettings

log = logging.getLogger(__name__)

# Errors that say nothing about the request itself: wait and try again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    prawcore.ServerError,
    prawcore.RequestException,
    prawcore.TooManyRequests,
    prawcore.InvalidToken,  # an expired token; the next request fetches a new one
)
# Errors after which a POST certainly did not take effect: safe to send again.
NOT_APPLIED: tuple[type[BaseException], ...] = (prawcore.TooManyRequests, prawcore.InvalidToken)
# Errors after which a POST may or may not have taken effect.
AMBIGUOUS: tuple[type[BaseException], ...] = (prawcore.ServerError, prawcore.RequestException)
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


def is_ratelimit(exc: BaseException) -> bool:
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
