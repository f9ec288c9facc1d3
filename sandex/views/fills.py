"""Each profile's fills (§6.1): one per side of every match, newest last (none for the replay
profile: no one can ask for them, and a long recording would fill memory)."""

from __future__ import annotations

from typing import Any

import cython
import msgspec

from sandex.core import REPLAY_PROFILE_ID, Matched, Side
from sandex.views.history import history

if cython.compiled:  # profile ids tested against the replay's by length first (equal.pxd)
    from cython.cimports.sandex.views.equal import equal
else:
    from sandex.views.equal import equal
if cython.compiled:  # a profile's list of a product without probes (kept.pxd)
    from cython.cimports.sandex.views.kept import kept_clear, kept_get, kept_put, kept_version
if cython.compiled:  # a fill built from its slots, as the core's events (sandex/core/emit.py)
    from cython.cimports.sandex.core.slots import new, put
from sandex.core.emit import slot_layout


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
_REPLAY = REPLAY_PROFILE_ID  # compiled: a C global (fills.pxd)
# compiled: where a ``Fill``'s fields are stored, in their order (C integers, fills.pxd)
_FILL, FILLS_BUILT_BY_SLOTS = slot_layout(Fill)
_BY_SLOTS = FILLS_BUILT_BY_SLOTS  # compiled: a C flag (fills.pxd)
# compiled: C globals (fills.pxd), so a trade's fills name them without a module dict lookup
_FILL_TYPE, _BUY, _SELL = Fill, BUY, SELL


def _new_fill(trade_id: int, product_id: str, order_id: str, profile_id: str, liquidity: str,
              price: int, size: int, fee: int, side: Side, created_at: int) -> Fill:
    """``Fill(...)`` of these fields: compiled, allocated and its slots written as ``emit``
    builds the core's events (msgspec's constructor checks no type either), else by it."""
    if cython.compiled and _BY_SLOTS:
        fill = new(_FILL_TYPE)
        put(fill, _FILL[0], trade_id)
        put(fill, _FILL[1], product_id)
        put(fill, _FILL[2], order_id)
        put(fill, _FILL[3], profile_id)
        put(fill, _FILL[4], liquidity)
        put(fill, _FILL[5], price)
        put(fill, _FILL[6], size)
        put(fill, _FILL[7], fee)
        put(fill, _FILL[8], side)
        put(fill, _FILL[9], created_at)
        return fill  # type: ignore[no-any-return]
    return Fill(trade_id, product_id, order_id, profile_id, liquidity, price, size, fee, side,
                created_at)


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
        # the same lists by profile, then product: a fill finds its list by two probes with
        # strings instead of one with a new tuple (hashed, and compared item by item)
        self._lists: dict[str, dict[str, list[Fill]]] = {}

    def __dealloc__(self) -> None:
        if cython.compiled:
            kept_clear(cython.address(self._kept))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its dicts (``sandex.node.saved``'s snapshots in memory); compiled, the
        kept references (``kept.pxd``) are not state: a copy starts with none."""
        return _fills_view, (self.by_order, self.more, self.by_product, self._lists)

    def on_match(self, m: Matched) -> None:
        """Both sides' fills of the trade ``m`` (``on_trade`` of its fields)."""
        self.on_trade(m.trade_id, m.product_id, m.maker_order_id, m.taker_order_id,
                      m.maker_profile_id, m.taker_profile_id, m.side, m.price, m.size,
                      m.maker_fee, m.taker_fee, m.time)

    def on_trade(self, trade_id: int, product_id: str, maker_order_id: str,
                 taker_order_id: str, maker_profile_id: str, taker_profile_id: str,
                 side: Side, price: int, size: int, maker_fee: int, taker_fee: int,
                 time: int) -> None:
        """Both sides' fills of a trade, from its ``Matched``'s fields (a replay runs this
        per trade: ``sandex.node.applying`` passes the fields it read once from the event's
        slots)."""
        # none for a side of the replay profile (a replayed trade: both are)
        if not (equal(maker_profile_id, _REPLAY) if cython.compiled
                else maker_profile_id == _REPLAY):
            self._put(_new_fill(trade_id, product_id, maker_order_id, maker_profile_id, "M",
                                price, size, maker_fee, side, time),
                      maker_order_id, maker_profile_id, product_id)
        if not (equal(taker_profile_id, _REPLAY) if cython.compiled
                else taker_profile_id == _REPLAY):
            self._put(_new_fill(trade_id, product_id, taker_order_id, taker_profile_id, "T",
                                price, size, taker_fee, _SELL if side is _BUY else _BUY, time),
                      taker_order_id, taker_profile_id, product_id)

    def _add(self, fill: Fill) -> None:
        if fill.profile_id != REPLAY_PROFILE_ID:
            self._put(fill, fill.order_id, fill.profile_id, fill.product_id)

    def _put(self, fill: Fill, order_id: str, profile_id: str, product_id: str) -> None:
        """``fill`` (of ``order_id``, ``profile_id``, ``product_id``: its own fields, passed
        so that they are not read back) added to the order's and the profile's lists."""
        first = self.by_order.setdefault(order_id, fill)  # one probe for an order's first
        if first is not fill:
            more = self.more
            orders = more.get(order_id)
            if orders is None:
                more[order_id] = history([first, fill])
            else:
                orders.append(fill)
        if cython.compiled:  # the list kept by the profile's and product's ids (kept.pxd),
            # while ``_lists`` is unchanged (no list in it is ever replaced)
            version = kept_version(self._lists)
            fills = kept_get(cython.address(self._kept), version,
                             profile_id, product_id)
            if fills is not None:
                fills.append(fill)
                return
        lists = self._lists.get(profile_id)
        if lists is None:
            lists = self._lists[profile_id] = {}
        fills = lists.get(product_id)
        if fills is None:
            fills = lists[product_id] = self.by_product[(profile_id, product_id)] = history(
                [fill])
        else:
            fills.append(fill)
        if cython.compiled:
            kept_put(cython.address(self._kept), kept_version(self._lists),
                     profile_id, product_id, fills, None)

    def for_order(self, order_id: str) -> list[Fill]:
        """The order's fills in trade order (a new list for an order filled once)."""
        orders = self.more.get(order_id)
        if orders is not None:
            return orders
        first = self.by_order.get(order_id)
        return [] if first is None else [first]

    def for_product(self, profile_id: str, product_id: str) -> list[Fill]:
        return self.by_product.get((profile_id, product_id), [])


def _fills_view(by_order: Any, more: Any, by_product: Any, lists: Any) -> FillsView:
    """A ``FillsView`` of these dicts (its pickle's: ``FillsView.__reduce__``)."""
    view = FillsView.__new__(FillsView)
    view.by_order, view.more, view.by_product, view._lists = by_order, more, by_product, lists
    return view
