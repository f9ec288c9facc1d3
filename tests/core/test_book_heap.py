"""A book's price heaps: compiled, ``open_level`` pushes with its own sift (``book._push``);
the lists must be exactly what ``heapq.heappush`` makes, in both builds."""

from __future__ import annotations

import random
from heapq import heappush

from sandex.core.book import Book
from sandex.core.limits import unit_max
from sandex.core.model import Side


def test_open_level_keeps_the_heaps_heapq_makes() -> None:
    rng = random.Random(18)
    for _ in range(50):
        book, bids, asks = Book(), [], []
        prices = rng.sample(range(1, 400), rng.randrange(1, 60))
        prices += [unit_max, unit_max - 1, 1 << 62][: rng.randrange(4)]
        for price in prices:
            book.open_level(Side.BUY, price)
            heappush(bids, -price)
            book.open_level(Side.SELL, price)
            heappush(asks, price)
        assert book._bid_heap == bids and book._ask_heap == asks
