"""What the feed knows: the venue as of the last *durable* command, rebuilt from events.

The engine runs ahead of the disk by up to one group-commit batch, so a snapshot or ticker
read from it could show a command that is not durable yet, and a ``level2`` change computed
from it would not match the event being announced. The feed therefore keeps its own mirror,
changed only by the events the node hands its listeners after each command is durable:

* per product, every resting order (id → side, price, remaining) and the per-price totals,
  from which ``l2update`` sizes and the ``level2`` snapshot are read (equal to REST level 2
  at the same ``sequence``);
* the product's last ``sequence`` and trade (heartbeat, ticker, ``last_match``);
* a copy of the market view's one-minute candles for the ticker's 24-hour figures.

Pure: no clock, no I/O. Built once from the node's state when the feed starts (everything is
durable then), then moved forward only by ``apply_all`` (one command's events at a time: a
replay batch brings thousands, so this is one loop, not a call per event).
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

from sandex.core import (
    Activated,
    Changed,
    CurrencyAdded,
    Done,
    Engine,
    Event,
    Matched,
    Opened,
    Product,
    ProductUpdated,
    Received,
    Side,
    Status,
)
from sandex.core.book import Book
from sandex.views import Candle, MarketView, Trade
from sandex.views.market import MINUTE, add_trade, stats_of

BUY = Side.BUY
OPEN = Status.OPEN
Level = tuple[bool, int]  # (is a bid, price)
MODIFY = "modify_order"  # a ``Changed`` that moves an order (``sandex.core.modify``)
HEAP_SLACK = 64  # a side's price heap is rebuilt past twice its levels plus this many


class MirrorBook:
    """Resting orders and per-price totals of one product (sizes in 1e-8)."""

    __slots__ = ("_ask_heap", "_bid_heap", "asks", "bids", "orders")

    def __init__(self) -> None:
        self.orders: dict[str, list[int]] = {}  # id -> [is_bid, price, remaining]
        self.bids: dict[int, list[int]] = {}  # price -> [size, count]
        self.asks: dict[int, list[int]] = {}
        self._bid_heap: list[int] = []  # negated prices, lazily cleaned
        self._ask_heap: list[int] = []

    @classmethod
    def of(cls, book: Book) -> MirrorBook:
        """The mirror of ``book`` as it stands: its levels' live totals and live orders."""
        mirror = cls()
        orders = mirror.orders
        for is_bid, levels, mirrored in ((True, book.bids, mirror.bids),
                                         (False, book.asks, mirror.asks)):
            for price, level in levels.items():
                if not level.count:  # emptied, not yet pruned
                    continue
                mirrored[price] = [level.size, level.count]
                for order in level.orders:
                    if order.status is OPEN:
                        orders[order.id] = [is_bid, price, order.remaining]  # type: ignore[list-item]
        mirror._bid_heap = [-price for price in mirror.bids]
        mirror._ask_heap = list(mirror.asks)
        heapify(mirror._bid_heap)
        heapify(mirror._ask_heap)
        return mirror

    def open(self, order_id: str, is_bid: bool, price: int, size: int) -> Level:
        self.orders[order_id] = [is_bid, price, size]
        levels = self.bids if is_bid else self.asks
        level = levels.get(price)
        if level is None:
            levels[price] = [size, 1]
            heap = self._bid_heap if is_bid else self._ask_heap
            heappush(heap, -price if is_bid else price)
            if len(heap) > 2 * len(levels) + HEAP_SLACK:  # stale prices no look cleaned
                heap[:] = [-p for p in levels] if is_bid else list(levels)
                heapify(heap)
        else:
            level[0] += size
            level[1] += 1
        return (is_bid, price)

    def reduce(self, order_id: str, by: int) -> Level | None:
        """A resting order lost ``by`` (a fill or an STP decrement); ``None`` if not resting."""
        order = self.orders.get(order_id)
        if order is None:
            return None
        is_bid, price = bool(order[0]), order[1]
        order[2] -= by
        (self.bids if is_bid else self.asks)[price][0] -= by
        return (is_bid, price)

    def remove(self, order_id: str) -> Level | None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        is_bid, price, remaining = bool(order[0]), order[1], order[2]
        levels = self.bids if is_bid else self.asks
        level = levels[price]
        level[0] -= remaining
        level[1] -= 1
        if level[1] == 0:
            del levels[price]
        return (is_bid, price)

    def size_at(self, is_bid: bool, price: int) -> int:
        level = (self.bids if is_bid else self.asks).get(price)
        return 0 if level is None else level[0]

    def best(self, is_bid: bool) -> tuple[int, int] | None:
        """``(price, size)`` of the best bid or ask."""
        heap, levels = (self._bid_heap, self.bids) if is_bid else (self._ask_heap, self.asks)
        while heap:
            price = -heap[0] if is_bid else heap[0]
            level = levels.get(price)
            if level is not None:
                return price, level[0]
            heappop(heap)
        return None

    def sides(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Every level as ``(price, size)``, best first (the ``snapshot``)."""
        return ([(p, self.bids[p][0]) for p in sorted(self.bids, reverse=True)],
                [(p, self.asks[p][0]) for p in sorted(self.asks)])


class ProductState:
    """One product as of the last durable command."""

    __slots__ = ("book", "id", "last_match", "last_trade", "minutes", "sequence", "vacated")

    def __init__(self, product: Product, last_trade: Trade | None,
                 minutes: dict[int, Candle]) -> None:
        self.id = product.id
        self.book = MirrorBook.of(product.book)
        self.sequence = product.sequence
        # the ticker's price, size, time and trade id (a ``Matched`` has the fields of a
        # ``Trade``: the last one is kept as it came)
        self.last_trade: Trade | Matched | None = last_trade
        self.last_match: Matched | None = None  # ``last_match``; unknown before the feed ran
        self.vacated: Level | None = None  # see ``_modify``
        self.minutes = minutes  # durable one-minute candles (the ticker's 24-hour figures)

    @property
    def last_trade_id(self) -> int:
        return self.last_trade.trade_id if self.last_trade is not None else 0

    def apply(self, event: Event) -> Level | None:
        """Move forward by one order event; the price level it changed, if any."""
        kind = type(event)
        sequence = getattr(event, "sequence", None)  # an activation has none
        if sequence is not None:
            self.sequence = sequence
        if kind is Opened:
            e: Opened = event  # type: ignore[assignment]
            return self.book.open(e.order_id, e.side is BUY, e.price, e.remaining_size)
        if kind is Matched:
            m: Matched = event  # type: ignore[assignment]
            self.last_match = self.last_trade = m
            add_trade(self.minutes, m.time, m.price, m.size)
            return self.book.reduce(m.maker_order_id, m.size)
        if kind is Done:
            return self.book.remove(event.order_id)  # type: ignore[attr-defined]
        if kind is Changed:
            c: Changed = event  # type: ignore[assignment]
            if c.reason == MODIFY:
                return self._modify(c)
            if c.old_size is not None and c.new_size is not None:
                return self.book.reduce(c.order_id, c.old_size - c.new_size)
        return None

    def _modify(self, c: Changed) -> Level | None:
        """A modified order moves to its new price and size (``vacated``: the level it left,
        when that is another one); a private one (an untriggered stop) is not on the book.
        A crossing one rests here until its trades and its ``done`` or remainder follow."""
        book = self.book
        old = book.remove(c.order_id)
        if old is None or c.price is None or c.new_size is None:
            return old
        new = book.open(c.order_id, c.side is BUY, c.price, c.new_size)
        if new != old:
            self.vacated = old
        return new

    def take_vacated(self) -> Level | None:
        """The level the last modify moved an order away from (once)."""
        vacated, self.vacated = self.vacated, None
        return vacated


Touched = dict[str, dict[Level, None]]  # product id -> the levels a command changed, in order


class FeedState:
    """Every product's ``ProductState`` (each with its durable candles)."""

    def __init__(self, engine: Engine, market: MarketView) -> None:
        self.engine = engine  # product rules and currencies (changed only by admin commands)
        self.products: dict[str, ProductState] = {}
        for product in engine.products.values():
            self.add_product(product.id, market)
        self._stats: dict[str, tuple[tuple[int, int], tuple[Candle | None, int]]] = {}

    def add_product(self, product_id: str, market: MarketView | None = None
                    ) -> ProductState | None:
        """Start following a product the engine has, with its trades so far in ``market``
        (a product created later starts with none)."""
        state = self.products.get(product_id)
        if state is None and product_id in self.engine.products:
            minutes: dict[int, Candle] = {}
            last_trade = None
            if market is not None and product_id in market.products:
                minutes = {start: Candle(c.start, c.low, c.high, c.open, c.close, c.volume)
                           for start, c in market.products[product_id].minutes.items()}
                last_trade = market.last_trade(product_id)
            state = self.products[product_id] = ProductState(
                self.engine.products[product_id], last_trade, minutes)
        return state

    def apply(self, event: Event) -> Level | None:
        """Move forward by one order event of a followed product (see ``ProductState``)."""
        return self.products[event.product_id].apply(event)  # type: ignore[attr-defined]

    def apply_all(self, events: list[Event], touched: Touched | None
                  ) -> tuple[dict[str, Matched], int, bool]:
        """Move forward by one command's events: order events of followed products (the
        same as ``apply`` event by event, in one loop), and a new product is followed.
        Each level changed is added to ``touched`` (unless ``None``: no one watches level 2).
        Returns each product's last trade, the last order event's time, and whether a
        product or a currency changed (the ``status`` channel's news)."""
        products = self.products
        matched: dict[str, Matched] = {}
        time = 0
        status = False
        state: ProductState | None = None
        level: Level | None
        for event in events:
            kind = type(event)
            if kind is Opened:
                e: Opened = event  # type: ignore[assignment]
                if state is None or state.id != e.product_id:
                    state = products[e.product_id]
                state.sequence, time = e.sequence, e.time
                level = state.book.open(e.order_id, e.side is BUY, e.price, e.remaining_size)
            elif kind is Received:
                r: Received = event  # type: ignore[assignment]
                if state is None or state.id != r.product_id:
                    state = products[r.product_id]
                state.sequence, time = r.sequence, r.time
                continue
            elif kind is Done:
                d: Done = event  # type: ignore[assignment]
                if state is None or state.id != d.product_id:
                    state = products[d.product_id]
                if d.sequence is not None:
                    state.sequence = d.sequence
                time = d.time
                level = state.book.remove(d.order_id)
            elif kind is Matched:
                m: Matched = event  # type: ignore[assignment]
                if state is None or state.id != m.product_id:
                    state = products[m.product_id]
                state.sequence, time = m.sequence, m.time
                state.last_match = state.last_trade = matched[m.product_id] = m
                add_trade(state.minutes, time, m.price, m.size)
                level = state.book.reduce(m.maker_order_id, m.size)
            elif kind is Changed or kind is Activated:
                if state is None or state.id != event.product_id:  # type: ignore[attr-defined]
                    state = products[event.product_id]  # type: ignore[attr-defined]
                time = event.time  # type: ignore[attr-defined]
                level = state.apply(event)
                if level is not None:
                    vacated = state.take_vacated()  # a modify may also empty the level it left
                    if touched is not None:
                        levels = touched.setdefault(state.id, {})
                        levels[level] = None
                        if vacated is not None:
                            levels[vacated] = None
                continue
            else:
                if kind is ProductUpdated:
                    self.add_product(event.product_id)  # type: ignore[attr-defined]
                    status = True
                elif kind is CurrencyAdded:
                    status = True
                continue
            if level is not None and touched is not None:
                found = touched.get(state.id)
                if found is None:
                    found = touched[state.id] = {}
                found[level] = None
        return matched, time, status

    def stats(self, product_id: str, now: int) -> tuple[Candle | None, int]:
        """``MarketView.stats`` over durable trades, cached until a trade or a new minute
        (the 24-hour and 30-day windows move by whole minutes)."""
        state = self.products[product_id]
        key = (state.last_trade_id, now // MINUTE)
        cached = self._stats.get(product_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        value = stats_of(state.minutes, now)
        self._stats[product_id] = (key, value)
        return value
