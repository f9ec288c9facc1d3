"""The engine's state as plain data: ``export`` it to an ``EngineImage``, ``restore`` one.

An image holds what replay would build and nothing derived: products with their levels (live
orders in exact queue order), profiles with their accounts, every order on record (archive
and live: the archive in the order its orders finished, the live ones in acceptance order),
currencies, fee accounts, supply and the counters.
``restore`` rebuilds the rest (book totals and heaps, stop heaps, the expiry heap,
``profile.live``, ``by_client_oid``, ``open_count``), so an engine restored from an image
answers every later command exactly as the engine it was exported from.

Image structs are encoded as arrays (a snapshot holds millions of them); their field order
is part of the snapshot's schema digest, so a reordered image never loads shifted. ``Order``
is read and built by field name, so reordering its fields changes nothing here. ``shape()``
lists the attribute names the image depends on: the snapshot's digest covers it too, so a
change (a new ``Order`` field, say) means "replay the journal".
Pure: msgspec Structs and functions, no encoding, no I/O.
"""

from __future__ import annotations

from heapq import heapify
from typing import Any

import msgspec

from sandex.core.book import Book, Level
from sandex.core.engine import Engine
from sandex.core.limits import funds_max, supply_max, unit_max
from sandex.core.model import (
    FEE_PROFILE_ID,
    Account,
    CancelReason,
    Conversion,
    Currency,
    DoneReason,
    Order,
    OrderType,
    PendingTransfer,
    ProductStatus,
    Profile,
    Report,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
)
from sandex.core.product import Product
from sandex.core.records import ORDER_FIELDS, PROFILE_FIELDS, accept_tally, link, order_fields
from sandex.core.replay_state import ReplayState
from sandex.core.state import STATE_FIELDS
from sandex.core.stops import StopBook

__all__ = ["EngineImage", "export", "restore", "shape"]

class AccountImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    currency: str
    balance: int
    hold: int


class LevelImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    price: int
    orders: list[str]  # ids of the live orders, front of the queue first


class ProductImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    id: str
    base_currency: str
    quote_currency: str
    base_increment: int
    quote_increment: int
    min_market_funds: int
    status: ProductStatus
    sequence: int
    trade_id: int
    last_price: int | None
    print_low: int | None
    print_high: int | None
    bids: list[LevelImage]
    asks: list[LevelImage]
    halted: list[str] | None = None  # matching halted: ids of its queued pending orders



class ProfileImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    id: str
    user_id: str
    name: str
    maker_rate: int
    taker_rate: int
    created_at: int
    accounts: list[AccountImage]
    active: bool = True


class OrderImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """An ``Order`` field for field, but its two accounts named by currency (both belong to
    the order's profile)."""

    id: str
    number: int
    profile_id: str
    product_id: str
    side: Side
    type: OrderType
    created_at: int
    price: int | None
    size: int | None
    remaining: int | None
    funds: int | None
    specified_funds: int | None
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
    hold_rate: int
    hold_account: str  # currency
    recv_account: str  # currency
    hold: int
    status: Status
    filled_size: int
    executed_value: int
    fill_fees: int
    done_at: int | None
    done_reason: DoneReason | None
    cancel_reason: CancelReason | None


class ReplayImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """``sandex.core.replay.ReplayState``; levels as ``[product, side, price, size]``."""

    source: str
    sha256: str
    format: str
    products: list[str]
    seed: str
    cancel_from: str
    active: bool
    events: int
    batches: int
    line: int
    source_time: int
    recorded_trades: int
    reproduced_trades: int
    user_fills: int
    cancels_noop: int
    consumed: dict[str, int]
    synthetic: int
    debt: list[tuple[str, Side, int, int]]
    expected: list[tuple[str, Side, int, int]]
    finished: bool
    ended_early: int
    mapping: list[tuple[str, str, str, str]]
    speed: str
    halted_skipped: int


