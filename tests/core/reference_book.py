"""A deliberately naive order book: the reference the engine's book is checked against.

Limit orders only (GTC, IOC, FOK, post-only), one product, no fees, no holds, no
self-trade prevention (the differential test gives every order its own profile). Two plain
lists kept in priority order by linear insertion, matching by linear scan from the front:
slow, obviously correct, and sharing no code with ``sandex.core``.
"""

from __future__ import annotations

from dataclasses import dataclass

BUY, SELL = "buy", "sell"

Fill = tuple[str, str, int, int]  # (maker_id, taker_id, price, size)


@dataclass
class NaiveOrder:
    id: str
    side: str
    price: int
    remaining: int
    arrival: int
    filled: int = 0


@dataclass
class Outcome:
    """What placing one order did: fills in order, and which orders finished and how."""

    fills: list[Fill]
    done: list[tuple[str, str]]  # (order_id, "filled" | "canceled") in event order
    rested: bool = False
    rejected: bool = False  # post-only order that would cross


class NaiveBook:
    def __init__(self) -> None:
        self.bids: list[NaiveOrder] = []  # best first: price high to low, then arrival
        self.asks: list[NaiveOrder] = []  # best first: price low to high, then arrival
        self.arrivals = 0
        self.done_with_fills: set[str] = set()  # done orders that keep a record (had fills)
        self.seen: set[str] = set()

    # -- queries -------------------------------------------------------------------------------
    @staticmethod
    def _crosses(taker_side: str, limit: int, maker_price: int) -> bool:
        return maker_price <= limit if taker_side == BUY else maker_price >= limit

    def _opposite(self, side: str) -> list[NaiveOrder]:
        return self.asks if side == BUY else self.bids

    def level3(self) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        return ([(o.price, o.remaining, o.id) for o in self.bids],
                [(o.price, o.remaining, o.id) for o in self.asks])

    def resting(self, order_id: str) -> NaiveOrder | None:
        for order in self.bids + self.asks:
            if order.id == order_id:
                return order
        return None

    # -- commands ------------------------------------------------------------------------------
    def place(self, order_id: str, side: str, price: int, size: int, tif: str = "GTC",
              post_only: bool = False) -> Outcome:
        assert order_id not in self.seen, "order ids are unique"
        self.seen.add(order_id)
        opposite = self._opposite(side)
        if post_only and opposite and self._crosses(side, price, opposite[0].price):
            return Outcome([], [], rejected=True)
        taker = NaiveOrder(order_id, side, price, size, self.arrivals)
        self.arrivals += 1
        outcome = Outcome([], [])
        if tif == "FOK":
            available = sum(o.remaining for o in opposite if self._crosses(side, price, o.price))
            if available < size:
                outcome.done.append((order_id, "canceled"))
                return outcome
        while taker.remaining and opposite and self._crosses(side, price, opposite[0].price):
            maker = opposite[0]
            traded = min(maker.remaining, taker.remaining)
            maker.remaining -= traded
            taker.remaining -= traded
            maker.filled += traded
            taker.filled += traded
            outcome.fills.append((maker.id, taker.id, maker.price, traded))
            if maker.remaining == 0:
                opposite.pop(0)
                self.done_with_fills.add(maker.id)
                outcome.done.append((maker.id, "filled"))
        if taker.remaining == 0:
            self.done_with_fills.add(taker.id)
            outcome.done.append((taker.id, "filled"))
        elif tif in ("GTC", "GTT"):
            self._insert(taker)
            outcome.rested = True
        else:
            if taker.filled:
                self.done_with_fills.add(taker.id)
            outcome.done.append((taker.id, "canceled"))
        return outcome

    def _insert(self, order: NaiveOrder) -> None:
        if order.side == BUY:
            book = self.bids
            index = 0
            while index < len(book) and book[index].price >= order.price:
                index += 1
        else:
            book = self.asks
            index = 0
            while index < len(book) and book[index].price <= order.price:
                index += 1
        book.insert(index, order)

    def cancel(self, order_id: str) -> str:
        """``"canceled"``, ``"already_done"`` (done with fills) or ``"not_found"``."""
        for book in (self.bids, self.asks):
            for index, order in enumerate(book):
                if order.id == order_id:
                    del book[index]
                    if order.filled:
                        self.done_with_fills.add(order.id)
                    return "canceled"
        return "already_done" if order_id in self.done_with_fills else "not_found"
