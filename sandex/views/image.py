"""The read models' state as plain data, for snapshots: ``export`` and ``restore``.

Each list keeps the order the views built it in, so a restored view lists exactly what the
exported one did, and events applied after a restore extend it as they would have. The many
small records (ledger entries, fills, trades) are kept as array-like twins of their classes
(``row_type``): the same fields in the same order, without a name per value; that order is
part of the snapshot's schema digest. Pure: msgspec Structs and functions, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, get_type_hints

import msgspec

from sandex.core import Engine, LedgerEntry
from sandex.views.fills import Fill, FillsView
from sandex.views.history import history
from sandex.views.ledger import LedgerView
from sandex.views.market import Candle, MarketView, Trade
from sandex.views.orders import OrdersView
from sandex.views.transfers import AddressEntry, ProfileEntry, TransferRecord, TransfersView

__all__ = ["ViewsImage", "export", "restore"]


def row_type(kind: type[msgspec.Struct]) -> Any:
    """An array-like frozen struct with ``kind``'s fields, in order (its tag left out)."""
    hints = get_type_hints(kind)
    fields = [(name, hints[name]) for name in kind.__struct_fields__]
    return msgspec.defstruct(f"{kind.__name__}Row", fields, array_like=True, frozen=True,
                             gc=False, module=__name__)


if TYPE_CHECKING:  # a row has its class's fields, which is all the type checker needs
    LedgerRow: TypeAlias = LedgerEntry
    FillRow: TypeAlias = Fill
    TradeRow: TypeAlias = Trade
    TransferRow: TypeAlias = TransferRecord
    AddressRow: TypeAlias = AddressEntry
    EntryRow: TypeAlias = ProfileEntry
else:
    LedgerRow, FillRow, TradeRow = row_type(LedgerEntry), row_type(Fill), row_type(Trade)
    TransferRow, AddressRow = row_type(TransferRecord), row_type(AddressEntry)
    EntryRow = row_type(ProfileEntry)
_astuple = msgspec.structs.astuple


class LedgerImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    profile_id: str
    currency: str
    entries: list[LedgerRow]


class MarketImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    product_id: str
    trades: list[TradeRow]
    minutes: list[Candle]  # one-minute candles in time order


class ProfileOrders(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    profile_id: str
    order_ids: list[str]  # in creation order; each on the engine's record


class ViewsImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    fills: list[FillRow]  # grouped by (profile, product), each group in trade order
    ledger: list[LedgerImage]
    market: list[MarketImage]
    orders: list[ProfileOrders]
    transfers: list[TransferRow] = []  # in start order
    addresses: list[AddressRow] = []  # address-book entries, in the order added
    entries: list[EntryRow] = []  # travel rules, settlement preferences (PutEntry), put order


def export(fills: FillsView, ledger: LedgerView, market: MarketView,
           orders: OrdersView, transfers: TransfersView | None = None) -> ViewsImage:
    return ViewsImage(
        transfers=[] if transfers is None else [
            TransferRow(*_astuple(r)) for r in transfers.records.values()],
        addresses=[] if transfers is None else [
            AddressRow(*_astuple(a)) for a in transfers.addresses.values()],
        entries=[] if transfers is None else [
            EntryRow(*_astuple(e)) for e in transfers.entries.values()],
        fills=[FillRow(*_astuple(fill)) for group in fills.by_product.values() for fill in group],
        ledger=[LedgerImage(profile_id=profile_id, currency=currency,
                            entries=[LedgerRow(*_astuple(e)) for e in entries])
                for (profile_id, currency), entries in ledger.entries.items()],
        market=[MarketImage(product_id=product_id,
                            trades=[TradeRow(*_astuple(t)) for t in m.trades],
                            minutes=[msgspec.structs.replace(c) for c in m.minutes.values()])
                for product_id, m in market.products.items()],
        orders=[ProfileOrders(profile_id=profile_id, order_ids=list(by_id))
                for profile_id, by_id in orders.by_profile.items()])


def restore(image: ViewsImage, engine: Engine,
            ) -> tuple[FillsView, LedgerView, MarketView, OrdersView, TransfersView]:
    """The five views ``image`` describes; ``orders`` reads ``engine``'s orders (``ValueError``
    if one is not on its record)."""
    fills = FillsView()
    for row in image.fills:
        fills._add(Fill(*_astuple(row)))
    ledger = LedgerView()
    ledger.entries.update(
        ((e.profile_id, e.currency), history([LedgerEntry(*_astuple(r)) for r in e.entries]))
        for e in image.ledger)
    market = MarketView()
    for m in image.market:
        product = market.product(m.product_id)
        product.trades.extend(Trade(*_astuple(r)) for r in m.trades)
        product.minutes.update((c.start, msgspec.structs.replace(c)) for c in m.minutes)
    orders = OrdersView(engine)
    for p in image.orders:
        by_id = orders.by_profile[p.profile_id] = {}
        for order_id in p.order_ids:
            order = engine.orders.get(order_id)
            if order is None:
                raise ValueError(f"orders view: {order_id} is not on the engine's record")
            by_id[order_id] = order
    transfers = TransfersView()
    for t in image.transfers:
        fields = list(_astuple(t))
        fields[8] = tuple(tuple(pair) for pair in fields[8])  # details: (key, value) pairs
        transfers.records[t.id] = TransferRecord(*fields)
    transfers.addresses.update((a.id, AddressEntry(*_astuple(a))) for a in image.addresses)
    for e in image.entries:
        entry = ProfileEntry(e.kind, e.id, e.profile_id,
                             tuple((k, v) for k, v in e.values), e.put_at)
        transfers.entries[(entry.kind, entry.id)] = entry
    return fills, ledger, market, orders, transfers
