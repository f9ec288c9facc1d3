"""Read models: what the REST API lists (fills, ledger, trades, candles, orders, transfers), built
deterministically from the core's events. Pure: no I/O, no clock."""

from sandex.views.fills import Fill, FillsView
from sandex.views.ledger import LedgerView
from sandex.views.market import Candle, MarketView, Trade
from sandex.views.orders import OrdersView
from sandex.views.transfers import AddressEntry, ProfileEntry, TransferRecord, TransfersView

__all__ = ["AddressEntry", "Candle", "Fill", "FillsView", "LedgerView", "MarketView", "OrdersView",
           "ProfileEntry", "Trade", "TransferRecord", "TransfersView"]
