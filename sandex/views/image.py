"""The read models' state as plain data, for snapshots: ``export`` and ``restore``.

Each list keeps the order the views built it in, so a restored view lists exactly what the
exported one did, and events applied after a restore extend it as they would have.
Pure: msgspec Structs and functions, no encoding, no I/O.
"""

from __future__ import annotations

import msgspec

from sandex.core import Engine, LedgerEntry
from sandex.views.fills import Fill, FillsView
from sandex.views.ledger import LedgerView
from sandex.views.market import Candle, MarketView, Trade
from sandex.views.orders import OrdersView

__all__ = ["ViewsImage", "export", "restore"]


class LedgerImage(msgspec.Struct, frozen=True, kw_only=True):
    profile_id: str
    currency: str
    entries: list[LedgerEntry]


class MarketImage(msgspec.Struct, frozen=True, kw_only=True):
    product_id: str
    trades: list[Trade]
    minutes: list[Candle]  # one-minute candles in time order


class ProfileOrders(msgspec.Struct, frozen=True, kw_only=True):
    profile_id: str
    order_ids: list[str]  # in creation order; each on the engine's record


class ViewsImage(msgspec.Struct, frozen=True, kw_only=True):
    fills: list[Fill]  # grouped by (profile, product), each group in trade order
    ledger: list[LedgerImage]
    market: list[MarketImage]
    orders: list[ProfileOrders]


def export(fills: FillsView, ledger: LedgerView, market: MarketView,
           orders: OrdersView) -> ViewsImage:
    return ViewsImage(
        fills=[fill for group in fills.by_product.values() for fill in group],
        ledger=[LedgerImage(profile_id=profile_id, currency=currency, entries=list(entries))
                for (profile_id, currency), entries in ledger.entries.items()],
        market=[MarketImage(product_id=product_id, trades=list(m.trades),
                            minutes=[msgspec.structs.replace(c) for c in m.minutes.values()])
                for product_id, m in market.products.items()],
        orders=[ProfileOrders(profile_id=profile_id, order_ids=list(by_id))
                for profile_id, by_id in orders.by_profile.items()])


def restore(image: ViewsImage,
            engine: Engine) -> tuple[FillsView, LedgerView, MarketView, OrdersView]:
    """The four views ``image`` describes; ``orders`` reads ``engine``'s orders (``ValueError``
    if one is not on its record)."""
    fills = FillsView()
    for fill in image.fills:
        fills._add(fill)
    ledger = LedgerView()
    ledger.entries.update(((e.profile_id, e.currency), list(e.entries)) for e in image.ledger)
    market = MarketView()
    for m in image.market:
        product = market.product(m.product_id)
        product.trades.extend(m.trades)
        product.minutes.update((c.start, msgspec.structs.replace(c)) for c in m.minutes)
    orders = OrdersView(engine)
    for p in image.orders:
        by_id = orders.by_profile[p.profile_id] = {}
        for order_id in p.order_ids:
            order = engine.orders.get(order_id)
            if order is None:
                raise ValueError(f"orders view: {order_id} is not on the engine's record")
            by_id[order_id] = order
    return fills, ledger, market, orders
