"""Events: the only output of the core.

Frozen, tagged ``msgspec.Struct``; positional construction on the hot path. Order events
that Coinbase's public feed numbers (``received``, ``open``, ``done``, ``match``, ``change``)
carry the product's ``sequence``; private-only events (``activate``, the cancel of a stop that
never triggered) carry ``sequence=None`` and consume no number, as §9.3 says authenticated
messages do not. ``side`` on ``Matched`` is the maker's side (§9.5).
"""

from __future__ import annotations

import msgspec

from sandex.core.model import CancelReason, DoneReason, LedgerKind, OrderType, Side, StopType
from sandex.errors import Error


class Event(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    """Base of every event."""


class Received(Event, frozen=True, gc=False, tag=True):
    time: int
    product_id: str
    sequence: int
    order_id: str
    profile_id: str
    side: Side
    order_type: OrderType
    price: int | None
    size: int | None
    funds: int | None
    client_oid: str | None


class Opened(Event, frozen=True, gc=False, tag=True):
    time: int
    product_id: str
    sequence: int
    order_id: str
    profile_id: str
    side: Side
    price: int
    remaining_size: int


class Done(Event, frozen=True, gc=False, tag=True):
    """``price``/``remaining_size`` are ``None`` for market orders (§9.5)."""

    time: int
    product_id: str
    sequence: int | None
    order_id: str
    profile_id: str
    side: Side
    reason: DoneReason
    price: int | None
    remaining_size: int | None
    cancel_reason: CancelReason | None


class Matched(Event, frozen=True, gc=False, tag=True):
    """One trade, with its settlement: the balances after each of its ledger movements.

    A trade moves four balances (the seller's base out and quote in, the buyer's quote out
    and base in) and charges two fees; rather than six ``LedgerEntry`` events per fill on the
    hot path, the trade carries the four balances after the movements (before the fees) and
    the id of its first ledger entry. ``sandex.core.settlement.ledger_entries`` expands it into
    the entries, numbered from ``entry_id``: seller base, seller quote, seller fee (if any),
    buyer quote, buyer fee (if any), buyer base.
    """

    time: int
    product_id: str
    sequence: int
    trade_id: int
    maker_order_id: str
    taker_order_id: str
    maker_profile_id: str
    taker_profile_id: str
    side: Side  # the maker's side
    price: int
    size: int
    maker_fee: int
    taker_fee: int
    maker_fee_rate: int
    taker_fee_rate: int
    entry_id: int
    seller_base_balance: int
    seller_quote_balance: int
    buyer_quote_balance: int
    buyer_base_balance: int


class Changed(Event, frozen=True, gc=False, tag=True):
    """A self-trade-prevention decrement (§4.9): sizes, or funds for funds-only market orders;
    or a modify (``sandex.core.modify``, reason ``modify_order``): remaining sizes, ``price``
    the new price, ``old_price`` the one before, ``client_oid`` the order's (new) client id,
    ``stop_price`` a stop's; then ``remainder_after_modification`` if a modified order traded
    and rests. A modify of an untriggered stop is private: ``sequence`` ``None``."""

    time: int
    product_id: str
    sequence: int | None
    order_id: str
    profile_id: str
    side: Side
    price: int | None
    old_size: int | None
    new_size: int | None
    old_funds: int | None
    new_funds: int | None
    reason: str
    old_price: int | None = None
    client_oid: str | None = None
    stop_price: int | None = None  # a modified stop's (new) stop price


class Activated(Event, frozen=True, gc=False, tag=True):
    """A stop order was accepted and waits for its trigger (private, no sequence)."""

    time: int
    product_id: str
    order_id: str
    profile_id: str
    side: Side
    stop_type: StopType
    stop_price: int
    price: int | None
    size: int | None
    funds: int | None


class LedgerEntry(Event, frozen=True, gc=False, tag=True):
    """One balance movement with the balance after it (§5.4). Transfers emit it directly;
    the entries of a trade are carried by its ``Matched``."""

    time: int
    entry_id: int
    profile_id: str
    currency: str
    kind: LedgerKind
    amount: int
    balance: int
    order_id: str | None
    trade_id: int | None
    product_id: str | None
    transfer_id: str | None


class Rejected(Event, frozen=True, gc=False, tag=True):
    """The command was refused and changed nothing. ``reason`` names a member of ``Error``."""

    reason: str
    message: str

    @property
    def error(self) -> Error:
        return Error[self.reason]


class Duplicate(Event, frozen=True, gc=False, tag=True):
    """A ``PlaceOrder`` whose ``client_oid`` the profile already used for an order still on
    record: nothing is placed and nothing changes; ``order_id`` is that order (exactly-once
    retries, a deliberate improvement on Coinbase, which does not deduplicate)."""

    time: int
    order_id: str
    profile_id: str


class CurrencyAdded(Event, frozen=True, gc=False, tag=True):
    time: int
    currency: str


class ProductUpdated(Event, frozen=True, gc=False, tag=True):
    """A product was added or its status changed, or its matching was halted or resumed
    (``SetMatching``): what ``GET /products`` and the ``status`` channel show changed."""

    time: int
    product_id: str
    status: str


class ProfileCreated(Event, frozen=True, gc=False, tag=True):
    time: int
    profile_id: str


class ProfileUpdated(Event, frozen=True, gc=False, tag=True):
    """A profile was renamed or deactivated (``active`` false)."""

    time: int
    profile_id: str
    name: str
    active: bool


class FeesChanged(Event, frozen=True, gc=False, tag=True):
    time: int
    profile_id: str
    maker_fee_rate: int
    taker_fee_rate: int


class TransferStarted(Event, frozen=True, gc=False, tag=True):
    """A ``StartTransfer`` was accepted: a withdrawal's ``amount`` is now held."""

    time: int
    transfer_id: str
    profile_id: str
    currency: str
    kind: str
    amount: int
    fee: int
    settle_at: int
    details: tuple[tuple[str, str], ...]
    user_nonce: str | None


class TransferCompleted(Event, frozen=True, gc=False, tag=True):
    """The transfer settled: the account was credited or debited (its ``LedgerEntry``
    follows)."""

    time: int
    transfer_id: str
    profile_id: str
    currency: str
    kind: str
    amount: int


class AddressAdded(Event, frozen=True, gc=False, tag=True):
    time: int
    entry_id: str
    profile_id: str
    currency: str
    address: str
    label: str
    destination_tag: str | None
    network: str | None
    vasp_id: str | None
    is_verified_self_hosted_wallet: bool


class AddressDeleted(Event, frozen=True, gc=False, tag=True):
    time: int
    entry_id: str
    profile_id: str


class EntryPut(Event, frozen=True, gc=False, tag=True):
    """``PutEntry`` done: ``values`` ``None`` when the entry was deleted."""

    time: int
    kind: str
    entry_id: str
    profile_id: str
    values: tuple[tuple[str, str], ...] | None


class ClockAdvanced(Event, frozen=True, gc=False, tag=True):
    time: int


def reject(error: Error, *args: object) -> Rejected:
    """The typed reject carrying the exact Coinbase message.

    Without arguments (every reject of the engine's hot paths), from the member's own
    attributes: ``Enum.name`` and ``value`` are Python-level properties on CPython 3.11
    (``error.name`` and ``error.format()``'s ``template`` ran four Python frames, ~4,800
    instructions a reject: docs/performance.md, the core's twenty-seventh pass); a test
    pins the two forms to the same event for every ``Error``."""
    if args:
        return Rejected(error.name, error.format(*args))
    return Rejected(error._name_, error._value_[1])
