"""§8 rate limits: the docs' token-bucket example, refill, the REST buckets, eviction."""

from __future__ import annotations

import pytest

from sandex.api.ratelimit import TRACKED_KEYS_MAX, RateLimiter
from sandex.api.rest.ratelimit import RateLimits, RestRateLimiter
from sandex.errors import Error

# The Coinbase docs' worked example: burst 3, refresh rate 1 (§8.1).
#   time, allowed, tokens left afterwards
DOCS_EXAMPLE = [
    (0.5, True, 2.0),
    (0.8, True, 1.3),
    (0.9, True, 0.4),
    (1.0, False, 0.5),
    (1.4, False, 0.9),
    (1.8, True, 0.3),
    (5.0, True, 2.0),
]


def test_docs_worked_example() -> None:
    limiter = RateLimiter(rate=1, burst=3)
    assert limiter.tokens("me") is None  # untracked = full (3.0 at time 0.0)
    for now, allowed, tokens in DOCS_EXAMPLE:
        assert limiter.allow("me", now) is allowed, now
        assert limiter.tokens("me") == pytest.approx(tokens), now


def test_starts_full_and_drains() -> None:
    limiter = RateLimiter(rate=1, burst=3)
    assert [limiter.allow("k", 100.0) for _ in range(4)] == [True, True, True, False]


def test_refill() -> None:
    limiter = RateLimiter(rate=10, burst=15)
    assert all(limiter.allow("ip", 0.0) for _ in range(15))
    assert not limiter.allow("ip", 0.0)
    assert not limiter.allow("ip", 0.05)  # half a token
    assert limiter.allow("ip", 0.1)  # one whole token (despite float rounding)
    assert not limiter.allow("ip", 0.1)
    assert all(limiter.allow("ip", 0.3) for _ in range(2))
    assert not limiter.allow("ip", 0.3)


def test_sustained_rate_is_sustainable() -> None:
    limiter = RateLimiter(rate=10, burst=1)
    assert all(limiter.allow("ip", 1_700_000_000 + i / 10) for i in range(1000))


def test_refill_never_exceeds_burst() -> None:
    limiter = RateLimiter(rate=10, burst=15)
    limiter.allow("ip", 0.0)
    assert limiter.allow("ip", 1_000_000.0)
    assert limiter.tokens("ip") == 14.0


def test_time_running_back_adds_nothing() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    assert limiter.allow("k", 10.0)
    assert not limiter.allow("k", 5.0)
    assert not limiter.allow("k", 10.5)
    assert limiter.allow("k", 11.0)


def test_keys_are_independent() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    assert limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.allow(("b", 1), 0.0)


def test_least_recently_used_key_is_evicted() -> None:
    limiter = RateLimiter(rate=1, burst=2, keys_max=2)
    assert limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)
    assert limiter.allow("a", 0.0)  # a is now the most recently used (0 tokens left)
    assert limiter.allow("c", 0.0)  # evicts b
    assert len(limiter) == 2
    assert limiter.tokens("b") is None
    assert limiter.tokens("a") == 0.0
    assert not limiter.allow("a", 0.0)  # a kept its state
    assert limiter.allow("b", 0.0)  # b starts again full; evicts c
    assert limiter.tokens("c") is None


def test_default_key_bound() -> None:
    assert RateLimiter(rate=1, burst=1).keys_max == TRACKED_KEYS_MAX


@pytest.mark.parametrize(
    ("rate", "burst", "keys_max"),
    [(0, 1, 1), (-1, 1, 1), (float("nan"), 1, 1), (1, 0, 1), (1, 1, 0)],
)
def test_invalid_limiter(rate: float, burst: int, keys_max: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate, burst, keys_max)


def test_defaults_are_the_current_docs() -> None:
    limits = RateLimits()
    assert limits.enabled
    assert (limits.public_rate, limits.public_burst) == (10, 15)
    assert (limits.private_rate, limits.private_burst) == (15, 30)
    assert (limits.fills_rate, limits.fills_burst) == (10, 20)


def test_rest_public_per_ip() -> None:
    gate = RestRateLimiter()
    assert all(gate.check_public("1.2.3.4", 0.0) is None for _ in range(15))
    assert gate.check_public("1.2.3.4", 0.0) is Error.PUBLIC_RATE_LIMIT
    assert Error.PUBLIC_RATE_LIMIT.status == 429
    assert gate.check_public("5.6.7.8", 0.0) is None


def test_rest_private_per_profile_and_fills_bucket() -> None:
    gate = RestRateLimiter()
    assert all(gate.check_private("p1", 0.0) is None for _ in range(30))
    assert gate.check_private("p1", 0.0) is Error.PRIVATE_RATE_LIMIT
    # /fills has its own bucket (burst 20), untouched by the private one.
    assert all(gate.check_private("p1", 0.0, fills=True) is None for _ in range(20))
    assert gate.check_private("p1", 0.0, fills=True) is Error.PRIVATE_RATE_LIMIT
    assert gate.check_private("p2", 0.0) is None


def test_disabled() -> None:
    gate = RestRateLimiter(RateLimits(enabled=False))
    for _ in range(1000):
        assert gate.check_public("ip", 0.0) is None
        assert gate.check_private("p", 0.0) is None
        assert gate.check_private("p", 0.0, fills=True) is None


def test_custom_limits() -> None:
    gate = RestRateLimiter(RateLimits(public_rate=3, public_burst=6))  # the 2017 era, §8.2
    assert all(gate.check_public("ip", 0.0) is None for _ in range(6))
    assert gate.check_public("ip", 0.0) is Error.PUBLIC_RATE_LIMIT
