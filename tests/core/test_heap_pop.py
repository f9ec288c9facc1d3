"""``book._pop`` is ``heapq.heappop`` with the popped key dropped: the same list after.

The best-price walk pops stale heap entries with it compiled (the keys compared as C
integers); a heap is pickled with its book, so the list must be exactly heapq's.
"""

from __future__ import annotations

import heapq
import random

from sandex.core.book import _pop


def _pops_as_heapq(keys: list[int]) -> None:
    """``keys`` heapified, then popped to empty by both: the lists equal after every pop."""
    heapq.heapify(keys)
    ours, theirs = list(keys), list(keys)
    while theirs:
        heapq.heappop(theirs)
        _pop(ours)
        assert ours == theirs


def test_pop_leaves_the_list_heapq_leaves() -> None:
    rng = random.Random(17)
    for size in [*range(40), 63, 64, 65, 127, 128, 129, 500]:
        for _ in range(20):
            keys = [rng.choice((-1, 1)) * rng.randrange(1, 3_000) * 10**6 for _ in range(size)]
            if rng.random() < 0.3:  # repeated keys (a price pushed again)
                keys += keys[: size // 2]
            _pops_as_heapq(keys)


def test_pop_of_the_extreme_prices() -> None:
    _pops_as_heapq([2**63 - 1, 1, -(2**63 - 1), 10**18, -(10**18), 0])
