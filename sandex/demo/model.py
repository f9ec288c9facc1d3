"""What the demo traders see and what they decide: plain, immutable data.

An ``Observation`` is a snapshot of the market as the maker sees it (the runner builds it
from the engine); ``Place`` and ``Cancel`` are intents, with no time, ids or profile: turning
them into stamped commands is the runner's job. Prices and sizes are ints in 1e-8
(``sandex.units``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from sandex.core import ProductStatus, Side, TimeInForce


class OwnOrder(NamedTuple):
    """One of the maker's resting orders (a tuple: a tick builds one for each)."""

    order_id: str
    side: Side
    price: int
    remaining: int


@dataclass(frozen=True, slots=True)
class ProductView:
    """One product as the demo traders see it.

    ``bid``/``ask`` are the book's best prices; ``others_bid``/``others_ask`` the best prices
    of everyone but the maker (what a new maker quote must not cross). ``orders`` are the
    maker's own open orders in the product, oldest first.
    """

    product_id: str
    status: ProductStatus
    quote_increment: int
    base_increment: int
    min_market_funds: int  # amount units (1e-16)
    bid: int | None
    ask: int | None
    others_bid: int | None
    others_ask: int | None
    last_price: int | None
    orders: tuple[OwnOrder, ...] = ()


Observation = Mapping[str, ProductView]
"""Product id -> its view; products the venue does not have are simply absent."""


@dataclass(frozen=True, slots=True)
class Place:
    """Place an order: a limit order when ``price`` is set, a market order otherwise."""

    product_id: str
    side: Side
    size: int
    price: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel one of the trader's own orders."""

    product_id: str
    order_id: str


Intent = Place | Cancel
