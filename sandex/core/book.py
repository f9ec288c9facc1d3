"""One product's order book: price levels with FIFO queues, price-time priority (§4.10).

* Levels live in a dict per side (price -> ``Level``), read by the views, images and
  invariants; compiled, the hot paths find a level by price in a C index per side beside it
  (``Index``: a Fibonacci hash of the price, whose every value is a multiple of 10**6 and so
  crowds CPython's int-keyed dict), which makes and drops its entries where the dict does
  (``open_level``, ``forget``). Best prices come from a heap per side
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
from typing import Any

import cython

from sandex.core.limits import heap_slack, level_dead_slots_max
from sandex.core.model import Side, Status
from sandex.core.records import Order

if cython.compiled:
    from cython.cimports.libc.stdlib import calloc, free

if cython.compiled:  # a level's queue by the deque's own C functions (fifo.pxd)
    from cython.cimports.sandex.core.fifo import bind, new, push

    bind(deque, deque.append, deque.popleft)
else:
    from sandex.core.fifo import push

OPEN = Status.OPEN
BUY = Side.BUY
# compiled, C integers (book.pxd): the compaction tests stay in C
_HEAP_SLACK = heap_slack
_DEAD_SLOTS_MAX = level_dead_slots_max
_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / the golden ratio, odd: the index's multiplier
_INDEX_BITS = 4  # a side's index starts with 2**4 slots and doubles when half full


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

    def __cinit__(self) -> None:
        """Compiled: each side's index, empty (also for a book made by ``__new__``)."""
        if cython.compiled:
            index_init(cython.address(self._bix), _INDEX_BITS)
            index_init(cython.address(self._aix), _INDEX_BITS)

    def __dealloc__(self) -> None:
        if cython.compiled:
            free(self._bix.keys)
            free(self._bix.vals)
            free(self._aix.keys)
            free(self._aix.vals)

    def __init__(self) -> None:
        self.bids = {}
        self.asks = {}
        self._bid_heap = []  # negated prices
        self._ask_heap = []
        # the best level found last: the best of its side while its count is above 0
        self._best_bid = None
        self._best_ask = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its fields (a test's saved state is a pickle of the engine); the
        index is rebuilt from the dicts (``__setstate__``)."""
        return (Book, (), (self.bids, self.asks, self._bid_heap, self._ask_heap,
                           self._best_bid, self._best_ask))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.bids, self.asks, self._bid_heap, self._ask_heap, self._best_bid,
         self._best_ask) = state
        if cython.compiled:
            for price, level in self.bids.items():
                index_put(cython.address(self._bix), price, cython.cast(cython.p_void, level))
            for price, level in self.asks.items():
                index_put(cython.address(self._aix), price, cython.cast(cython.p_void, level))

    # -- the levels by price -------------------------------------------------------------------
    @cython.locals(found=cython.p_void)
    def find(self, buy: bool, price: int) -> Level | None:
        """The level at ``price`` on the bids (``buy``) or asks, or ``None``: compiled, from
        the side's index, which names the level its dict holds at that price."""
        if cython.compiled:
            found = index_get(cython.address(self._bix) if buy else cython.address(self._aix),
                              price)
            if found == cython.NULL:
                return None
            return cython.cast(Level, found)
        return (self.bids if buy else self.asks).get(price)

    def forget(self, buy: bool, level: Level) -> None:
        """Drop an emptied ``level`` (count 0) from its side: its index, then its dict (the
        caller's reference keeps the level alive through both)."""
        if cython.compiled:
            index_drop(cython.address(self._bix) if buy else cython.address(self._aix),
                       level.price)
        del (self.bids if buy else self.asks)[level.price]

    def index_agrees(self) -> bool:
        """Does each side's index name exactly its dict's levels, each at its price (for the
        invariants)? Uncompiled there is no index."""
        if cython.compiled:
            return (_agrees(self.bids, cython.address(self._bix))
                    and _agrees(self.asks, cython.address(self._aix)))
        return True

    # -- best prices ---------------------------------------------------------------------------
    @cython.locals(level=Level)
    def best_bid(self) -> int | None:
        level = self._best_bid
        if level is not None and level.count:
            return level.price
        heap = self._bid_heap
        while heap:
            level = self.find(True, -heap[0])
            if level is not None:
                self._best_bid = level
                return level.price
            if cython.compiled:  # heapq's pop, the keys compared in C
                _pop(heap)
            else:
                heappop(heap)
        self._best_bid = None
        return None

    @cython.locals(level=Level)
    def best_ask(self) -> int | None:
        level = self._best_ask
        if level is not None and level.count:
            return level.price
        heap = self._ask_heap
        while heap:
            level = self.find(False, heap[0])
            if level is not None:
                self._best_ask = level
                return level.price
            if cython.compiled:  # heapq's pop, the keys compared in C
                _pop(heap)
            else:
                heappop(heap)
        self._best_ask = None
        return None

    # -- changes -------------------------------------------------------------------------------
    @cython.locals(level=Level)
    def add(self, order: Order) -> None:
        """Rest ``order`` (status open, ``remaining`` > 0) at the back of its price level."""
        price = order.price
        assert price is not None and order._remaining > 0
        level = self.find(order.side is BUY, price)
        if level is None:
            level = self.open_level(order.side, price)
        else:  # the level's own key (an equal int): its cancel finds the level by identity
            order.price = level.price
        push(level.orders, order)
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
        if cython.compiled:  # first: a price beyond 64 bits raises before the dict changes
            index_put(cython.address(self._bix) if side is BUY else cython.address(self._aix),
                      price, cython.cast(cython.p_void, level))
        levels[price] = level
        if cython.compiled:
            _push(heap, key)
        else:
            heappush(heap, key)
        if len(heap) > 2 * len(levels) + _HEAP_SLACK:
            self._compact_heap(side)
        return level

    @cython.locals(level=Level, buy=cython.bint)
    def remove(self, order: Order, size: int) -> None:
        """Take a resting order with ``size`` remaining out of the totals.

        The engine has already marked it not open; its queue slot is dropped lazily.
        """
        price = order.price
        assert price is not None
        buy = order.side is BUY
        level = self.find(buy, price)
        if level is None:
            raise KeyError(price)
        level.count -= 1
        if level.count == 0:
            self.forget(buy, level)
            return
        level.size -= size
        if len(level.orders) > 2 * level.count + _DEAD_SLOTS_MAX:
            self.compact(level)

    @staticmethod
    def compact(level: Level) -> None:
        """Drop the dead slots of a level's queue (orders no longer open)."""
        level.orders = deque(o for o in level.orders if o.status is OPEN)

    @cython.locals(level=Level, buy=cython.bint)
    def drop_level(self, side: Side, price: int) -> None:
        """Forget an emptied level (its heap entry goes lazily)."""
        buy = side is BUY
        level = self.find(buy, price)
        if level is None:
            raise KeyError(price)
        self.forget(buy, level)

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
    if cython.compiled:  # the deque's tp_new alone (fifo.pxd), not a call of the type
        level.orders = new(deque)
    else:
        level.orders = deque()
    level.size = 0
    level.count = 0
    return level


@cython.locals(up=cython.Py_ssize_t, new=cython.longlong, above=cython.longlong)
def _sift_up(heap: list[int], pos: int, key: int) -> None:
    """``key`` written at ``pos`` or above it, each larger parent moved down a place:
    heapq's ``_siftdown`` to the root, the keys compared as C integers (a price is at most
    ``limits.unit_max``, 10**18, so it and its negation fit in 64 bits)."""
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


def _push(heap: list[int], key: int) -> None:
    """``heapq.heappush(heap, key)`` compiled: the same sift, so the same list after, and no
    call through the module."""
    heap.append(key)
    _sift_up(heap, len(heap) - 1, key)


@cython.locals(n=cython.Py_ssize_t, pos=cython.Py_ssize_t, child=cython.Py_ssize_t,
               limit=cython.Py_ssize_t, left=cython.longlong, right=cython.longlong)
def _pop(heap: list[int]) -> None:
    """``heapq.heappop(heap)`` compiled, the popped key dropped: the same sifts as CPython's
    (the smaller child moved up to a leaf, then the last key sifted up from there), so the
    same list after, with the keys compared as C integers and no call through the
    module."""
    last = heap.pop()
    n = len(heap)
    pos = 0
    limit = n >> 1
    while pos < limit:
        child = 2 * pos + 1
        if child + 1 < n:
            left = heap[child]
            right = heap[child + 1]
            if not left < right:
                child += 1
        heap[pos] = heap[child]
        pos = child
    if n:
        _sift_up(heap, pos, last)


# -- the index (compiled only: book.pxd declares the C arguments; uncompiled, never called) -----
@cython.locals(keys=cython.p_longlong, vals=cython.pp_void, size=cython.Py_ssize_t)
def index_init(ix: Any, bits: int) -> int:
    """Make ``ix`` an empty index of ``2**bits`` slots (its old arrays are the caller's; on
    failure it is left as it was)."""
    if cython.compiled:
        size = cython.cast(cython.Py_ssize_t, 1) << bits
        keys = cython.cast(cython.p_longlong, calloc(size, cython.sizeof(cython.longlong)))
        vals = cython.cast(cython.pp_void, calloc(size, cython.sizeof(cython.p_void)))
        if keys == cython.NULL or vals == cython.NULL:
            free(keys)
            free(vals)
            raise MemoryError()
        ix.keys, ix.vals, ix.mask, ix.used, ix.shift = keys, vals, size - 1, 0, 64 - bits
    return 0


@cython.locals(i=cython.Py_ssize_t, found=cython.p_void)
def index_get(ix: Any, key: int) -> Any:
    """The level at ``key`` in ``ix``, or NULL: the slot the key's Fibonacci hash names,
    then the next ones up to the first empty."""
    if cython.compiled:
        i = cython.cast(cython.Py_ssize_t,
                        (cython.cast(cython.ulonglong, key) * _GOLDEN) >> ix.shift)
        while True:
            found = ix.vals[i]
            if found == cython.NULL or ix.keys[i] == key:
                return found
            i = (i + 1) & ix.mask
    return cython.NULL


@cython.locals(i=cython.Py_ssize_t, j=cython.Py_ssize_t, size=cython.Py_ssize_t,
               bits=cython.Py_ssize_t, keys=cython.p_longlong, vals=cython.pp_void)
def index_put(ix: Any, key: int, val: Any) -> int:
    """Name ``val`` at ``key`` in ``ix`` (in place of what it named there, if anything),
    doubling its slots first when it would be more than half full."""
    if cython.compiled:
        if 2 * (ix.used + 1) > ix.mask + 1:
            keys, vals, size, bits = ix.keys, ix.vals, ix.mask + 1, 65 - ix.shift
            index_init(ix, bits)  # raises with ``ix`` as it was
            for j in range(size):
                if vals[j] != cython.NULL:
                    index_put(ix, keys[j], vals[j])
            free(keys)
            free(vals)
        i = cython.cast(cython.Py_ssize_t,
                        (cython.cast(cython.ulonglong, key) * _GOLDEN) >> ix.shift)
        while ix.vals[i] != cython.NULL:
            if ix.keys[i] == key:
                ix.vals[i] = val
                return 0
            i = (i + 1) & ix.mask
        ix.keys[i] = key
        ix.vals[i] = val
        ix.used += 1
    return 0


@cython.locals(i=cython.Py_ssize_t, j=cython.Py_ssize_t, home=cython.Py_ssize_t,
               mask=cython.Py_ssize_t)
def index_drop(ix: Any, key: int) -> None:
    """Drop ``key`` from ``ix`` (nothing if it is not there): each later entry of its run
    whose probe passes the emptied slot moves back into it (no tombstones, so a probe ends
    at the first empty slot)."""
    if cython.compiled:
        mask = ix.mask
        i = cython.cast(cython.Py_ssize_t,
                        (cython.cast(cython.ulonglong, key) * _GOLDEN) >> ix.shift)
        while True:
            if ix.vals[i] == cython.NULL:
                return
            if ix.keys[i] == key:
                break
            i = (i + 1) & mask
        ix.used -= 1
        j = i
        while True:
            j = (j + 1) & mask
            if ix.vals[j] == cython.NULL:
                break
            home = cython.cast(cython.Py_ssize_t,
                               (cython.cast(cython.ulonglong, ix.keys[j]) * _GOLDEN) >> ix.shift)
            if ((j - home) & mask) >= ((j - i) & mask):  # its probe from home passes i
                ix.keys[i] = ix.keys[j]
                ix.vals[i] = ix.vals[j]
                i = j
        ix.vals[i] = cython.NULL


def _agrees(levels: dict[int, Level], ix: Any) -> bool:
    """Does ``ix`` name exactly the levels of ``levels``, each at its price?"""
    if cython.compiled:
        if ix.used != len(levels):
            return False
        for price, level in levels.items():
            if index_get(ix, price) != cython.cast(cython.p_void, level):
                return False
    return True


def _aggregate(level: Level) -> tuple[int, int, int]:
    return (level.price, level.size, level.count)


def _resting(price: int, order: Order) -> tuple[int, int, str]:
    remaining = order.remaining
    assert remaining is not None  # a resting limit order, at its level's price
    return (price, remaining, order.id)
