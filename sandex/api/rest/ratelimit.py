"""REST rate limits: the three §8.1 buckets, answered with 429 (§8.3).

The bucket itself (``sandex.api.ratelimit``) is shared with the feed.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sandex.api.ratelimit import TRACKED_KEYS_MAX, RateLimiter
from sandex.errors import Error

__all__ = ["RateLimits", "RestRateLimiter"]


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
    auth_failures_rate: float = 1.0  # per IP: failed authentications refill at 1 a second
    auth_failures_burst: int = 20  # ... from a budget of 20 (GUESS: Coinbase documents none)
    keys_max: int = TRACKED_KEYS_MAX


class RestRateLimiter:
    """The three §8.1 REST buckets, answering the §8.3 429 error or ``None``.

    ``/fills`` has its own bucket and does not also draw on the private one (GUESS: the docs
    list it as a separate limit). Its 429 text is unknown; ``Private rate limit exceeded`` is
    used (§8.3 GUESS).
    """

    __slots__ = ("_failures", "_fills", "_private", "_public", "limits")

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits = limits if limits is not None else RateLimits()
        self._public = RateLimiter(limits.public_rate, limits.public_burst, limits.keys_max)
        self._private = RateLimiter(limits.private_rate, limits.private_burst, limits.keys_max)
        self._fills = RateLimiter(limits.fills_rate, limits.fills_burst, limits.keys_max)
        self._failures = RateLimiter(limits.auth_failures_rate, limits.auth_failures_burst,
                                     limits.keys_max)

    def check_auth(self, ip: Hashable, now: float) -> Error | None:
        """Before a private request is authenticated: the §8.3 private 429 while the client
        IP has spent its budget of failed authentications (a peek: it takes no token), so
        guessing keys, secrets or passphrases is slowed to ``auth_failures_rate`` a second."""
        if not self.limits.enabled or not self._failures.empty(ip, now):
            return None
        return Error.PRIVATE_RATE_LIMIT

    def auth_failed(self, ip: Hashable, now: float) -> None:
        """One failed authentication from ``ip``: a token of its failure budget."""
        if self.limits.enabled:
            self._failures.allow(ip, now)

    def check_public(self, ip: Hashable, now: float) -> Error | None:
        """Public endpoint, limited per client IP."""
        if not self.limits.enabled or self._public.allow(ip, now):
            return None
        return Error.PUBLIC_RATE_LIMIT

    def private_tokens(self, profile_id: str) -> float | None:
        """Tokens left in a profile's private bucket after its last request (``None``: none
        yet, or limits off): what ``explain`` reports."""
        return self._private.tokens(profile_id) if self.limits.enabled else None

    def tokens(self, bucket: str, key: Hashable) -> float | None:
        """Tokens left in ``key``'s ``bucket`` (``public``, ``private`` or ``fills``) after its
        last request (``None``: none yet, or limits off): what traces report."""
        if not self.limits.enabled:
            return None
        limiter = {"public": self._public, "private": self._private, "fills": self._fills}
        return limiter[bucket].tokens(key)

    def check_private(self, profile_id: str, now: float, *, fills: bool = False) -> Error | None:
        """Private endpoint, limited per profile; ``fills=True`` for ``GET /fills``."""
        if not self.limits.enabled:
            return None
        limiter = self._fills if fills else self._private
        return None if limiter.allow(profile_id, now) else Error.PRIVATE_RATE_LIMIT
