"""Everything the core holds, in one class: the one home of the venue's state.

``Engine`` is a ``State`` with the command handlers; the helper modules (``lifecycle``,
``matching``, ``admin``) are functions over a ``State``, so none of them declares or reaches
into attributes declared elsewhere. A ``State`` is a plain object: what it holds is exactly
what is listed here (``STATE_FIELDS``; compiled with the core, ``state.pxd`` declares them),
and ``_sink``, which is not state: a replay's notes in place of the hot events (``sink.py``).
"""

from __future__ import annotations

import cython

from sandex.core.events import Event
from sandex.core.model import (
    Conversion,
    Currency,
    OrderRecord,
    PendingTransfer,
    Report,
)
from sandex.core.product import Product
from sandex.core.records import Account, Order, Profile
from sandex.core.replay_state import ReplayState
from sandex.core.sink import Sink

# every attribute of a ``State``, as a snapshot's schema names them (``sandex.core.image``)
STATE_FIELDS = (
    "products", "profiles", "_live", "_archive", "orders", "currencies", "fee_accounts",
    "supply", "clock", "client_oid_dedup", "_expiries", "_order_number", "_entry_id", "_events",
    "replay", "conversions", "reports", "pending_transfers")


@cython.cclass
class State:
    """The venue's state. Adapters read the public attributes and never write them."""

    products: dict[str, Product]
    profiles: dict[str, Profile]
    _live: dict[str, Order]
    _archive: list[Order]
    orders: OrderRecord
    currencies: dict[str, Currency]
    fee_accounts: dict[str, Account]
    supply: dict[str, int]
    clock: int
    client_oid_dedup: bool
    _expiries: list[tuple[int, int, Order]]
    _order_number: int
    _entry_id: int
    _events: list[Event]
    replay: ReplayState | None
    conversions: dict[str, Conversion]
    reports: dict[str, Report]
    pending_transfers: dict[str, PendingTransfer]
    _sink: Sink | None

    def __init__(self) -> None:
        self.products = {}
        self.profiles = {}
        # Every order on record by id, in acceptance order: the live ones and the done ones
        # with fills (``status`` says which: ``DONE`` is archived), so a place's duplicate
        # test and a cancel's lookup are one probe, and a fill archives its order with no
        # dict work. (The name predates the archive's move here: a snapshot's schema names
        # the attributes.) ``_archive`` lists the done ones in the order they finished.
        self._live = {}
        self._archive = []
        self.orders = OrderRecord(self._live)
        self.currencies = {}
        self.fee_accounts = {}
        self.supply = {}  # deposits minus withdrawals, per currency
        self.clock = 0  # the last AdvanceClock time, microseconds
        self.client_oid_dedup = True  # a reused client_oid answers its order (``SetVenue``)
        self._expiries = []  # (expire_time, number, order)
        self._order_number = 0  # the last order's arrival number
        self._entry_id = 0  # the last ledger entry id
        self._events = []  # the events of the command being applied
        self.replay = None  # the replay loaded, or the last one
        self.conversions = {}  # by id, in creation order
        self.reports = {}  # by id, in creation order
        # transfers with the outside world not settled yet, in start order (``core.funds``)
        self.pending_transfers = {}
        # a replay's notes in place of the hot events (``sink.py``); None: the events built
        # (always on the live path). Not state: no snapshot holds it.
        self._sink = None
