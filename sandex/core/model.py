"""The core's vocabulary (enums) and its mutable state: products, profiles, accounts, orders.

All quantities are ints in the units of :mod:`sandex.units`. ``Order`` is a
``msgspec.Struct`` with ``gc=False``: it never points back at containers that hold it, so
orders cannot form reference cycles, and millions of them cost the garbage collector nothing.
``Account`` (a few per profile) is a plain ``__slots__`` class, the cheapest to write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from itertools import chain
from typing import Any

import msgspec

FEE_PROFILE_ID = "venue-fees"  # the owner of the venue's fee accounts (one per currency)
REPLAY_PROFILE_ID = "replay"  # the owner of every replayed order (``sandex.core.replay``)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    GTT = "GTT"
    IOC = "IOC"
    FOK = "FOK"


class CancelAfter(StrEnum):
    """GTT lifetimes (§4.1): the order expires this many seconds after it was created."""

    MIN = "min"
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return _CANCEL_AFTER_SECONDS[self]


_CANCEL_AFTER_SECONDS = {CancelAfter.MIN: 60, CancelAfter.HOUR: 3600, CancelAfter.DAY: 86400}


class Stp(StrEnum):
    """Self-trade prevention (§4.9); the taker's flag decides."""

    DC = "dc"  # decrement and cancel
    CO = "co"  # cancel oldest (the resting order)
    CN = "cn"  # cancel newest (the taker)
    CB = "cb"  # cancel both


class StopType(StrEnum):
    LOSS = "loss"  # triggers when the last trade price <= stop_price
    ENTRY = "entry"  # triggers when the last trade price >= stop_price


class Status(StrEnum):
    """Order status (§4.3). ``pending`` = received, not yet rested or finished."""

    PENDING = "pending"
    OPEN = "open"
    ACTIVE = "active"
    DONE = "done"


class DoneReason(StrEnum):
    FILLED = "filled"
    CANCELED = "canceled"


class CancelReason(StrEnum):
    """Cancel-reason codes of the authenticated feed (§9.5)."""

    TIME_IN_FORCE = "101:Time In Force"
    SELF_TRADE_PREVENTION = "102:Self Trade Prevention"
    ADMIN = "103:Admin"
    INSUFFICIENT_FUNDS = "105:Insufficient Funds"
    INSUFFICIENT_LIQUIDITY = "106:Insufficient Liquidity"
    BROKER = "107:Broker"  # a modify to no more than the filled size (``sandex.core.modify``)


class ProductStatus(StrEnum):
    """Trading status of a product (§6.2): at most one restriction at a time."""

    ONLINE = "online"
    POST_ONLY = "post_only"
    LIMIT_ONLY = "limit_only"
    CANCEL_ONLY = "cancel_only"
    DISABLED = "disabled"


class LedgerKind(StrEnum):
    MATCH = "match"
    FEE = "fee"
    TRANSFER = "transfer"
    CONVERSION = "conversion"  # USD <-> USDC (POST /conversions)
    STAKE_WRAP = "stake_wrap"  # ETH -> CBETH (POST /wrapped-assets/stake-wrap)
    REDEEM = "redeem"  # CBETH -> ETH (POST /wrapped-assets/redeem)


class Account:
    """One currency of one profile. ``available = balance - hold`` is never negative.

    A plain ``__slots__`` class, not a ``Struct``: settlement writes its fields on every
    fill, and slot writes are the cheapest Python has. Compared by identity.
    """

    __slots__ = ("balance", "currency", "hold", "profile_id")

    def __init__(self, profile_id: str, currency: str, balance: int = 0, hold: int = 0) -> None:
        self.profile_id = profile_id
        self.currency = currency
        self.balance = balance
        self.hold = hold

    def __repr__(self) -> str:
        return (f"Account(profile_id={self.profile_id!r}, currency={self.currency!r}, "
                f"balance={self.balance!r}, hold={self.hold!r})")


class Order(msgspec.Struct, gc=False):
    """An order's whole state. Sizes and prices in 1e-8, amounts in 1e-16.

    ``remaining`` is the size still to trade (``None`` for a funds-only market order, which
    tracks ``funds_remaining`` instead). ``hold`` is what this order still reserves on
    ``hold_account``; ``recv_account`` receives what it buys or sells into.
    """

    id: str
    number: int  # engine-wide arrival number: the tie-breaker for time priority
    profile_id: str
    product_id: str
    side: Side
    type: OrderType
    created_at: int
    price: int | None
    size: int | None
    remaining: int | None
    funds: int | None  # spendable funds (after the fee reservation for market buys)
    specified_funds: int | None  # funds as the user sent them
    funds_remaining: int | None
    time_in_force: TimeInForce
    expire_time: int | None
    post_only: bool
    stp: Stp
    stop: StopType | None
    stop_price: int | None
    client_oid: str | None
    maker_rate: int
    taker_rate: int
    hold_rate: int  # the fee rate reserved by a limit buy's hold
    hold_account: Account
    recv_account: Account
    hold: int = 0
    status: Status = Status.PENDING
    filled_size: int = 0
    executed_value: int = 0
    fill_fees: int = 0
    done_at: int | None = None
    done_reason: DoneReason | None = None
    cancel_reason: CancelReason | None = None


class OrderRecord(Mapping[str, Order]):
    """Every order on record (live, and done with fills), by id: a read-only view over the
    engine's live index and its archive."""

    __slots__ = ("_archive", "_live")

    def __init__(self, live: dict[str, Order], archive: dict[str, Order]) -> None:
        self._live = live
        self._archive = archive

    def __getitem__(self, order_id: str) -> Order:
        order = self._live.get(order_id)
        return order if order is not None else self._archive[order_id]

    def get(self, order_id: str, default: Any = None) -> Any:
        order = self._live.get(order_id)
        return order if order is not None else self._archive.get(order_id, default)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._live or order_id in self._archive

    def __iter__(self) -> Iterator[str]:
        return chain(self._archive, self._live)

    def __len__(self) -> int:
        return len(self._live) + len(self._archive)


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


class Profile:
    """A profile: its accounts, fee rates and indexes over its live orders."""

    __slots__ = ("accounts", "active", "by_client_oid", "created_at", "id", "live", "maker_rate",
                 "name", "open_count", "taker_rate", "user_id")

    def __init__(self, id: str, user_id: str, name: str, maker_rate: int, taker_rate: int,
                 created_at: int) -> None:
        self.id = id
        self.user_id = user_id
        self.name = name
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.created_at = created_at
        self.active = True  # false once deactivated (``DeactivateProfile``): keys view-only
        self.accounts: dict[str, Account] = {}
        self.live: dict[str, Order] = {}  # open, active and pending orders, in arrival order
        self.by_client_oid: dict[str, Order] = {}  # the latest order on record per client_oid
        self.open_count: dict[str, int] = {}  # product id -> open + active orders

    def account(self, currency: str) -> Account:
        account = self.accounts.get(currency)
        if account is None:
            account = self.accounts[currency] = Account(self.id, currency)
        return account


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
