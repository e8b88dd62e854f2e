"""Token buckets, one per API token (or per client address for anonymous requests), in the database.

Every replica of `alignbot serve` on one database takes from the same buckets (bot.storage.shared), so a
token gets its limit once however many processes answer it.
"""

from __future__ import annotations

import math

from bot.storage.shared import RateBuckets as RateLimiter

__all__ = ["RateLimiter", "retry_after"]


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
