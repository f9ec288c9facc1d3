"""Everything the core holds, in one class: the one home of the venue's state.

``Engine`` is a ``State`` with the command handlers; the helper modules (``lifecycle``,
``matching``, ``admin``) are functions over a ``State``, so none of them declares or reaches
into attributes declared elsewhere. A ``State`` is a plain object: what it holds is exactly
what is listed here.
"""

from __future__ import annotations

from sandex.core.events import Event
from sandex.core.model import (
    Account,
    Conversion,
    Currency,
    Order,
    OrderRecord,
    PendingTransfer,
    Profile,
    Report,
)
from sandex.core.product import Product
from sandex.core.replay_state import ReplayState


class State:
    """The venue's state. Adapters read the public attributes and never write them."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.profiles: dict[str, Profile] = {}
        # Orders on record: the few live ones (hot, churned by every place and cancel) apart
        # from the many done ones with fills (inserted once), so the hot dict stays small.
        self._live: dict[str, Order] = {}
        self._archive: dict[str, Order] = {}
        self.orders = OrderRecord(self._live, self._archive)
        self.currencies: dict[str, Currency] = {}
        self.fee_accounts: dict[str, Account] = {}
        self.supply: dict[str, int] = {}  # deposits minus withdrawals, per currency
        self.clock = 0  # the last AdvanceClock time, microseconds
        self.client_oid_dedup = True  # a reused client_oid answers its order (``SetVenue``)
        self._expiries: list[tuple[int, int, Order]] = []  # (expire_time, number, order)
        self._order_number = 0  # the last order's arrival number
        self._entry_id = 0  # the last ledger entry id
        self._events: list[Event] = []  # the events of the command being applied
        self.replay: ReplayState | None = None  # the replay loaded, or the last one
        self.conversions: dict[str, Conversion] = {}  # by id, in creation order
        self.reports: dict[str, Report] = {}  # by id, in creation order
        # transfers with the outside world not settled yet, in start order (``core.funds``)
        self.pending_transfers: dict[str, PendingTransfer] = {}
