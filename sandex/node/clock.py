"""Where the node's time comes from: the system clock, or a clock tests move by hand."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int: ...


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