class EngineImage(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    currencies: list[Currency]
    fee_accounts: list[AccountImage]
    supply: dict[str, int]
    products: list[ProductImage]
    profiles: list[ProfileImage]
    archive: list[OrderImage]  # done orders with fills, in record order
    live: list[OrderImage]  # open, active and pending orders, in arrival order
    clock: int
    order_number: int
    entry_id: int
    client_oid_dedup: bool = True
    replay: ReplayImage | None = None
    conversions: list[Conversion] = []  # in creation order
    reports: list[Report] = []  # in creation order
    transfers: list[PendingTransfer] = []  # pending deposits and withdrawals, in start order


_ACCOUNT_FIELDS = ("hold_account", "recv_account")
# an order's fields the venue bounds (a price's, size's or funds' own bound; fill totals that
# of what such an order can fill: at most ``unit_max * unit_max`` or its funds)
_BOUNDS = (("price", unit_max), ("size", unit_max), ("remaining", unit_max),
           ("stop_price", unit_max), ("funds", funds_max), ("specified_funds", funds_max),
           ("funds_remaining", funds_max), ("filled_size", funds_max),
           ("executed_value", funds_max), ("fill_fees", funds_max), ("hold", supply_max))


def shape() -> list[tuple[str, list[str]]]:
    """The attribute names of every class the image is read from (a snapshot's schema)."""
    return [
        ("Engine", sorted(STATE_FIELDS)),
        ("Order", sorted(ORDER_FIELDS)),
        *((kind.__name__, sorted(PROFILE_FIELDS if kind is Profile else kind.__slots__))
          for kind in (Account, Profile, Product, Book, Level, StopBook, ReplayState)),
    ]


# -- export --------------------------------------------------------------------------------------
def export(engine: Engine) -> EngineImage:
    """The engine's state as an image (shares no mutable object with the engine)."""
    return EngineImage(
        currencies=list(engine.currencies.values()),
        fee_accounts=[_account(a) for a in engine.fee_accounts.values()],
        supply=dict(engine.supply),
        products=[_product(p) for p in engine.products.values()],
        profiles=[_profile(p) for p in engine.profiles.values()],
        archive=[_order(o) for o in engine._archive],
        live=[_order(o) for o in engine._live.values() if o.status is not Status.DONE],
        clock=engine.clock,
        order_number=engine._order_number,
        entry_id=engine._entry_id,
        client_oid_dedup=engine.client_oid_dedup,
        replay=None if engine.replay is None else _replay(engine.replay),
        conversions=list(engine.conversions.values()),
        reports=list(engine.reports.values()),
        transfers=list(engine.pending_transfers.values()),
    )


def _replay(state: ReplayState) -> ReplayImage:
    return ReplayImage(
        source=state.source, sha256=state.sha256, format=state.format,
        products=list(state.products), seed=state.seed, cancel_from=state.cancel_from,
        active=state.active, events=state.events, batches=state.batches, line=state.line,
        source_time=state.source_time, recorded_trades=state.recorded_trades,
        reproduced_trades=state.reproduced_trades, user_fills=state.user_fills,
        cancels_noop=state.cancels_noop, consumed=dict(state.consumed),
        synthetic=state.synthetic,
        debt=[(*key, size) for key, size in state.debt.items()],
        expected=[(*key, size) for key, size in state.expected.items()],
        finished=state.finished, ended_early=state.ended_early,
        mapping=list(state.mapping), speed=state.speed, halted_skipped=state.halted_skipped)


def _restore_replay(image: ReplayImage) -> ReplayState:
    state = ReplayState(image.source, image.sha256, image.format, tuple(image.products),
                        image.seed, image.cancel_from, tuple(image.mapping), image.speed)
    state.active, state.events, state.batches = image.active, image.events, image.batches
    state.finished, state.ended_early = image.finished, image.ended_early
    state.halted_skipped = image.halted_skipped
    state.line, state.source_time = image.line, image.source_time
    state.recorded_trades, state.reproduced_trades = (image.recorded_trades,
                                                      image.reproduced_trades)
    state.user_fills, state.cancels_noop = image.user_fills, image.cancels_noop
    state.consumed, state.synthetic = dict(image.consumed), image.synthetic
    state.debt = {(p, side, price): size for p, side, price, size in image.debt}
    state.expected = {(p, side, price): size for p, side, price, size in image.expected}
    return state


def _account(account: Account) -> AccountImage:
    return AccountImage(currency=account.currency, balance=account.balance, hold=account.hold)


def _levels(levels: dict[int, Level]) -> list[LevelImage]:
    return [LevelImage(price=price, orders=[o.id for o in level.live()])
            for price, level in levels.items()]


def _product(product: Product) -> ProductImage:
    return ProductImage(
        id=product.id, base_currency=product.base_currency,
        quote_currency=product.quote_currency, base_increment=product.base_increment,
        quote_increment=product.quote_increment, min_market_funds=product.min_market_funds,
        status=product.status, sequence=product.sequence, trade_id=product.trade_id,
        last_price=product.last_price, print_low=product.print_low,
        print_high=product.print_high, bids=_levels(product.book.bids),
        asks=_levels(product.book.asks),
        halted=None if product.halted is None else [
            o.id for o in product.halted if o.status is Status.PENDING])


def _profile(profile: Profile) -> ProfileImage:
    return ProfileImage(
        id=profile.id, user_id=profile.user_id, name=profile.name,
        maker_rate=profile.maker_rate, taker_rate=profile.taker_rate,
        created_at=profile.created_at,
        accounts=[_account(a) for a in profile.accounts.values()], active=profile.active)


def _order(order: Order) -> OrderImage:
    fields = order_fields(order)
    for name in _ACCOUNT_FIELDS:
        fields[name] = fields[name].currency
    return OrderImage(**fields)


# -- restore -------------------------------------------------------------------------------------
def restore(image: EngineImage) -> Engine:
    """A new engine in the state ``image`` describes, derived structures rebuilt.

    ``ValueError`` if the image is inconsistent (an order naming an unknown account, a level
    naming an order that is not live): such an image cannot come from an engine.
    """
    _check_supply(image)
    engine = Engine()
    engine.currencies.update((c.id, c) for c in image.currencies)
    engine.fee_accounts.update(
        (a.currency, Account(FEE_PROFILE_ID, a.currency, a.balance, a.hold))
        for a in image.fee_accounts)
    engine.supply.update(image.supply)
    engine.clock = image.clock
    engine._order_number = image.order_number
    engine._entry_id = image.entry_id
    engine.client_oid_dedup = image.client_oid_dedup
    if image.replay is not None:
        engine.replay = _restore_replay(image.replay)
    for p in image.profiles:
        profile = engine.profiles[p.id] = Profile(p.id, p.user_id, p.name, p.maker_rate,
                                                  p.taker_rate, p.created_at)
        profile.accounts.update(
            (a.currency, Account(p.id, a.currency, a.balance, a.hold)) for a in p.accounts)
        profile.active = p.active
    engine.conversions.update((c.id, c) for c in image.conversions)
    engine.reports.update((r.id, r) for r in image.reports)
    engine._archive.extend(_restore_order(engine, o) for o in image.archive)
    on_record = engine._live  # every order on record: the archived ones, then the live ones
    on_record.update((o.id, o) for o in engine._archive)
    on_record.update((o.id, _restore_order(engine, o)) for o in image.live)
    if len(on_record) != len(image.archive) + len(image.live):
        raise ValueError("an order id is on record twice")
    for p_image in image.products:
        engine.products[p_image.id] = _restore_product(engine, p_image)
    for transfer in image.transfers:
        if transfer.profile_id not in engine.profiles:
            raise ValueError(f"transfer {transfer.transfer_id}: unknown profile")
        engine.pending_transfers[transfer.transfer_id] = transfer
    _index(engine)
    return engine


def _restore_order(engine: Engine, image: OrderImage) -> Order:
    profile = engine.profiles.get(image.profile_id)
    if profile is None:
        raise ValueError(f"order {image.id}: unknown profile {image.profile_id}")
    fields = msgspec.structs.asdict(image)
    beyond = _beyond_bound(fields)
    if beyond is not None:
        raise ValueError(f"order {image.id}: {beyond}={fields[beyond]} is beyond the venue's "
                         f"bound (prices and sizes at most {unit_max}, funds at most "
                         f"{funds_max}, holds at most {supply_max} in the core's units: "
                         f"sandex.core.limits)")
    for name in _ACCOUNT_FIELDS:
        account = profile.accounts.get(fields[name])
        if account is None:
            raise ValueError(f"order {image.id}: no {fields[name]} account")
        fields[name] = account
    return Order(**fields)


def _check_supply(image: EngineImage) -> None:
    """``ValueError`` if a currency's supply, or an account's balance or hold, is beyond the
    venue's bound (``limits.supply_max``): the compiled core keeps them in 128-bit C fields."""
    accounts = [*image.fee_accounts, *(a for p in image.profiles for a in p.accounts)]
    for currency, supply in image.supply.items():
        if not supply <= supply_max:
            raise ValueError(f"{currency} supply {supply} is beyond the venue's bound of "
                             f"{supply_max} (1e-16 units: sandex.core.limits)")
    for account in accounts:
        for name, value in (("balance", account.balance), ("hold", account.hold)):
            if not 0 <= value <= supply_max:
                raise ValueError(f"an account's {account.currency} {name} {value} is beyond "
                                 f"the venue's bound of {supply_max} (sandex.core.limits)")


def _beyond_bound(fields: dict[str, Any]) -> str | None:
    """The first of an order's fields beyond the venue's bound (``limits``), or ``None``:
    the compiled core keeps an order's fill totals in 128-bit C fields, which the bound on
    its prices, sizes and funds keeps from overflowing. A market order's ``price`` is not
    bounded: order entry does not check it (nothing prices its fills: the makers' do)."""
    market = fields["type"] is OrderType.MARKET
    for name, bound in _BOUNDS:
        if market and name == "price":
            continue
        value = fields[name]
        if value is not None and not 0 <= value <= bound:
            return name
    return None


def _restore_product(engine: Engine, image: ProductImage) -> Product:
    product = Product(image.id, image.base_currency, image.quote_currency,
                      image.base_increment, image.quote_increment, image.min_market_funds,
                      image.status)
    product.sequence, product.trade_id = image.sequence, image.trade_id
    product.last_price = image.last_price
    product.print_low, product.print_high = image.print_low, image.print_high
    for levels in (image.bids, image.asks):
        for level in levels:
            for order_id in level.orders:
                order = engine._live.get(order_id)
                if order is None or order.status is not Status.OPEN or order.price != level.price:
                    raise ValueError(f"level {level.price} of {image.id}: {order_id} is not "
                                     "an open order at that price")
                product.book.add(order)
    if image.halted is not None:
        product.halted = []
        for order_id in image.halted:
            order = engine._live.get(order_id)
            if (order is None or order.status is not Status.PENDING
                    or order.product_id != image.id):
                raise ValueError(f"halted {image.id}: {order_id} is not a pending order of it")
            product.halted.append(order)
    return product


def _index(engine: Engine) -> None:
    """Rebuild what the orders on record imply: profiles' live orders and indexes, the stop
    books and the expiry heap (ties in the heaps break on the arrival number, as they did)."""
    for order in engine._archive:
        if order.client_oid is not None:
            engine.profiles[order.profile_id].by_client_oid[order.client_oid] = order
    live = [order for order in engine._live.values() if order.status is not Status.DONE]
    for order in live:
        profile = engine.profiles[order.profile_id]
        link(profile, order)
        accept_tally(order, profile)
        if order.client_oid is not None:
            profile.by_client_oid[order.client_oid] = order
        if order.expire_time is not None:
            engine._expiries.append((order.expire_time, order.number, order))
    heapify(engine._expiries)
    for order in sorted(live, key=_number):
        if order.status is Status.ACTIVE:
            engine.products[order.product_id].stops.add(order)


def _number(order: Order) -> int:
    return order.number
