"""The demo taker: now and then a small market or marketable limit order, seeded.

It draws the same four numbers per product every tick whatever it then does, so its stream
of random numbers never depends on the market, and its orders are a pure function of its
seed and the observations. It only takes what is there: no order on a side with nothing to
take, and a marketable limit order is immediate-or-cancel at the opposite best price.
"""

from __future__ import annotations

import random

from sandex.core import ProductStatus, Side, TimeInForce
from sandex.demo.config import FRACTION_SCALE, DemoConfig
from sandex.demo.model import Observation, Place

BUY, SELL = Side.BUY, Side.SELL
ONLINE, LIMIT_ONLY = ProductStatus.ONLINE, ProductStatus.LIMIT_ONLY
SIZE_PERCENT_MIN = 25  # a taker order is 25-100 % of taker_size: varied, never dust


class Taker:
    """Light, random taker flow on every configured product."""

    def __init__(self, config: DemoConfig) -> None:
        self._config = config
        self._random = random.Random(f"sandex-demo-taker/{config.seed}")

    def decide(self, observation: Observation) -> list[Place]:
        """This tick's taker orders (at most one per product)."""
        orders: list[Place] = []
        draw = self._random.randrange
        for product in self._config.products:
            roll, buy = draw(FRACTION_SCALE), draw(2) == 1
            percent, market = draw(SIZE_PERCENT_MIN, 101), draw(2) == 1
            view = observation.get(product.product_id)
            if view is None or roll >= product.taker_chance or view.status not in (ONLINE,
                                                                                   LIMIT_ONLY):
                continue
            side = BUY if buy else SELL
            size = product.taker_size * percent // 100
            size -= size % view.base_increment
            touch = view.ask if buy else view.bid
            if size <= 0 or touch is None:
                continue
            if market and view.status is ONLINE:
                orders.append(Place(view.product_id, side, size))
            elif size * touch >= view.min_market_funds:
                orders.append(Place(view.product_id, side, size, touch, TimeInForce.IOC))
        return orders
