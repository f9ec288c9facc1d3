"""From source events to the replay's journaled actions: symbols mapped to venue products,
prices and sizes rescaled and floored to the product's increments, dust dropped.

A ``Mapper`` is made for one load; ``actions(event)`` gives the actions of one source event
(none for what only counts, like ``open`` and ``match``, or for dust) and says whether the
event was a recorded trade. Several source levels can land on one venue price (a rescale, a
coarser increment): a level's venue size is the sum of the source levels on it, so level-2
updates stay absolute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandex.core import (
    Product,
    ReplayAction,
    ReplayAdd,
    ReplayBook,
    ReplayCancel,
    ReplayLevel,
    ReplayMarket,
    ReplayReduce,
    ReplayTake,
    Side,
)
from sandex.replay.events import (
    Change,
    Done,
    Level,
    Match,
    Open,
    Received,
    Snapshot,
    SourceEvent,
    Trade,
)
from sandex.units import PRICE_DECIMALS, SIZE_TO_AMOUNT

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_NOTHING: tuple[ReplayAction, ...] = ()
_ONE = Decimal(1)
Result = tuple[tuple[ReplayAction, ...], bool]  # the actions, and "a recorded trade"


class MappingError(ValueError):
    """An event the venue cannot take (an unknown product, a bad side); the text says why."""


@dataclass(frozen=True)
class Scale:
    """How a source symbol lands on a venue product."""

    product: str
    price_scale: Decimal = Decimal(1)
    size_scale: Decimal = Decimal(1)


@dataclass
class Mapper:
    products: Mapping[str, Product]  # the venue's products (read at each event)
    symbols: dict[str, Scale] | None  # source symbol -> venue product and scales; ``None``:
    # every symbol is the venue product of that name (one the venue lacks is an error)
    _levels: dict[tuple[str, Side, int], dict[Decimal, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._scales: dict[str, Scale] = {}  # identity mapping: one Scale per symbol
        self._handlers: dict[type, Any] = {
            Level: self._level, Received: self._received, Done: self._done,
            Match: self._match, Trade: self._trade, Change: self._change,
            Snapshot: self._snapshot, Open: self._open}

    def actions(self, event: SourceEvent) -> tuple[tuple[ReplayAction, ...], bool]:
        """The actions for ``event`` and whether it was a recorded trade."""
        symbols = self.symbols
        if symbols is None:
            scale = self._scales.get(event.product)
            if scale is None:
                scale = self._scales[event.product] = Scale(event.product)
        else:
            found = symbols.get(event.product)
            if found is None:
                return _NOTHING, False  # a symbol the mapping leaves out
            scale = found
        product = self.products.get(scale.product)
        if product is None:
            raise MappingError(f"product {scale.product} does not exist on this venue: create "
                               f"it (create_products_from) or map it (--product SRC=DST)")
        handler = self._handlers.get(type(event))
        if handler is None:
            raise MappingError(f"unknown event {type(event).__name__}")
        result: tuple[tuple[ReplayAction, ...], bool] = handler(product, scale, event)
        return result

    def _done(self, product: Product, scale: Scale, event: Done) -> Result:
        return (ReplayCancel(product_id=product.id, order_id=event.order_id,
                             filled=event.reason == "filled"),), False

    def _match(self, product: Product, scale: Scale, event: Match) -> Result:
        return _NOTHING, True

    def _open(self, product: Product, scale: Scale, event: Open) -> Result:
        return _NOTHING, False

    def _trade(self, product: Product, scale: Scale, event: Trade) -> Result:
        price = _price(product, scale, event.price)
        size = _size(product, scale, event.size)
        if not price or not size:
            return _NOTHING, True
        return (ReplayTake(product_id=product.id, side=_side(event.side), price=price,
                           size=size),), True

    def _received(self, product: Product, scale: Scale, event: Received) -> Result:
        side = _side(event.side)
        if event.order_type == "limit":
            if event.price is None or event.size is None:
                raise MappingError("a limit order without a price or a size")
            price = _price(product, scale, event.price)
            size = _size(product, scale, event.size)
            if not price or not size:
                return _NOTHING, False  # dust once rescaled
            return (ReplayAdd(product_id=product.id, order_id=event.order_id, side=side,
                              price=price, size=size),), False
        if event.order_type != "market":
            raise MappingError(f"unknown order_type {event.order_type!r}")
        market_size = None if event.size is None else _size(product, scale, event.size)
        funds = None if event.funds is None else _funds(product, scale, event.funds)
        if not market_size and not funds:
            return _NOTHING, False
        return (ReplayMarket(product_id=product.id, order_id=event.order_id, side=side,
                             size=market_size or None, funds=funds or None),), False

    def _change(self, product: Product, scale: Scale, event: Change) -> Result:
        if event.new_size is None or event.old_size is None:
            return _NOTHING, False  # a market order's funds: nothing rests
        decrease = (_size(product, scale, event.old_size)
                    - _size(product, scale, event.new_size))
        if decrease <= 0:
            return _NOTHING, False  # a size going up loses its place on Coinbase: not replayed
        return (ReplayReduce(product_id=product.id, order_id=event.order_id,
                             size=decrease),), False

    def _level(self, product: Product, scale: Scale, event: Level) -> Result:
        side = _side(event.side)
        price = _price(product, scale, event.price)
        if not price:
            return _NOTHING, False
        key = (product.id, side, price)
        sources = self._levels.get(key)
        if sources is None:
            sources = self._levels[key] = {}
        size = _size(product, scale, event.size)
        if size:
            sources[event.price] = size
        else:
            sources.pop(event.price, None)
        total = sum(sources.values())
        if not sources:
            del self._levels[key]
        return (ReplayLevel(product_id=product.id, side=side, price=price, size=total),), False

    def _snapshot(self, product: Product, scale: Scale, event: Snapshot) -> Result:
        for key in [k for k in self._levels if k[0] == product.id]:
            del self._levels[key]
        sides: list[tuple[tuple[int, int], ...]] = []
        for side, pairs in ((Side.BUY, event.bids), (Side.SELL, event.asks)):
            totals: dict[int, int] = {}
            for source_price, source_size in pairs:
                price = _price(product, scale, source_price)
                size = _size(product, scale, source_size)
                if price and size:
                    totals[price] = totals.get(price, 0) + size
                    self._levels.setdefault((product.id, side, price), {})[source_price] = size
            sides.append(tuple(totals.items()))
        return (ReplayBook(product_id=product.id, bids=sides[0], asks=sides[1]),), False


def _side(text: str) -> Side:
    side = _SIDES.get(text)
    if side is None:
        raise MappingError(f"side {text!r} is neither buy nor sell")
    return side


def _floor(value: Decimal, increment: int) -> int:
    units = int(value.scaleb(PRICE_DECIMALS))
    return units - units % increment


def _price(product: Product, scale: Scale, price: Decimal) -> int:
    factor = scale.price_scale
    return _floor(price if factor == _ONE else price * factor, product.quote_increment)


def _size(product: Product, scale: Scale, size: Decimal) -> int:
    factor = scale.size_scale
    return _floor(size if factor == _ONE else size * factor, product.base_increment)


def _funds(product: Product, scale: Scale, funds: Decimal) -> int:
    """Funds in amount units (1e-16), floored to the quote increment."""
    units = _floor(funds * scale.price_scale * scale.size_scale, product.quote_increment)
    return units * SIZE_TO_AMOUNT
