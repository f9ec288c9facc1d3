"""The core's vocabulary and its mutable state: products, profiles, accounts, orders.

All quantities are ints in the units of :mod:`sandex.units`. The enums live in
:mod:`sandex.core.enums` and the hot records (``Order``, ``Account``, ``Profile``) in
:mod:`sandex.core.records` (compiled when the extension is built); both are re-exported here,
where the rest of the package imports them from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from sandex.core.enums import FEE_PROFILE_ID as FEE_PROFILE_ID
from sandex.core.enums import REPLAY_PROFILE_ID as REPLAY_PROFILE_ID
from sandex.core.enums import CancelAfter as CancelAfter
from sandex.core.enums import CancelReason as CancelReason
from sandex.core.enums import DoneReason as DoneReason
from sandex.core.enums import LedgerKind as LedgerKind
from sandex.core.enums import OrderType as OrderType
from sandex.core.enums import ProductStatus as ProductStatus
from sandex.core.enums import Side as Side
from sandex.core.enums import Status as Status
from sandex.core.enums import StopType as StopType
from sandex.core.enums import Stp as Stp
from sandex.core.enums import TimeInForce as TimeInForce
from sandex.core.records import ORDER_FIELDS as ORDER_FIELDS
from sandex.core.records import Account as Account
from sandex.core.records import Order as Order
from sandex.core.records import Profile as Profile


class OrderRecord(Mapping[str, Order]):
    """Every order on record (live, and done with fills), by id, in acceptance order: a
    read-only view over the engine's index of them (``State._live``)."""

    __slots__ = ("by_id",)

    def __init__(self, by_id: dict[str, Order]) -> None:
        # the engine's index (read it, never write it): the read models that run on every
        # command look orders up in it directly, without a method call
        self.by_id = by_id

    def __getitem__(self, order_id: str) -> Order:
        return self.by_id[order_id]

    def get(self, order_id: str, default: Any = None) -> Any:
        return self.by_id.get(order_id, default)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self.by_id

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)


class PendingTransfer(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A deposit or withdrawal not settled yet (``StartTransfer``): a withdrawal holds
    ``amount`` on the profile's account until it completes at ``settle_at``."""

    transfer_id: str
    profile_id: str
    currency: str
    kind: str  # DEPOSIT or WITHDRAW
    amount: int
    settle_at: int
    created_at: int


DEPOSIT = "deposit"
WITHDRAW = "withdraw"


class Currency(msgspec.Struct, frozen=True, gc=False):
    id: str
    name: str
    min_size: int  # amount units


class Conversion(msgspec.Struct, frozen=True, gc=False):
    """A conversion between two currencies of one profile (``Convert``): USD <-> USDC at 1:1,
    or a stake-wrap or redeem (``kind`` ``stake_wrap``/``redeem``) at the rate the command
    carries. Amounts in
    amount units (1e-16)."""

    id: str
    kind: LedgerKind
    profile_id: str
    from_currency: str
    to_currency: str
    from_amount: int
    to_amount: int
    created_at: int


class Report(msgspec.Struct, frozen=True, gc=False):
    """A report asked for with ``POST /reports`` (``CreateReport``): what it covers, not its
    rows (they are read from the fills or the ledger when it is downloaded, up to ``end``,
    which is never after ``created_at``, so the file never changes). ``ready_at``: the venue
    time it is ``ready``; half way there it turns from ``pending`` to ``creating``."""

    id: str
    token: str  # the secret part of its download URL
    profile_id: str
    type: str
    format: str
    created_at: int
    ready_at: int
    start: int
    end: int
    product_id: str
    account_id: str
    email: str | None
