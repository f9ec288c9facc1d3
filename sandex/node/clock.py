"""Where the venue's time comes from: one ``VenueClock`` over a source clock.

A source is the system clock (``SystemClock``) or a clock tests move by hand
(``ManualClock``). The venue clock is either ``wall`` (the source itself) or ``virtual``:
``now = v0 + rate * (source - w0)``, anchored at a venue time ``v0`` read at source time ``w0``
(rate 0: frozen, 1: real time, k: k times faster). It is moved only by the node, when it applies
a ``SetClock`` (a new mode or rate, anchored at the command's stamp) or an ``AdvanceClock``
(a jump forward), so a replay of the journal moves it the same way; it never runs backwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int: ...


class ClockMode(StrEnum):
    WALL = "wall"
    VIRTUAL = "virtual"


class SystemClock:
    """Wall-clock time in microseconds since the Unix epoch."""

    def now_us(self) -> int:
        return time.time_ns() // 1000


class ManualClock:
    """A clock that only moves when told to (time control for tests and simulations)."""

    def __init__(self, start_us: int) -> None:
        self._now = start_us

    def now_us(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1_000_000)

    def set(self, now_us: int) -> None:
        self._now = now_us


class VenueClock:
    """The one clock the venue reads: ``wall`` (the source) or ``virtual`` (see the module)."""

    __slots__ = ("_v0", "_w0", "mode", "rate", "source")

    def __init__(self, source: Clock) -> None:
        self.source = source
        self.mode = ClockMode.WALL
        self.rate = 1.0
        self._v0 = self._w0 = 0

    def now_us(self) -> int:
        if self.mode is ClockMode.WALL:
            source = self.source
            if type(source) is SystemClock:  # its ``now_us`` written out: a call less a stamp
                return time.time_ns() // 1000
            return source.now_us()
        if self.rate == 0.0:
            return self._v0
        return self._v0 + int(self.rate * (self.source.now_us() - self._w0))

    @property
    def frozen(self) -> bool:
        return self.mode is ClockMode.VIRTUAL and self.rate == 0.0

    def set(self, mode: ClockMode, rate: float, at_us: int) -> None:
        """Switch to ``mode`` (``rate`` for a virtual clock), reading ``at_us`` now."""
        self.mode, self.rate = mode, rate
        self._v0, self._w0 = at_us, self.source.now_us()

    def reach(self, at_us: int) -> None:
        """Jump a virtual clock forward to ``at_us`` if it is behind (never back)."""
        if self.mode is ClockMode.VIRTUAL and at_us > self.now_us():
            self._v0, self._w0 = at_us, self.source.now_us()

    def wall_seconds(self, venue_seconds: float) -> float | None:
        """How long ``venue_seconds`` of venue time take in real time (``None``: frozen)."""
        if self.mode is ClockMode.WALL:
            return venue_seconds
        return None if self.rate == 0.0 else venue_seconds / self.rate


RATE_MAX = 1_000_000.0  # a virtual clock runs at most this many times faster than real time
ADVANCE_MAX_US = 400 * 86_400 * 1_000_000  # one advance moves the clock at most 400 days


def clock_rate(value: object) -> float:
    """``value`` (a number, or its text) as a virtual clock's rate; ``ValueError`` says why
    it is not one (0 <= rate <= ``RATE_MAX``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"rate {value!r} is not a number")
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"rate {value!r} is not a number") from None
    if not 0.0 <= rate <= RATE_MAX:  # NaN fails this too
        raise ValueError(f"rate {value!r} must be between 0 (frozen) and {RATE_MAX:.0f}")
    return rate


class SecondsClock:
    """A source reading a function of seconds since the epoch (a test's frozen wall clock)."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds

    def now_us(self) -> int:
        return int(self._seconds() * 1_000_000)
