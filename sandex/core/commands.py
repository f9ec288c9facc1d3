"""Commands: the only input of the core, and the journal's on-disk schema.

Every command arrives stamped by the sequencer with ``time`` (microseconds since the Unix
epoch) and every generated id (order ids, transfer ids). The core reads no clock and makes no
ids, so the same commands always give the same events. Frozen ``msgspec.Struct`` with tags, so
the journal can encode any of them as one union type.

These classes ARE the journal's record format (``sandex.node.codec``), so every data dir
ever written depends on them. The rules (``tests/journal/golden_records.jsonl`` enforces them):

* never rename a tag or a field, and never change a field's type or meaning;
* a new field gets a default, goes last in its class, and that default never changes
  (records are written with ``omit_defaults``: an old record means "the default");
* a retired tag or field name is never reused for something else;
* a class name is free to change: only its ``tag`` is on disk.
"""

from __future__ import annotations

import msgspec

from sandex.core.model import (
    CancelAfter,
    OrderType,
    ProductStatus,
    Side,
    StopType,
    Stp,
    TimeInForce,
)


class Command(msgspec.Struct, frozen=True, gc=False, tag_field="command", kw_only=True,
              omit_defaults=True):
    """Base of every command: ``time`` is stamped by the sequencer, in microseconds."""

    time: int


class PlaceOrder(Command, frozen=True, gc=False, tag="place_order", kw_only=True):
    """POST /orders (§4.1). Sizes and prices in 1e-8; ``funds`` in amount units (1e-16).
    A GTT order expires ``cancel_after`` after ``time`` (REST) or at ``expire_time`` (FIX's
    GTD, ``ExpireTime(126)``): exactly one of the two."""

    order_id: str
    profile_id: str
    product_id: str
    side: Side
    type: OrderType = OrderType.LIMIT
    price: int | None = None
    size: int | None = None
    funds: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    cancel_after: CancelAfter | None = None
    post_only: bool = False
    stp: Stp = Stp.DC
    stop: StopType | None = None
    stop_price: int | None = None
    client_oid: str | None = None
    expire_time: int | None = None  # GTT's absolute expiry in microseconds (FIX's GTD)


class CancelOrder(Command, frozen=True, gc=False, tag="cancel_order", kw_only=True):
    """DELETE /orders/{id} or /orders/client:{client_oid} (§4.6), optionally product-scoped."""

    profile_id: str
    order_id: str | None = None
    client_oid: str | None = None
    product_id: str | None = None


class ModifyOrder(Command, frozen=True, gc=False, tag="modify_order", kw_only=True):
    """FIX OrderCancelReplaceRequest (35=G): a new ``price`` and total ``size`` (1e-8) for
    the profile's open limit order or untriggered stop-limit order (and ``stop_price`` for
    a stop), optionally product-scoped. ``client_oid``: the order's new client id (FIX's new
    ClOrdID), ``None`` keeps it. Rules in ``sandex.core.modify``."""

    profile_id: str
    order_id: str
    price: int
    size: int
    stop_price: int | None = None
    product_id: str | None = None
    client_oid: str | None = None


class CancelAll(Command, frozen=True, gc=False, tag="cancel_all", kw_only=True):
    """DELETE /orders (§4.7): every open order of the profile, optionally of one product."""

    profile_id: str
    product_id: str | None = None


class AdvanceClock(Command, frozen=True, gc=False, tag="advance_clock", kw_only=True):
    """Move the venue clock to ``time``: GTT orders whose expire_time has passed are canceled."""


class AddCurrency(Command, frozen=True, gc=False, tag="add_currency", kw_only=True):
    currency: str
    name: str
    min_size: int  # amount units


class AddProduct(Command, frozen=True, gc=False, tag="add_product", kw_only=True):
    product_id: str
    base_currency: str
    quote_currency: str
    base_increment: int  # 1e-8
    quote_increment: int  # 1e-8
    min_market_funds: int  # amount units (1e-16)
    status: ProductStatus = ProductStatus.ONLINE


class SetProductStatus(Command, frozen=True, gc=False, tag="set_product_status", kw_only=True):
    product_id: str
    status: ProductStatus


class SetMatching(Command, frozen=True, gc=False, tag="set_matching", kw_only=True):
    """Halt (``halted``) or resume the product's matching. While halted, new orders are
    accepted ``pending`` (validated, funds held, ``received``) and queued off the book; the
    resume matches them in arrival order, each as if it arrived then."""

    product_id: str
    halted: bool


class CreateProfile(Command, frozen=True, gc=False, tag="create_profile", kw_only=True):
    profile_id: str
    user_id: str
    name: str
    maker_fee_rate: int  # 1e-6
    taker_fee_rate: int  # 1e-6


