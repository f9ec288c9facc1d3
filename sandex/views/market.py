"""Public market data per product: trades, one-minute candles, 24-hour stats (§6.4-§6.7).

Candles are kept per minute as trades arrive; coarser granularities are merged from minutes
on request, so every granularity agrees with the same trades.
"""

from __future__ import annotations

import cython
import msgspec

from sandex.core import Matched, Side
from sandex.views.history import history

if cython.compiled:  # a candle's fields read and written by their slots (market.pxd)
    from cython.cimports.sandex.core.slots import field, new, offset, put
from sandex.core.emit import slot_layout

MINUTE = 60_000_000  # microseconds
DAY = 24 * 60 * MINUTE


class Trade(msgspec.Struct, frozen=True, gc=False):
    trade_id: int
    time: int
    price: int
    size: int
    side: Side  # the maker's side (§6.5)


class Candle(msgspec.Struct, gc=False):
    start: int  # microseconds, bucket start
    low: int
    high: int
    open: int
    close: int
    volume: int  # base size, 1e-8


TRADES_KEPT = 50_000
"""The trades ``GET /products/{id}/trades`` can page back through, per product: the newest
50,000 to 100,000 (trimmed in one step when twice over), so a venue that trades for days (a
replay at full speed) keeps flat memory. Candles and 24-hour stats keep every minute."""
_MINUTE_US = MINUTE  # compiled: a C integer (market.pxd)
if cython.compiled:  # where a candle's fields are stored
    _LOW, _HIGH, _CLOSE, _VOLUME = (
        offset(Candle, "low"), offset(Candle, "high"), offset(Candle, "close"),
        offset(Candle, "volume"))


# compiled: where a ``Trade``'s fields are stored, in their order (C integers, market.pxd)
_TRADE, TRADES_BUILT_BY_SLOTS = slot_layout(Trade)
_BY_SLOTS = TRADES_BUILT_BY_SLOTS  # compiled: a C flag (market.pxd)
_TRADE_TYPE = Trade  # compiled: a C global (market.pxd): no module dict lookup a trade


@cython.cclass
class ProductMarket:
    """One product's trades and one-minute candles (compiled: a C struct, ``market.pxd``)."""

    if not cython.compiled:
        __slots__ = ("minutes", "trades")

    def __init__(self) -> None:
        self.trades: list[Trade] = history([])
        self.minutes: dict[int, Candle] = {}  # minute start -> candle, in time order
        if cython.compiled:  # the last trade's minute's candle, and ``minutes``' version
            self._minute, self._candle, self._version = 0, None, 0


@cython.cclass
class MarketView:
    def __init__(self) -> None:
        self.products: dict[str, ProductMarket] = {}

    def product(self, product_id: str) -> ProductMarket:
        market = self.products.get(product_id)
        if market is None:
            market = self.products[product_id] = ProductMarket()
        return market

    def on_match(self, m: Matched) -> None:
        """The trade ``m`` (``on_trade`` of its fields)."""
        self.on_trade(m.product_id, m.trade_id, m.time, m.price, m.size, m.side)

    def on_trade(self, product_id: str, trade_id: int, time: int, price: int, size: int,
                 side: Side) -> None:
        """A trade, from its ``Matched``'s fields (a replay runs this per trade:
        ``sandex.node.applying`` passes the fields it read once from the event's slots)."""
        if cython.compiled:  # the last trade's product's, ``products`` unchanged since
            products = self.products
            if (product_id is self._kept_id and self._kept_version != 0
                    and version(products) == self._kept_version):  # noqa: F821
                market = self._kept
            else:
                market = products.get(product_id)
                if market is None:
                    market = products[product_id] = ProductMarket()
                self._kept_id, self._kept = product_id, market
                self._kept_version = version(products)  # noqa: F821 (market.pxd)
        else:
            market = self.products.get(product_id)
            if market is None:
                market = self.products[product_id] = ProductMarket()
        trades = market.trades
        if cython.compiled and _BY_SLOTS:  # built as ``emit`` builds the core's events
            trade = new(_TRADE_TYPE)
            put(trade, _TRADE[0], trade_id)
            put(trade, _TRADE[1], time)
            put(trade, _TRADE[2], price)
            put(trade, _TRADE[3], size)
            put(trade, _TRADE[4], side)
            trades.append(trade)
        else:
            trades.append(Trade(trade_id, time, price, size, side))
        kept = TRADES_KEPT  # compiled: a C integer (market.pxd), read where tests set it
        if len(trades) > 2 * kept:
            del trades[:-kept]
        if cython.compiled:
            # the last trade's minute again, ``minutes`` unchanged since (its version): its
            # candle without a probe by a new int (most trades: a minute holds many)
            at = time
            minute = at - at % _MINUTE_US  # Python's modulo (floor), as ``add_trade``
            if (minute == market._minute and market._version != 0
                    and version(market.minutes) == market._version):  # noqa: F821
                _count(market._candle, price, size)
            else:
                market._candle = add_trade(market.minutes, time, price, size)
                market._minute = minute
                market._version = version(market.minutes)  # noqa: F821 (market.pxd)
        else:
            add_trade(market.minutes, time, price, size)

    def last_trade(self, product_id: str) -> Trade | None:
        trades = self.product(product_id).trades
        return trades[-1] if trades else None

    def candles(self, product_id: str, granularity_s: int, start: int, end: int) -> list[Candle]:
        """Candles of ``granularity_s`` seconds with start in ``[start, end]``, newest first."""
        size = granularity_s * 1_000_000
        merged: dict[int, Candle] = {}
        for minute, c in self.product(product_id).minutes.items():
            if minute < start - start % size or minute > end:
                continue
            bucket = minute - minute % size
            into = merged.get(bucket)
            if into is None:
                merged[bucket] = Candle(bucket, c.low, c.high, c.open, c.close, c.volume)
            else:
                into.low, into.high = min(into.low, c.low), max(into.high, c.high)
                into.close = c.close
                into.volume += c.volume
        return [merged[b] for b in sorted(merged, reverse=True)]

    def stats(self, product_id: str, now: int) -> tuple[Candle | None, int]:
        """The last 24 hours merged into one candle, and the last 30 days' volume."""
        return stats_of(self.product(product_id).minutes, now)


