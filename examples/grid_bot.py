"""A small grid bot: a ladder of GTT limit orders around the mid, quoted again once they are
gone. The code under test in docs/testing.md; it knows nothing of sandex, only ccxt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class GridBot:
    """``levels`` buys below and sells above the mid, ``step`` apart, each ``size`` and
    good for an hour (Coinbase's ``GTT`` with ``cancel_after = hour``)."""

    def __init__(self, exchange: Any, symbol: str = "BTC/USD", levels: int = 3,
                 step: Decimal = Decimal("100"), size: Decimal = Decimal("0.01"),
                 fallback_mid: Decimal = Decimal("60000")) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.levels = levels
        self.step = step
        self.size = size
        self.fallback_mid = fallback_mid  # when the book is empty

    def mid(self) -> Decimal:
        book = self.exchange.fetch_order_book(self.symbol)
        if not book["bids"] or not book["asks"]:
            return self.fallback_mid
        return (Decimal(str(book["bids"][0][0])) + Decimal(str(book["asks"][0][0]))) / 2

    def quote(self, mid: Decimal) -> list[dict[str, Any]]:
        """Place the ladder around ``mid``; returns the orders as placed."""
        orders = []
        for level in range(1, self.levels + 1):
            offset = level * self.step
            for side, price in (("buy", mid - offset), ("sell", mid + offset)):
                orders.append(self.exchange.create_order(
                    self.symbol, "limit", side, float(self.size), float(price),
                    {"time_in_force": "GTT", "cancel_after": "hour"}))
        return orders

    def step_once(self) -> list[dict[str, Any]]:
        """One turn of the bot's loop: quote a new ladder if none of its orders is left."""
        if self.exchange.fetch_open_orders(self.symbol):
            return []
        return self.quote(self.mid())