class SetFees(Command, frozen=True, gc=False, tag="set_fees", kw_only=True):
    """New fee rates for a profile; orders already accepted keep the rates they were given."""

    profile_id: str
    maker_fee_rate: int
    taker_fee_rate: int


class Deposit(Command, frozen=True, gc=False, tag="deposit", kw_only=True):
    profile_id: str
    currency: str
    amount: int
    transfer_id: str


class Withdraw(Command, frozen=True, gc=False, tag="withdraw", kw_only=True):
    profile_id: str
    currency: str
    amount: int
    transfer_id: str


class Transfer(Command, frozen=True, gc=False, tag="transfer", kw_only=True):
    """POST /profiles/transfer (§6.10): move available funds between two profiles."""

    from_profile_id: str
    to_profile_id: str
    currency: str
    amount: int
    transfer_id: str


class Convert(Command, frozen=True, gc=False, tag="convert", kw_only=True):
    """POST /conversions (USD <-> USDC, ``to_amount == from_amount``) or POST
    /wrapped-assets/stake-wrap or /redeem (``kind`` ``stake_wrap`` or ``redeem``; ``to_amount``
    at the configured rate, worked out by the gateway): ``from_amount`` of the profile's
    available ``from_currency`` becomes ``to_amount`` of ``to_currency``."""

    profile_id: str
    conversion_id: str
    from_currency: str
    to_currency: str
    from_amount: int
    to_amount: int
    kind: str = "conversion"


class RenameProfile(Command, frozen=True, gc=False, tag="rename_profile", kw_only=True):
    """PUT /profiles/{id}: a new name, unique among the user's active profiles."""

    profile_id: str
    name: str


class DeactivateProfile(Command, frozen=True, gc=False, tag="deactivate_profile", kw_only=True):
    """PUT /profiles/{id}/deactivate: every balance moves to ``to_profile_id`` (ledger
    ``transfer`` entries, ``transfer_id``) and the profile is inactive; refused while it has
    open orders, and for a user's default profile."""

    profile_id: str
    to_profile_id: str
    transfer_id: str


class CreateReport(Command, frozen=True, gc=False, tag="create_report", kw_only=True):
    """POST /reports: a fills or account report of the profile over [start, end] (``end`` no
    later than ``time``), ready at ``ready_at`` on the venue clock."""

    report_id: str
    token: str  # the secret part of its download URL (a capability, as an S3 presigned URL)
    profile_id: str
    type: str
    format: str
    ready_at: int
    start: int
    end: int
    product_id: str = "ALL"
    account_id: str = "ALL"
    email: str | None = None
class StartTransfer(Command, frozen=True, gc=False, tag="start_transfer", kw_only=True):
    """A deposit or withdrawal between a profile and the simulated outside world (a Coinbase
    wallet, a payment method, a crypto address). ``kind`` is ``deposit`` or ``withdraw``;
    ``amount`` (amount units) is what the account is credited or debited in all, a
    withdrawal's ``fee`` included. A withdrawal holds ``amount`` at once (refused beyond the
    available balance). It completes when the venue clock reaches ``settle_at`` (an
    ``AdvanceClock``), or at once if ``settle_at`` is not after ``time``. ``details`` are the
    wire's transfer details, ``(key, value)`` pairs, as they were decided when it was made."""

    transfer_id: str
    profile_id: str
    currency: str
    kind: str
    amount: int
    fee: int = 0
    settle_at: int = 0
    details: tuple[tuple[str, str], ...] = ()
    user_nonce: str | None = None


class AddAddress(Command, frozen=True, gc=False, tag="add_address", kw_only=True):
    """POST /address-book: an entry of the profile's address book (kept by the transfers
    view; the core only checks the profile). An ``entry_id`` already in the book replaces
    that entry (PUT /address-book/{id}; its added time stays)."""

    entry_id: str
    profile_id: str
    currency: str
    address: str
    label: str
    destination_tag: str | None = None
    network: str | None = None
    vasp_id: str | None = None
    is_verified_self_hosted_wallet: bool = False


class DeleteAddress(Command, frozen=True, gc=False, tag="delete_address", kw_only=True):
    """DELETE /address-book/{id} (the gateway answers 404 for an id not in the book)."""

    entry_id: str
    profile_id: str


class PutEntry(Command, frozen=True, gc=False, tag="put_entry", kw_only=True):
    """A record a profile keeps for the API, kept by the transfers view (the core only checks
    the profile): a travel-rule entry (``kind`` ``travel_rule``, POST /travel-rules), a
    transfer's travel-rule information (``transfer_travel_rule``, keyed by the transfer id),
    a user's settlement preference (``settlement_preference``, keyed by the user id).
    ``values`` replaces the entry's fields; ``None`` deletes the entry."""

    kind: str
    entry_id: str
    profile_id: str
    values: tuple[tuple[str, str], ...] | None = None