def add_trade(minutes: dict[int, Candle], time: int, price: int, size: int) -> Candle:
    """Count a trade in its minute's candle (``minutes``: one product's, in time order);
    that candle."""
    if cython.compiled:  # the minute in C integers, the candle's fields by their slots
        at = time
        minute = at - at % _MINUTE_US  # Python's modulo (floor), as below
        candle = minutes.get(minute)
        if candle is None:
            candle = minutes[minute] = Candle(minute, price, price, price, price, size)
            return candle
        _count(candle, price, size)
        return candle
    start = time - time % MINUTE
    candle = minutes.get(start)
    if candle is None:
        candle = minutes[start] = Candle(start, price, price, price, price, size)
        return candle
    if price < candle.low:
        candle.low = price
    elif price > candle.high:
        candle.high = price
    candle.close = price
    candle.volume += size
    return candle


def _count(candle: Candle, price: int, size: int) -> None:
    """Compiled: a trade of ``price`` and ``size`` counted in ``candle`` (its minute's: its
    fields by their slots); uncompiled, not called (``add_trade`` writes them)."""
    if cython.compiled:  # the compares from the ints' digits, the volume added in place
        # (``compare``, ``add_in_place``: market.pxd), else as objects
        rank = compare(price, field(candle, _LOW))  # noqa: F821 (market.pxd)
        if rank == 2:
            rank = -1 if price < field(candle, _LOW) else 0
        if rank < 0:
            store(candle, _LOW, price)  # noqa: F821 (market.pxd)
        else:
            rank = compare(price, field(candle, _HIGH))  # noqa: F821
            if rank == 2:
                rank = 1 if price > field(candle, _HIGH) else 0
            if rank > 0:
                store(candle, _HIGH, price)  # noqa: F821
        store(candle, _CLOSE, price)  # noqa: F821
        if not add_in_place(candle, _VOLUME, size):  # noqa: F821
            store(candle, _VOLUME, field(candle, _VOLUME) + size)  # noqa: F821


def stats_of(minutes: dict[int, Candle], now: int) -> tuple[Candle | None, int]:
    """The last 24 hours of ``minutes`` merged into one candle, and the last 30 days' volume."""
    day: Candle | None = None
    month_volume = 0
    for minute, c in minutes.items():
        if minute > now - 30 * DAY:
            month_volume += c.volume
        if minute <= now - DAY:
            continue
        if day is None:
            day = Candle(minute, c.low, c.high, c.open, c.close, c.volume)
        else:
            day.low, day.high = min(day.low, c.low), max(day.high, c.high)
            day.close = c.close
            day.volume += c.volume
    return day, month_volume
