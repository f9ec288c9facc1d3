"""A histogram kept in plain numbers: what a hot path can afford to count (``GET /metrics``).

``add`` is a ``bisect`` and two additions; a Prometheus collector reads the counts at scrape
time (``sandex.api.metrics``), so nothing on the measured path builds a metric object.
"""

from __future__ import annotations

from bisect import bisect_left


class Tally:
    """Counts of values per bucket (``value <= bound``; the last bucket is ``+Inf``) and
    their sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def add(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        return sum(self.counts)