class SetVenue(Command, frozen=True, gc=False, tag="set_venue", kw_only=True):
    """The venue's settings, all of them (an omitted field is its default).

    ``client_oid_dedup``: a place whose client_oid the profile already used answers that
    order (sandex's exactly-once); false places another order, as Coinbase does."""

    client_oid_dedup: bool = True


# -- replayed liquidity (``sandex.core.replay``) ------------------------------------------------
# A recorded market's changes, in venue units, as the replay's journaled actions. Each is a
# JSON array led by its tag (a batch holds thousands): the field order is the schema.


class _Action(msgspec.Struct, frozen=True, gc=False, array_like=True, tag_field="action",
              omit_defaults=True):
    product_id: str


class ReplayAdd(_Action, frozen=True, gc=False, tag="add"):
    """A recorded limit order (``received``): placed as the replay's, matched by the engine."""

    order_id: str
    side: Side
    price: int
    size: int


class ReplayMarket(_Action, frozen=True, gc=False, tag="market"):
    """A recorded market order, by size or by funds (amount units)."""

    order_id: str
    side: Side
    size: int | None = None
    funds: int | None = None


class ReplayCancel(_Action, frozen=True, gc=False, tag="cancel"):
    """A recorded ``done``: cancel what is left of the order if it is still live (``filled``:
    the recording saw it filled; if it is gone here too, that is no divergence)."""

    order_id: str
    filled: bool = False


class ReplayReduce(_Action, frozen=True, gc=False, tag="reduce"):
    """A recorded size decrease (``change``): by ``size``, floored at 0, keeping priority."""

    order_id: str
    size: int


class ReplayTake(_Action, frozen=True, gc=False, tag="take"):
    """A recorded trade without order ids: an immediate-or-cancel limit order of the taker's
    ``side`` for ``size`` at ``price``."""

    side: Side
    price: int
    size: int


class ReplayLevel(_Action, frozen=True, gc=False, tag="level"):
    """A recorded level's new absolute size (level 2; 0 removes it)."""

    side: Side
    price: int
    size: int


class ReplayBook(_Action, frozen=True, gc=False, tag="book"):
    """A recorded whole book (level 2): ``(price, size)`` pairs, best first."""

    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


ReplayAction = (ReplayAdd | ReplayMarket | ReplayCancel | ReplayReduce | ReplayTake | ReplayLevel
                | ReplayBook)


class StartReplay(Command, frozen=True, gc=False, tag="start_replay", kw_only=True):
    """A recording starts to be replayed into ``products``: the replay profile is created the
    first time (zero fees, never listed) and funded without limit in their currencies.

    ``seed`` names the ids of the synthetic orders level-2 sources need; ``cancel_from``
    (``back`` or ``front``) is where a level's unexplained decrease cancels replay orders.
    ``source`` (paths, one a line), ``sha256`` (one a path, comma-separated), ``mapping``
    (source symbol, venue product, price scale, size scale; none: every symbol as itself) and
    ``speed`` let a restarted venue reopen the recording and go on."""

    source: str
    sha256: str
    format: str
    products: tuple[str, ...]
    seed: str
    cancel_from: str = "back"
    mapping: tuple[tuple[str, str, str, str], ...] = ()
    speed: str = "clock"


class ReplayBatch(Command, frozen=True, gc=False, tag="replay", kw_only=True):
    """The next recorded changes: ``actions`` applied in order; ``events`` source events read
    (some map to no action), the last at file ``line`` and source time ``source_time``;
    ``recorded_trades`` the trades the recording shows among them."""

    actions: tuple[ReplayAction, ...]
    events: int
    line: int
    source_time: int
    recorded_trades: int = 0


class EndReplay(Command, frozen=True, gc=False, tag="end_replay", kw_only=True):
    """The replay is over (finished or unloaded); ``clear`` cancels every replay order too."""

    finished: bool = True
    clear: bool = False


AnyCommand = (
    PlaceOrder | CancelOrder | CancelAll | AdvanceClock | AddCurrency | AddProduct
    | SetProductStatus | CreateProfile | SetFees | Deposit | Withdraw | Transfer | SetVenue
    | StartReplay | ReplayBatch | EndReplay | SetMatching | Convert | RenameProfile
    | DeactivateProfile | CreateReport | StartTransfer | AddAddress | DeleteAddress | PutEntry
    | ModifyOrder
)
