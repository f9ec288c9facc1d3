"""One product's aggregated book (level 2) as of the last durable event, for market data.

Built from the engine's book when the first level-2 subscriber of a product takes its
snapshot, then moved forward only by the node listener's (durable) events, like the feed's
own mirror, so an increment never shows what a crash could lose. ``apply`` says which levels
one event changed and what they held before, from which a MarketDataIncrementalRefresh
entry is New (the level appears), Change or Delete (it empties).
"""

from __future__ import annotations

from sandex.core import Changed, Done, Event, Matched, Opened, Side
from sandex.core.book import Book

Level = tuple[bool, int]  # (is a bid, price)
MODIFY = "modify_order"


class Levels:
    """Resting orders (id -> is_bid, price, remaining) and per-level size and order count."""

    __slots__ = ("levels", "orders", "sequence")

    def __init__(self, book: Book, sequence: int) -> None:
        self.sequence = sequence  # the last event included
        self.orders: dict[str, list[int]] = {}
        self.levels: dict[Level, list[int]] = {}  # -> [size, count]
        bids, asks = book.level3()
        for is_bid, side in ((True, bids), (False, asks)):
            for price, remaining, order_id in side:
                self._add(order_id, is_bid, price, remaining)

    def apply(self, event: Event) -> dict[Level, int]:
        """Move forward by one sequenced order event; ``{level: size before}`` it changed."""
        before: dict[Level, int] = {}
        kind = type(event)
        if kind is Opened:
            assert isinstance(event, Opened)
            level = (event.side is Side.BUY, event.price)
            before[level] = self.size(level)
            self._add(event.order_id, level[0], event.price, event.remaining_size)
        elif kind is Matched:
            assert isinstance(event, Matched)
            self._reduce(event.maker_order_id, event.size, before)
        elif kind is Done:
            assert isinstance(event, Done)
            self._remove(event.order_id, before)
        elif kind is Changed:
            assert isinstance(event, Changed)
            if event.reason == MODIFY:
                if event.order_id in self.orders and event.price is not None \
                        and event.new_size is not None:
                    self._remove(event.order_id, before)
                    level = (event.side is Side.BUY, event.price)
                    before.setdefault(level, self.size(level))
                    self._add(event.order_id, level[0], event.price, event.new_size)
            elif event.old_size is not None and event.new_size is not None:
                self._reduce(event.order_id, event.old_size - event.new_size, before)
        return before

    def size(self, level: Level) -> int:
        found = self.levels.get(level)
        return 0 if found is None else found[0]

    def count(self, level: Level) -> int:
        found = self.levels.get(level)
        return 0 if found is None else found[1]

    def sides(self) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """``(price, size, orders)`` per level, bids best first, then asks best first."""
        bids = sorted((p, v[0], v[1]) for (b, p), v in self.levels.items() if b)
        asks = sorted((p, v[0], v[1]) for (b, p), v in self.levels.items() if not b)
        bids.reverse()
        return bids, asks

    def _add(self, order_id: str, is_bid: bool, price: int, size: int) -> None:
        self.orders[order_id] = [is_bid, price, size]
        level = self.levels.get((is_bid, price))
        if level is None:
            self.levels[(is_bid, price)] = [size, 1]
        else:
            level[0] += size
            level[1] += 1

    def _reduce(self, order_id: str, by: int, before: dict[Level, int]) -> None:
        order = self.orders.get(order_id)
        if order is None:
            return
        key = (bool(order[0]), order[1])
        before.setdefault(key, self.size(key))
        order[2] -= by
        self.levels[key][0] -= by

    def _remove(self, order_id: str, before: dict[Level, int]) -> None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return
        key = (bool(order[0]), order[1])
        before.setdefault(key, self.size(key))
        level = self.levels[key]
        level[0] -= order[2]
        level[1] -= 1
        if level[1] == 0:
            del self.levels[key]
