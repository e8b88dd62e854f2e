"""The loop: it survives 5xx, dropped connections and 429s with backoff, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import prawcore
import pytest
import requests

from bot.engine import Engine
from bot.reddit import RedditBot, create_reddit, stop_on_signals
from tests.reddit.conftest import BOT, SUB, reddit_settings, run_once
from tests.reddit.fake_reddit import FakeReddit, Recorded

BuildBot = Callable[..., RedditBot]
STREAM = f"/r/{SUB}/comments"


def asking(fake: FakeReddit, question: str = "prior work on reward hacking?") -> str:
    submission = fake.add_submission(SUB, "alice", "Reward hacking", "Agents exploit misspecified rewards.")
    return fake.add_comment(submission, "bob", f"u/{BOT} {question}")


def test_5xx_dropped_connections_and_429_are_retried_with_backoff(
    fake: FakeReddit, make_bot: BuildBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    comment = asking(fake)
    fake.fail(500, method="GET", path=STREAM)
    fake.fail(0, method="GET", path=STREAM)  # the connection drops
    limited = {"retry-after": "30", "x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "7"}
    fake.fail(429, method="GET", path=STREAM, headers=limited, body="Too Many Requests")
    fake.fail(503, method="GET", path=f"/comments/{fake.things[comment]['link_id'][3:]}")  # reading the thread
    paced: list[float] = []  # prawcore's own pacing from the rate-limit headers, recorded instead of slept

    def delay(limiter: prawcore.rate_limit.RateLimiter) -> None:
        if limiter.next_request_timestamp_ns is not None:
            paced.append((limiter.next_request_timestamp_ns - time.monotonic_ns()) / 1e9)
            limiter.next_request_timestamp_ns = None

    monkeypatch.setattr(prawcore.rate_limit.RateLimiter, "delay", delay)
    bot = make_bot(moderator=None)
    delays = run_once(bot)
    # 500, dropped, 429 (Retry-After 30 beats the backoff's 8), 503 while reading the thread, then the poll pause.
    assert delays == [2.0, 4.0, 30.0, 16.0, 5.0]
    assert any(6 <= p <= 7 for p in paced)  # prawcore honoured x-ratelimit-reset after the 429
    assert [r.form["thing_id"] for r in fake.sent("POST", "/api/comment")] == [comment]
    assert len(fake.sent("GET", STREAM)) >= 5  # a new stream after each failure


def test_sigterm_ends_run_after_the_item_in_hand(fake: FakeReddit, make_bot: BuildBot) -> None:
    comment = asking(fake)
    bot = make_bot(moderator=None)
    original = signal.getsignal(signal.SIGTERM)

    def terminate_on_first_poll(record: Recorded) -> None:
        if record.path == STREAM and len(fake.sent("GET", STREAM)) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    fake.on_request = terminate_on_first_poll
    with stop_on_signals(bot.stop_event):
        bot.run(bot.stop_event)  # returns: the test would hang (or die) otherwise
    assert signal.getsignal(signal.SIGTERM) is original
    assert bot.sleeps.delays == []  # type: ignore[attr-defined]  # no poll pause after SIGTERM
    assert [r.form["thing_id"] for r in fake.sent("POST", "/api/comment")] == [comment]  # finished, not cut off
    assert bot.handled.get(comment).action == "replied"  # type: ignore[union-attr]


def test_a_stop_event_interrupts_the_poll_pause(fake: FakeReddit, engine: Engine) -> None:
    settings = reddit_settings(fake, poll_seconds=60.0, check_submissions=False)
    session = requests.Session()
    session.trust_env = False
    bot = RedditBot(engine, None, settings, create_reddit(settings, session=session))  # the real, waiting sleep
    stop = threading.Event()
    polled = threading.Event()
    fake.on_request = lambda record: polled.set() if record.path == STREAM else None
    runner = threading.Thread(target=bot.run, args=(stop,))
    runner.start()
    assert polled.wait(10)
    time.sleep(0.2)  # into the 60 s pause
    started = time.monotonic()
    stop.set()
    runner.join(10)
    assert not runner.is_alive() and time.monotonic() - started < 2
