"""Per-key sliding-window rate limits: per user for commands, per channel for unprompted answers."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable


class RateLimiter:
    """At most `count` hits per `seconds` for each key.

    Only the event loop calls it (checks run there), so it needs no lock. The clock is injectable so tests
    need not sleep.
    """

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if count < 1 or seconds <= 0:
            raise ValueError("a rate limit needs count >= 1 and seconds > 0")
        self.count = count
        self.seconds = seconds
        self.clock = clock
        self._hits: dict[Hashable, deque[float]] = defaultdict(deque)

    def _prune(self, key: Hashable, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        return hits

    def retry_after(self, key: Hashable) -> float:
        """Seconds until `key` may go again (0 when it may go now), without counting a hit."""
        now = self.clock()
        hits = self._prune(key, now)
        if len(hits) < self.count:
            return 0.0
        return max(0.0, hits[0] + self.seconds - now)

    def hit(self, key: Hashable) -> float:
        """Count a hit for `key` if allowed. Returns 0 when allowed, else the seconds to wait (nothing counted)."""
        wait = self.retry_after(key)
        if wait == 0.0:
            self._hits[key].append(self.clock())
        if len(self._hits) > 10_000:  # forget idle keys so a large server does not grow this forever
            now = self.clock()
            for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.seconds]:
                del self._hits[idle]
        return wait
