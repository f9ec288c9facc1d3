"""One product's order book: price levels with FIFO queues, price-time priority (§4.10).

* Levels live in a dict per side (price -> ``Level``); best prices come from a heap per side
  with lazy deletion, so adding a level, finding the best price and emptying a level are
  O(log n) amortised and the common case is O(1). The best level found is kept while it
  is live (``count > 0``; a level leaves its dict exactly when its count drops to 0, and
  never comes back), and a new level better than it replaces it: the common best-price
  question reads one field, with no heap, dict or int work.
* Cancel is O(1): the order is marked done by the engine and the level's totals drop at once;
  its slot in the FIFO is skipped when it reaches the front, and a queue holding more dead
  slots than live ones is compacted (``level_dead_slots_max``).
* The book stores ``Order`` objects; it never changes an order's values (an order joining a
  level takes the level's key as its ``price``, an equal int, so that dict lookups by it
  find the key by identity instead of comparing two ints).

Compiled with the core (``book.pxd`` declares the fields and the methods the matching code
calls directly).
"""

from __future__ import annotations

from collections import deque
from heapq import heapify, heappop, heappush

import cython

from sandex.core.limits import heap_slack, level_dead_slots_max
from sandex.core.model import Side, Status
from sandex.core.records import Order

OPEN = Status.OPEN
_append = deque.append  # called directly: cheaper from C than by name
BUY = Side.BUY
# compiled, C integers (book.pxd): the compaction tests stay in C
_HEAP_SLACK = heap_slack
_DEAD_SLOTS_MAX = level_dead_slots_max


@cython.freelist(64)
@cython.no_gc
@cython.final
@cython.cclass
class Level:
    """The orders resting at one price. ``size``/``count`` cover live orders only.

    Compiled, ``size`` is a C 128-bit field (``book.pxd``): the venue's bound on a size
    (``limits.unit_max``) keeps it below 2**124; it reads as an int."""

    __slots__ = ("count", "orders", "price", "size")
    price: int
    orders: deque[Order]
    size: int
    count: int

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders = deque()
        self.size = 0
        self.count = 0

    def live(self) -> list[Order]:
        return [order for order in self.orders if order.status is OPEN]


