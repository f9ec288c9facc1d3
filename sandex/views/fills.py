"""Each profile's fills (§6.1): one per side of every match, newest last (none for the replay
profile: no one can ask for them, and a long recording would fill memory)."""

from __future__ import annotations

import cython
import msgspec

from sandex.core import REPLAY_PROFILE_ID, Matched, Side
from sandex.views.history import history


class Fill(msgspec.Struct, frozen=True, gc=False):
    trade_id: int
    product_id: str
    order_id: str
    profile_id: str
    liquidity: str  # "M" maker, "T" taker
    price: int
    size: int
    fee: int
    side: Side  # this profile's order side
    created_at: int


BUY, SELL = Side.BUY, Side.SELL


@cython.cclass
class FillsView:
    """Fills indexed by order and by (profile, product), each list in trade order.

    ``by_order`` holds an order's first fill, ``more`` the whole list of an order filled more
    than once (``for_order`` reads both). A ``Fill`` is not tracked by the cyclic garbage
    collector, so ``by_order``, holding only fills, is not either: a full collection walks
    nothing an order (a list an order, or a dict holding lists, was walked element by element).
    The lists are ``history`` lists, which a compiled build keeps out of the collector's walk."""

    def __init__(self) -> None:
        self.by_order: dict[str, Fill] = {}
        self.more: dict[str, list[Fill]] = {}
        self.by_product: dict[tuple[str, str], list[Fill]] = {}

    def on_match(self, m: Matched) -> None:
        """Both sides' fills (``_add`` of each, inline: a replay runs this per trade)."""
        if m.maker_profile_id == m.taker_profile_id == REPLAY_PROFILE_ID:
            return  # a replayed trade: both sides are the replay's (no one reads them)
        side, product_id = m.side, m.product_id
        by_order, more, by_product = self.by_order, self.more, self.by_product
        for fill in (
                Fill(m.trade_id, product_id, m.maker_order_id, m.maker_profile_id, "M",
                     m.price, m.size, m.maker_fee, side, m.time),
                Fill(m.trade_id, product_id, m.taker_order_id, m.taker_profile_id, "T",
                     m.price, m.size, m.taker_fee, SELL if side is BUY else BUY, m.time)):
            profile_id = fill.profile_id
            if profile_id == REPLAY_PROFILE_ID:
                continue
            order_id = fill.order_id
            first = by_order.get(order_id)
            if first is None:
                by_order[order_id] = fill
            else:
                orders = more.get(order_id)
                if orders is None:
                    more[order_id] = history([first, fill])
                else:
                    orders.append(fill)
            key = (profile_id, product_id)
            fills = by_product.get(key)
            if fills is None:
                by_product[key] = history([fill])
            else:
                fills.append(fill)

    def _add(self, fill: Fill) -> None:
        if fill.profile_id == REPLAY_PROFILE_ID:
            return
        order_id = fill.order_id
        first = self.by_order.get(order_id)
        if first is None:
            self.by_order[order_id] = fill
        elif (orders := self.more.get(order_id)) is None:
            self.more[order_id] = history([first, fill])
        else:
            orders.append(fill)
        key = (fill.profile_id, fill.product_id)
        fills = self.by_product.get(key)
        if fills is None:
            self.by_product[key] = history([fill])
        else:
            fills.append(fill)

    def for_order(self, order_id: str) -> list[Fill]:
        """The order's fills in trade order (a new list for an order filled once)."""
        orders = self.more.get(order_id)
        if orders is not None:
            return orders
        first = self.by_order.get(order_id)
        return [] if first is None else [first]

    def for_product(self, profile_id: str, product_id: str) -> list[Fill]:
        return self.by_product.get((profile_id, product_id), [])
