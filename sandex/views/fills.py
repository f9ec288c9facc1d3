"""Each profile's fills (§6.1): one per side of every match, newest last (none for the replay
profile: no one can ask for them, and a long recording would fill memory)."""

from __future__ import annotations

import cython
import msgspec

from sandex.core import REPLAY_PROFILE_ID, Matched, Side


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

    ``by_order`` holds an order's one fill as itself and only a second one makes a list
    (``for_order`` reads both): most orders fill once, and a list an order is an object the
    cyclic garbage collector tracks, so a full collection walked one per order of history
    (about 60 % of its time in a heap of single-fill orders; ``Fill`` itself is untracked)."""

    def __init__(self) -> None:
        self.by_order: dict[str, Fill | list[Fill]] = {}
        self.by_product: dict[tuple[str, str], list[Fill]] = {}

    def on_match(self, m: Matched) -> None:
        """Both sides' fills (``_add`` of each, inline: a replay runs this per trade)."""
        if m.maker_profile_id == m.taker_profile_id == REPLAY_PROFILE_ID:
            return  # a replayed trade: both sides are the replay's (no one reads them)
        side, product_id = m.side, m.product_id
        by_order, by_product = self.by_order, self.by_product
        for fill in (
                Fill(m.trade_id, product_id, m.maker_order_id, m.maker_profile_id, "M",
                     m.price, m.size, m.maker_fee, side, m.time),
                Fill(m.trade_id, product_id, m.taker_order_id, m.taker_profile_id, "T",
                     m.price, m.size, m.taker_fee, SELL if side is BUY else BUY, m.time)):
            profile_id = fill.profile_id
            if profile_id == REPLAY_PROFILE_ID:
                continue
            order_id = fill.order_id
            orders = by_order.get(order_id)
            if orders is None:
                by_order[order_id] = fill
            elif isinstance(orders, list):
                orders.append(fill)
            else:
                by_order[order_id] = [orders, fill]
            key = (profile_id, product_id)
            fills = by_product.get(key)
            if fills is None:
                by_product[key] = [fill]
            else:
                fills.append(fill)

    def _add(self, fill: Fill) -> None:
        if fill.profile_id == REPLAY_PROFILE_ID:
            return
        orders = self.by_order.get(fill.order_id)
        if orders is None:
            self.by_order[fill.order_id] = fill
        elif isinstance(orders, list):
            orders.append(fill)
        else:
            self.by_order[fill.order_id] = [orders, fill]
        self.by_product.setdefault((fill.profile_id, fill.product_id), []).append(fill)

    def for_order(self, order_id: str) -> list[Fill]:
        """The order's fills in trade order (a new list for an order filled once)."""
        orders = self.by_order.get(order_id)
        if orders is None:
            return []
        return orders if isinstance(orders, list) else [orders]

    def for_product(self, profile_id: str, product_id: str) -> list[Fill]:
        return self.by_product.get((profile_id, product_id), [])
