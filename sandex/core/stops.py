"""Untriggered stop orders of one product, waiting on the last trade price (§4.1).

``loss`` stops trigger when the last trade price falls to or below their stop price,
``entry`` stops when it rises to or above it. Two heaps give the nearest stop of each kind in
O(log n); canceled stops are dropped lazily and the heaps are rebuilt when mostly dead.
Stops triggered by the same price run in arrival order.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

import cython

from sandex.core.limits import heap_slack
from sandex.core.model import Status, StopType
from sandex.core.records import Order

ACTIVE = Status.ACTIVE


@cython.no_gc
@cython.final
@cython.cclass
class StopBook:
    """The untriggered stops of one product (compiled with the core: ``stops.pxd``)."""

    __slots__ = ("_entry", "_loss", "live")
    _loss: list[tuple[int, int, Order]]
    _entry: list[tuple[int, int, Order]]
    live: int

    def __init__(self) -> None:
        self._loss = []  # (-stop_price, number, order)
        self._entry = []  # (stop_price, number, order)
        self.live = 0

    def add(self, order: Order) -> None:
        assert order.stop_price is not None and order.status is ACTIVE
        if order.stop is StopType.LOSS:
            heappush(self._loss, (-order.stop_price, order.number, order))
        else:
            heappush(self._entry, (order.stop_price, order.number, order))
        self.live += 1

    def discard(self, order: Order) -> None:
        """Forget a stop that was canceled or expired (already marked done)."""
        self.live -= 1
        if len(self._loss) + len(self._entry) > 2 * self.live + heap_slack:
            self._loss = [e for e in self._loss if e[2].status is ACTIVE]
            self._entry = [e for e in self._entry if e[2].status is ACTIVE]
            heapify(self._loss)
            heapify(self._entry)

    def reindex(self) -> None:
        """Rebuild the heaps from the live stops' current stop prices and arrival numbers
        (after a modify changed one)."""
        live = [e[2] for e in self._loss + self._entry if e[2].status is ACTIVE]
        self._loss, self._entry = [], []
        self.live = 0
        for order in live:
            self.add(order)

    def triggered(self, low: int, high: int) -> list[Order]:
        """Remove and return, in arrival order, every live stop that trades printed between
        ``low`` and ``high`` trigger (a loss stop at or above ``low``, an entry stop at or
        below ``high``)."""
        fired: list[Order] = []
        loss, entry = self._loss, self._entry
        while loss and -loss[0][0] >= low:
            order = heappop(loss)[2]
            if order.status is ACTIVE:
                fired.append(order)
        while entry and entry[0][0] <= high:
            order = heappop(entry)[2]
            if order.status is ACTIVE:
                fired.append(order)
        self.live -= len(fired)
        fired.sort(key=_number)
        return fired

    def orders(self) -> list[Order]:
        live = (e[2] for e in self._loss + self._entry if e[2].status is ACTIVE)
        return sorted(live, key=_number)


def _number(order: Order) -> int:
    return order.number
