"""Each profile's fills (§6.1): one per side of every match, newest last (none for the replay
profile: no one can ask for them, and a long recording would fill memory)."""

from __future__ import annotations

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


class FillsView:
    """Fills indexed by order and by (profile, product), each list in trade order."""

    def __init__(self) -> None:
        self.by_order: dict[str, list[Fill]] = {}
        self.by_product: dict[tuple[str, str], list[Fill]] = {}

    def on_match(self, m: Matched) -> None:
        if m.maker_profile_id == m.taker_profile_id == REPLAY_PROFILE_ID:
            return  # a replayed trade: both sides are the replay's (no one reads them)
        taker_side = Side.SELL if m.side is Side.BUY else Side.BUY
        self._add(Fill(m.trade_id, m.product_id, m.maker_order_id, m.maker_profile_id, "M",
                       m.price, m.size, m.maker_fee, m.side, m.time))
        self._add(Fill(m.trade_id, m.product_id, m.taker_order_id, m.taker_profile_id, "T",
                       m.price, m.size, m.taker_fee, taker_side, m.time))

    def _add(self, fill: Fill) -> None:
        if fill.profile_id == REPLAY_PROFILE_ID:
            return
        self.by_order.setdefault(fill.order_id, []).append(fill)
        self.by_product.setdefault((fill.profile_id, fill.product_id), []).append(fill)

    def for_order(self, order_id: str) -> list[Fill]:
        return self.by_order.get(order_id, [])

    def for_product(self, profile_id: str, product_id: str) -> list[Fill]:
        return self.by_product.get((profile_id, product_id), [])
