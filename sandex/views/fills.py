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


BUY, SELL = Side.BUY, Side.SELL


class FillsView:
    """Fills indexed by order and by (profile, product), each list in trade order.

    A trade becomes its two fills when fills are next read, not when it happens (as the
    ledger's entries do, ``sandex.views.ledger``): ``on_match`` only notes it, and every read
    (``by_order``, ``by_product``, ``for_order``, ``for_product``) first turns the trades
    noted since the last read into fills, in trade order. So a replay of the journal builds
    no fill until one is read, and the fills read exactly as if each had been built at its
    trade."""

    __slots__ = ("_by_order", "_by_product", "_pending")

    def __init__(self) -> None:
        self._by_order: dict[str, list[Fill]] = {}
        self._by_product: dict[tuple[str, str], list[Fill]] = {}
        self._pending: list[Matched] = []  # trades not turned into fills yet, in trade order

    @property
    def by_order(self) -> dict[str, list[Fill]]:
        if self._pending:
            self._settle()
        return self._by_order

    @property
    def by_product(self) -> dict[tuple[str, str], list[Fill]]:
        if self._pending:
            self._settle()
        return self._by_product

    def on_match(self, m: Matched) -> None:
        """A trade: noted, its fills built at the next read."""
        if m.maker_profile_id == m.taker_profile_id == REPLAY_PROFILE_ID:
            return  # a replayed trade: both sides are the replay's (no one reads them)
        self._pending.append(m)

    def _settle(self) -> None:
        """Both sides' fills of each trade noted since the last read (``_add`` of each,
        inline)."""
        pending, self._pending = self._pending, []
        by_order, by_product = self._by_order, self._by_product
        for m in pending:
            side, product_id = m.side, m.product_id
            for fill in (
                    Fill(m.trade_id, product_id, m.maker_order_id, m.maker_profile_id, "M",
                         m.price, m.size, m.maker_fee, side, m.time),
                    Fill(m.trade_id, product_id, m.taker_order_id, m.taker_profile_id, "T",
                         m.price, m.size, m.taker_fee, SELL if side is BUY else BUY, m.time)):
                profile_id = fill.profile_id
                if profile_id == REPLAY_PROFILE_ID:
                    continue
                orders = by_order.get(fill.order_id)
                if orders is None:
                    by_order[fill.order_id] = [fill]
                else:
                    orders.append(fill)
                key = (profile_id, product_id)
                fills = by_product.get(key)
                if fills is None:
                    by_product[key] = [fill]
                else:
                    fills.append(fill)

    def _add(self, fill: Fill) -> None:
        if fill.profile_id == REPLAY_PROFILE_ID:
            return
        if self._pending:
            self._settle()
        self._by_order.setdefault(fill.order_id, []).append(fill)
        self._by_product.setdefault((fill.profile_id, fill.product_id), []).append(fill)

    def for_order(self, order_id: str) -> list[Fill]:
        return self.by_order.get(order_id, [])

    def for_product(self, profile_id: str, product_id: str) -> list[Fill]:
        return self.by_product.get((profile_id, product_id), [])
