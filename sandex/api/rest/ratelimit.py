"""REST rate limits: Coinbase's lazy-fill token bucket (spec §8.1), answered with 429 (§8.3).

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
from dataclasses import dataclass

from sandex.errors import Error

__all__ = ["TRACKED_KEYS_MAX", "RateLimiter", "RateLimits", "RestRateLimiter"]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """REST limits, defaults from §8.1 (2024-2025 docs). ``enabled=False`` turns them all off."""

    enabled: bool = True
    public_rate: float = 10.0  # per IP
    public_burst: int = 15
    private_rate: float = 15.0  # per profile
    private_burst: int = 30
    fills_rate: float = 10.0  # per profile, /fills only
    fills_burst: int = 20
    keys_max: int = TRACKED_KEYS_MAX


class RestRateLimiter:
    """The three §8.1 REST buckets, answering the §8.3 429 error or ``None``.

    ``/fills`` has its own bucket and does not also draw on the private one (GUESS: the docs
    list it as a separate limit). Its 429 text is unknown; ``Private rate limit exceeded`` is
    used (§8.3 GUESS).
    """

    __slots__ = ("_fills", "_private", "_public", "limits")

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits = limits if limits is not None else RateLimits()
        self._public = RateLimiter(limits.public_rate, limits.public_burst, limits.keys_max)
        self._private = RateLimiter(limits.private_rate, limits.private_burst, limits.keys_max)
        self._fills = RateLimiter(limits.fills_rate, limits.fills_burst, limits.keys_max)

    def check_public(self, ip: Hashable, now: float) -> Error | None:
        """Public endpoint, limited per client IP."""
        if not self.limits.enabled or self._public.allow(ip, now):
            return None
        return Error.PUBLIC_RATE_LIMIT

    def check_private(self, profile_id: str, now: float, *, fills: bool = False) -> Error | None:
        """Private endpoint, limited per profile; ``fills=True`` for ``GET /fills``."""
        if not self.limits.enabled:
            return None
        limiter = self._fills if fills else self._private
        return None if limiter.allow(profile_id, now) else Error.PRIVATE_RATE_LIMIT
