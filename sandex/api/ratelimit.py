"""Coinbase's lazy-fill token bucket (spec §8.1), used by the REST gateway and the feed.

Each key (an IP, a profile id) has a bucket that starts full (``burst`` tokens) and refills at
``rate`` tokens per second up to ``burst``; on each request::

    tokens = min(burst, tokens + (now - last) * rate)
    allow if tokens >= 1, and then tokens -= 1

A refused request still refills the bucket and moves ``last`` (the docs' worked example).
Time is an input; nothing here reads a clock. Token counts are floats (they are not money).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["TRACKED_KEYS_MAX", "RateLimiter"]

TRACKED_KEYS_MAX = 100_000
"""Buckets kept per limiter. Beyond it the least recently used bucket is dropped; that key then
starts again with a full bucket, exactly as a key not seen for ``burst / rate`` seconds would.
Bounds memory against clients that rotate IPs (about 100 bytes per bucket)."""

_EPSILON = 1e-4
"""Tolerance on "one whole token". Epoch seconds as floats are rounded to about 0.24 µs, so a
client sending exactly at ``rate`` may appear a few millionths of a token short; this lets it in
(covers about 7 µs of rounding at 15 req/s) while granting at most 0.01 % extra."""


class RateLimiter:
    """One lazy-fill token bucket per key (§8.1), at most ``keys_max`` buckets (LRU eviction)."""

    __slots__ = ("_buckets", "burst", "keys_max", "rate")

    def __init__(self, rate: float, burst: int, keys_max: int = TRACKED_KEYS_MAX) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive (tokens per second)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if keys_max < 1:
            raise ValueError("keys_max must be at least 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self.keys_max = keys_max
        # key -> [tokens, last]; a list so the hot path mutates in place.
        self._buckets: OrderedDict[Hashable, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def tokens(self, key: Hashable) -> float | None:
        """Tokens left after ``key``'s last request (``None`` if untracked), for tests/metrics."""
        bucket = self._buckets.get(key)
        return None if bucket is None else bucket[0]

    def empty(self, key: Hashable, now: float) -> bool:
        """Whether ``key`` has no whole token at ``now``, taking none (a peek, no refill kept)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return False
        tokens, last = bucket
        if now > last:
            tokens = min(self.burst, tokens + (now - last) * self.rate)
        return tokens < 1.0 - _EPSILON

    def allow(self, key: Hashable, now: float) -> bool:
        """Take one token from ``key``'s bucket at time ``now`` (seconds); ``False`` if none.

        A ``now`` earlier than the bucket's last request adds no tokens (time never runs back).
        """
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            if len(buckets) >= self.keys_max:
                buckets.popitem(last=False)
            buckets[key] = [self.burst - 1.0, now]
            return True
        buckets.move_to_end(key)
        tokens, last = bucket
        if now > last:
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            bucket[1] = now
        if tokens >= 1.0 - _EPSILON:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        return False
