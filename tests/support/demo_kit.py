"""Helpers for the demo tests: product views and a fake venue for the pure traders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandex.core import ProductStatus, Side
from sandex.demo import (
    Cancel,
    DemoConfig,
    Intent,
    OwnOrder,
    Place,
    ProductView,
    demo_config,
)
from sandex.scenario import read
from sandex.server import default_scenario

USD_TICK = 10**6  # 0.01
BTC_TICK = 10**3  # 0.00001
UNIT = 10**8  # 1 (a price or size of one)
MAKER, TAKER = "mm-profile", "taker-profile"


def default_config(**changes: Any) -> DemoConfig:
    """The embedded default scenario's ``[demo]``, with ``changes``."""
    config = read(default_scenario()).demo()
    assert config is not None
    return replace(config, **changes)


def config(*products: dict[str, Any], seed: int = 1) -> DemoConfig:
    """A config from ``[[demo.products]]`` tables (a BTC-USD ladder by default)."""
    tables = list(products) or [{"id": "BTC-USD", "reference_price": "60000", "size": "0.05",
                                 "spacing": "0.0001", "taker_size": "0.02"}]
    parsed = demo_config({"seed": seed, "maker_profile_id": MAKER, "taker_profile_id": TAKER,
                          "products": tables})
    assert parsed is not None
    return parsed


def view(product_id: str = "BTC-USD", orders: tuple[OwnOrder, ...] = (),
         **fields: Any) -> ProductView:
    """A view of a product with no one else in the book (USD-like increments by default)."""
    values: dict[str, Any] = dict(
        product_id=product_id, status=ProductStatus.ONLINE, quote_increment=USD_TICK,
        base_increment=1, min_market_funds=UNIT * 10**8, bid=None, ask=None, others_bid=None,
        others_ask=None, last_price=None, orders=orders)
    values.update(fields)
    return ProductView(**values)


class FakeVenue:
    """The maker's open orders, changed by its own intents only (nobody trades)."""

    def __init__(self) -> None:
        self.orders: dict[str, list[OwnOrder]] = {}
        self._next = 0

    def apply(self, intents: list[Intent]) -> None:
        for intent in intents:
            if isinstance(intent, Cancel):
                book = self.orders[intent.product_id]
                self.orders[intent.product_id] = [o for o in book if o.order_id != intent.order_id]
            else:
                assert isinstance(intent, Place) and intent.price is not None
                self._next += 1
                self.orders.setdefault(intent.product_id, []).append(
                    OwnOrder(f"o{self._next}", intent.side, intent.price, intent.size))

    def own(self, product_id: str) -> tuple[OwnOrder, ...]:
        return tuple(self.orders.get(product_id, ()))

    def ladder(self, product_id: str, side: Side) -> list[int]:
        """The maker's prices on ``side``, best first."""
        prices = sorted(o.price for o in self.own(product_id) if o.side is side)
        return prices[::-1] if side is Side.BUY else prices