@cython.no_gc
@cython.final
@cython.cclass
class Book:
    """Bids and asks of one product."""

    __slots__ = ("_ask_heap", "_best_ask", "_best_bid", "_bid_heap", "asks", "bids")
    bids: dict[int, Level]
    asks: dict[int, Level]
    _bid_heap: list[int]
    _ask_heap: list[int]
    _best_bid: Level | None
    _best_ask: Level | None

    def __init__(self) -> None:
        self.bids = {}
        self.asks = {}
        self._bid_heap = []  # negated prices
        self._ask_heap = []
        # the best level found last: the best of its side while its count is above 0
        self._best_bid = None
        self._best_ask = None

    # -- best prices ---------------------------------------------------------------------------
    @cython.locals(level=Level)
    def best_bid(self) -> int | None:
        level = self._best_bid
        if level is not None and level.count:
            return level.price
        heap, levels = self._bid_heap, self.bids
        while heap:
            level = levels.get(-heap[0])
            if level is not None:
                self._best_bid = level
                return level.price
            heappop(heap)
        self._best_bid = None
        return None

    @cython.locals(level=Level)
    def best_ask(self) -> int | None:
        level = self._best_ask
        if level is not None and level.count:
            return level.price
        heap, levels = self._ask_heap, self.asks
        while heap:
            level = levels.get(heap[0])
            if level is not None:
                self._best_ask = level
                return level.price
            heappop(heap)
        self._best_ask = None
        return None

    # -- changes -------------------------------------------------------------------------------
    @cython.locals(level=Level)
    def add(self, order: Order) -> None:
        """Rest ``order`` (status open, ``remaining`` > 0) at the back of its price level."""
        price = order.price
        assert price is not None and order._remaining > 0
        level = (self.bids if order.side is BUY else self.asks).get(price)
        if level is None:
            level = self.open_level(order.side, price)
        else:  # the level's own key (an equal int): its cancel finds the level by identity
            order.price = level.price
        _append(level.orders, order)
        rests_at(order, level)
        level.size += order._remaining
        level.count += 1

    @cython.locals(best=Level, levels=dict, heap=list)
    def open_level(self, side: Side, price: int) -> Level:
        """A new, empty level at ``price`` (there is none yet), with its heap entry; the best
        of its side if it beats the live best one (a stale one is looked up again)."""
        level = _new_level(price)
        if side is BUY:
            levels, heap, key = self.bids, self._bid_heap, -price
            best = self._best_bid
            if best is not None and best.count and price > best.price:
                self._best_bid = level
        else:
            levels, heap, key = self.asks, self._ask_heap, price
            best = self._best_ask
            if best is not None and best.count and price < best.price:
                self._best_ask = level
        levels[price] = level
        if cython.compiled:
            _push(heap, key)
        else:
            heappush(heap, key)
        if len(heap) > 2 * len(levels) + _HEAP_SLACK:
            self._compact_heap(side)
        return level

    @cython.locals(level=Level, levels=dict)
    def remove(self, order: Order, size: int) -> None:
        """Take a resting order with ``size`` remaining out of the totals.

        The engine has already marked it not open; its queue slot is dropped lazily.
        """
        price = order.price
        assert price is not None
        levels = self.bids if order.side is BUY else self.asks
        level = levels[price]
        level.count -= 1
        if level.count == 0:
            del levels[level.price]
            return
        level.size -= size
        if len(level.orders) > 2 * level.count + _DEAD_SLOTS_MAX:
            self.compact(level)

    @staticmethod
    def compact(level: Level) -> None:
        """Drop the dead slots of a level's queue (orders no longer open)."""
        level.orders = deque(o for o in level.orders if o.status is OPEN)

    def drop_level(self, side: Side, price: int) -> None:
        """Forget an emptied level (its heap entry goes lazily)."""
        del (self.bids if side is BUY else self.asks)[price]

    def _compact_heap(self, side: Side) -> None:
        if side is Side.BUY:
            self._bid_heap = [-price for price in self.bids]
            heapify(self._bid_heap)
        else:
            self._ask_heap = list(self.asks)
            heapify(self._ask_heap)

    # -- views (§6.3) --------------------------------------------------------------------------
    def sorted_levels(self, side: Side) -> list[Level]:
        """Levels best first: bids high to low, asks low to high."""
        if side is Side.BUY:
            return [self.bids[p] for p in sorted(self.bids, reverse=True)]
        return [self.asks[p] for p in sorted(self.asks)]

    def level1(self) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Best bid and ask as ``(price, size, num_orders)``."""
        bid, ask = self.best_bid(), self.best_ask()
        bids = [] if bid is None else [_aggregate(self.bids[bid])]
        asks = [] if ask is None else [_aggregate(self.asks[ask])]
        return bids, asks

    def level2(self, depth: int | None = None) -> tuple[list[tuple[int, int, int]], ...]:
        """Every level (or the best ``depth``) as ``(price, size, num_orders)``."""
        return tuple(
            [_aggregate(level) for level in self.sorted_levels(side)[:depth]]
            for side in (Side.BUY, Side.SELL)
        )

    def level3(self) -> tuple[list[tuple[int, int, str]], ...]:
        """Every resting order as ``(price, remaining, order_id)``, in priority order."""
        return tuple(
            [_resting(level.price, o) for level in self.sorted_levels(side) for o in level.live()]
            for side in (Side.BUY, Side.SELL)
        )


def rests_at(order: Order, level: Level) -> None:
    """``order`` joins ``level``'s queue: compiled, it keeps the level without a reference
    (the level stays in its side's dict while its count, which counts the order, is above
    0; a cancel of the open order reads it, ``docs/performance.md``). Uncompiled it keeps
    none: a reference would make a cycle through the level's queue (the orders done there
    wait in it) that only the collector frees, and its cancel finds the level by price."""
    if cython.compiled:
        order._level = cython.cast(cython.p_void, level)


def leaves(order: Order) -> None:
    """``order`` leaves its level's queue off the usual paths (a modify moving it): it keeps
    no level until it joins one again."""
    if cython.compiled:
        order._level = cython.NULL


def keeps_level(order: Order) -> bool:
    """Does ``order`` keep a level (never uncompiled; not once unpickled)?"""
    if cython.compiled:
        return order._level != cython.NULL
    return False


def level_is(order: Order, level: Level) -> bool:
    """Does ``order`` keep ``level`` as its own (compared by address: no reference made to
    what it keeps)? For the invariants."""
    if cython.compiled:
        return order._level == cython.cast(cython.p_void, level)
    return order._level is level


@cython.locals(level=Level)
def _new_level(price: int) -> Level:
    """``Level(price)``: compiled, a C call that writes its fields (no argument tuple, no
    ``__init__`` call)."""
    level = Level.__new__(Level)
    level.price = price
    level.orders = deque()
    level.size = 0
    level.count = 0
    return level


@cython.locals(pos=cython.Py_ssize_t, up=cython.Py_ssize_t, new=cython.longlong,
               above=cython.longlong)
def _push(heap: list[int], key: int) -> None:
    """``heapq.heappush(heap, key)`` compiled: the same sift, so the same list after, with
    the keys compared as C integers (a price is at most ``limits.unit_max``, 10**18, so it
    and its negation fit in 64 bits) and no call through the module."""
    heap.append(key)
    pos = len(heap) - 1
    new = key
    while pos > 0:
        up = (pos - 1) >> 1
        parent = heap[up]
        above = parent
        if new < above:
            heap[pos] = parent
            pos = up
            continue
        break
    heap[pos] = key


def _aggregate(level: Level) -> tuple[int, int, int]:
    return (level.price, level.size, level.count)


def _resting(price: int, order: Order) -> tuple[int, int, str]:
    remaining = order.remaining
    assert remaining is not None  # a resting limit order, at its level's price
    return (price, remaining, order.id)
