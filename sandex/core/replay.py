"""Replayed liquidity: how a recorded market's changes become real orders of the venue.

A recording's changes arrive as ``ReplayBatch`` actions in venue units (``sandex.replay``
reads and maps the files). They are orders of one profile, ``replay`` (zero fees, funded
without limit, never listed to users, exempt from product minimums and the open-order
limit, trading with itself where the recording traded), so users' orders queue behind
them, consume them and are hit by them. The rules, for each action:

* ``add`` / ``market``: the recorded order is placed as recorded (its recorded id) and the
  engine makes the matches, so a recorded taker hits whatever is now best, perhaps a user's;
* ``cancel``: what is left of the order is canceled if it is still live, else nothing
  (consumed liquidity stays consumed; nothing is ever placed again);
* ``reduce``: the order shrinks by the recorded decrease, floored at 0, keeping its place;
* ``take``: a trade without order ids is an immediate-or-cancel order at its price;
* while a product's matching is halted (a fault), its actions are skipped and counted: the
  recorded market does not queue behind the halt (level 2 comes back at the next update);
* ``level`` / ``book`` (level 2): each level holds synthetic replay orders in time order. A
  level's target is the recorded size less its *debt* (what users took from it); more
  joins the back, less cancels from the back (``cancel_from = "front"``: the front). Users'
  orders at the level are never touched. A level recorded empty, or a new book, clears the
  debt.

The state of a replay (``ReplayState``) is part of the venue's state: snapshots keep it and a
journal replay rebuilds it, so a replay resumes where it was after a crash or a restore.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sandex.core.commands import (
    EndReplay,
    ReplayAction,
    ReplayAdd,
    ReplayBatch,
    ReplayBook,
    ReplayCancel,
    ReplayLevel,
    ReplayMarket,
    ReplayReduce,
    ReplayTake,
    StartReplay,
)
from sandex.core.events import Matched, ProfileCreated, reject
from sandex.core.funds import beyond_supply
from sandex.core.lifecycle import cancel
from sandex.core.limits import funds_max, unit_max
from sandex.core.matching import shrink
from sandex.core.model import (
    REPLAY_PROFILE_ID,
    Order,
    OrderType,
    Profile,
    Side,
    Status,
    Stp,
    TimeInForce,
)
from sandex.core.product import Product
from sandex.core.replay_state import Key, ReplayState
from sandex.core.state import State
from sandex.errors import Error
from sandex.units import SIZE_TO_AMOUNT

Accept = Callable[[Order, Product, Profile, int], None]
"""``Engine._accept``: announce an accepted order and match it (the engine passes it in, as
it imports this module)."""

REPLAY_USER_ID = "replay"
FUNDS = 10**34  # amount units in each currency: more than any recording can move
BUY, SELL = Side.BUY, Side.SELL
OPEN = Status.OPEN
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
DC = Stp.DC


def start(engine: State, cmd: StartReplay) -> None:
    if engine.replay is not None and engine.replay.active:
        engine._events.append(reject(Error.REPLAY_RUNNING))
        return
    missing = [p for p in cmd.products if p not in engine.products]
    if missing:
        engine._events.append(reject(Error.PRODUCT_NOT_FOUND))
        return
    profile = engine.profiles.get(REPLAY_PROFILE_ID)
    if profile is None:
        profile = engine.profiles[REPLAY_PROFILE_ID] = Profile(
            REPLAY_PROFILE_ID, REPLAY_USER_ID, "replay", 0, 0, cmd.time)
        engine._events.append(ProfileCreated(cmd.time, REPLAY_PROFILE_ID))
    for product_id in cmd.products:
        product = engine.products[product_id]
        for currency in (product.base_currency, product.quote_currency):
            account = profile.account(currency)
            if (account.balance < FUNDS // 2  # funded once per currency (and topped up),
                    and beyond_supply(engine, currency, FUNDS) is None):  # within the bound
                engine.supply[currency] = engine.supply.get(currency, 0) + FUNDS
                account.balance += FUNDS
    engine.replay = ReplayState(cmd.source, cmd.sha256, cmd.format, cmd.products, cmd.seed,
                                cmd.cancel_from, cmd.mapping, cmd.speed)


def end(engine: State, cmd: EndReplay) -> None:
    state = engine.replay
    if state is None or not state.active:
        engine._events.append(reject(Error.REPLAY_NOT_LOADED))
        return
    state.active, state.finished = False, cmd.finished
    if cmd.clear:
        profile = engine.profiles[REPLAY_PROFILE_ID]
        for order in list(profile.live.values()):
            cancel(engine, order, engine.products[order.product_id], None, cmd.time)
        state.expected.clear()
        state.debt.clear()


def batch(engine: State, cmd: ReplayBatch, accept: Accept) -> None:
    state = engine.replay
    if state is None or not state.active:
        engine._events.append(reject(Error.REPLAY_NOT_LOADED))
        return
    t = cmd.time
    products = engine.products
    for action in cmd.actions:
        product = products.get(action.product_id)
        if product is None:
            continue  # mapped to a product since removed: nothing to do
        if product.halted is not None:  # matching halted (a fault): the recorded market's
            state.halted_skipped += 1  # changes meanwhile are skipped, not queued
            continue
        _ACTIONS[type(action)](engine, accept, state, action, t)
    state.events += cmd.events
    state.batches += 1
    state.line, state.source_time = cmd.line, cmd.source_time
    state.recorded_trades += cmd.recorded_trades
    reproduced = user_fills = 0
    for event in engine._events:
        if type(event) is Matched:
            if event.maker_profile_id == REPLAY_PROFILE_ID:
                if event.taker_profile_id == REPLAY_PROFILE_ID:
                    reproduced += 1
            elif event.taker_profile_id == REPLAY_PROFILE_ID:
                user_fills += 1
    state.reproduced_trades += reproduced
    state.user_fills += user_fills


# -- level 3: recorded orders ----------------------------------------------------------------
def _add(engine: State, accept: Accept, state: ReplayState, action: ReplayAdd, t: int) -> None:
    order_id = action.order_id
    if order_id in engine._live:
        return  # a recording that names an order twice: the first stands
    size, price, side = action.size, action.price, action.side
    _place(engine, accept, engine.products[action.product_id], order_id, side, LIMIT, price,
           size, None, size * price if side is BUY else size * SIZE_TO_AMOUNT, t)


def _market(engine: State, accept: Accept, state: ReplayState, action: ReplayMarket,
            t: int) -> None:
    product = engine.products[action.product_id]
    order_id = action.order_id
    if order_id in engine._live or (
            action.size is None and action.funds is None):
        return
    profile = engine.profiles[REPLAY_PROFILE_ID]
    held_in = product.quote_currency if action.side is BUY else product.base_currency
    available = profile.account(held_in)
    if action.side is BUY:
        hold = action.funds if action.funds is not None else available.balance - available.hold
    else:
        hold = (action.size * SIZE_TO_AMOUNT if action.size is not None
                else available.balance - available.hold)
    _place(engine, accept, product, order_id, action.side, MARKET, None, action.size,
           action.funds, hold, t)


def _place(engine: State, accept: Accept, product: Product, order_id: str, side: Side,
           kind: OrderType, price: int | None, size: int | None, funds: int | None, hold: int,
           t: int, time_in_force: TimeInForce = TimeInForce.GTC) -> None:
    """Accept and match a replay order (no checks: the replay maps onto the increments), or
    skip one beyond the venue's bound (``limits``: a recording never comes near it)."""
    if ((price is not None and price > unit_max) or (size is not None and size > unit_max)
            or (funds is not None and funds > funds_max)):
        return
    profile = engine.profiles[REPLAY_PROFILE_ID]
    accounts = profile.accounts  # the replay's, made for each product's currencies by start
    base, quote = accounts.get(product.base_currency), accounts.get(product.quote_currency)
    if base is None or quote is None:  # a product the replay was not started on: made
        for currency in ((product.quote_currency, product.base_currency) if side is BUY
                         else (product.base_currency, product.quote_currency)):
            profile.account(currency)  # held first, then received, as ever
        base, quote = accounts[product.base_currency], accounts[product.quote_currency]
    number = engine._order_number = engine._order_number + 1
    order = Order(
        order_id, number, REPLAY_PROFILE_ID, product.id, side, kind, t, price,
        size, size, funds, funds, funds if kind is MARKET else None, time_in_force,
        None, False, DC, None, None, None, 0, 0, 0, quote if side is BUY else base,
        base if side is BUY else quote, hold)
    accept(order, product, profile, t)


def _cancel(engine: State, accept: Accept, state: ReplayState, action: ReplayCancel,
            t: int) -> None:
    order = engine._live.get(action.order_id)
    if order is None or order.profile_id != REPLAY_PROFILE_ID:
        if not action.filled:
            state.cancels_noop += 1
        return
    if action.filled:
        state.ended_early += 1  # its recorded taker hit something else (a user's order)
    cancel(engine, order, engine.products[order.product_id], None, t)


def _reduce(engine: State, accept: Accept, state: ReplayState, action: ReplayReduce,
            t: int) -> None:
    order = engine._live.get(action.order_id)
    if order is None or order.profile_id != REPLAY_PROFILE_ID or order.status is not OPEN:
        state.cancels_noop += 1
        return
    _shrink(engine, order, action.size, t)


def _shrink(engine: State, order: Order, by: int, t: int) -> None:
    """Take ``by`` off a resting replay order, keeping its place (all of it: cancel it)."""
    product = engine.products[order.product_id]
    remaining = order.remaining
    assert remaining is not None and order.price is not None  # a resting limit order
    if by >= remaining:
        cancel(engine, order, product, None, t)
        return
    level = (product.book.bids if order.side is BUY else product.book.asks)[order.price]
    level.size -= by
    shrink(engine, order, remaining - by, product, t, "modify_order")


# -- trades without order ids ------------------------------------------------------------------
def _take(engine: State, accept: Accept, state: ReplayState, action: ReplayTake, t: int) -> None:
    product = engine.products[action.product_id]
    maker_side = SELL if action.side is BUY else BUY
    key = (product.id, maker_side, action.price)
    debt = state.debt.get(key)
    if debt:  # the recorded market took this level: what users took is history's now
        _settle(engine, state, key)
        state.debt[key] = max(0, state.debt[key] - action.size)
    first = len(engine._events)
    hold = action.size * action.price if action.side is BUY else action.size * SIZE_TO_AMOUNT
    _place(engine, accept, product, _synthetic_id(state), action.side, OrderType.LIMIT,
           action.price, action.size, None, hold, t, TimeInForce.IOC)
    expected = state.expected
    for event in engine._events[first:]:  # what the take consumed of the replay's levels
        if type(event) is Matched and event.maker_profile_id == REPLAY_PROFILE_ID:
            level = (product.id, maker_side, event.price)
            if level in expected:
                expected[level] = max(0, expected[level] - event.size)


# -- level 2: synthetic orders ------------------------------------------------------------------
def _level(engine: State, accept: Accept, state: ReplayState, action: ReplayLevel, t: int) -> None:
    _set_level(engine, accept, state, engine.products[action.product_id], action.side, action.price,
               action.size, t)


def _book(engine: State, accept: Accept, state: ReplayState, action: ReplayBook, t: int) -> None:
    """A whole new book: every replay level set to it, decreases first (no transient cross)."""
    product = engine.products[action.product_id]
    for key in [k for k in state.debt if k[0] == product.id]:
        del state.debt[key]
    wanted: dict[tuple[Side, int], int] = {}
    for side, levels in ((BUY, product.book.bids), (SELL, product.book.asks)):
        for price, level in levels.items():
            if any(o.profile_id == REPLAY_PROFILE_ID for o in level.orders):
                wanted[(side, price)] = 0
    for side, pairs in ((BUY, action.bids), (SELL, action.asks)):
        for price, size in pairs:
            wanted[(side, price)] = size
    ordered = sorted(wanted.items(), key=lambda item: item[1] > _replay_size(
        product, item[0][0], item[0][1]))
    for (side, price), size in ordered:
        _set_level(engine, accept, state, product, side, price, size, t)


def _set_level(engine: State, accept: Accept, state: ReplayState, product: Product,
               side: Side, price: int, size: int, t: int) -> None:
    key = (product.id, side, price)
    current = _settle(engine, state, key)
    if size == 0:
        state.debt.pop(key, None)
    target = max(0, size - state.debt.get(key, 0))
    if target > current:
        hold = (target - current) * price if side is BUY else (target - current) * SIZE_TO_AMOUNT
        _place(engine, accept, product, _synthetic_id(state), side, OrderType.LIMIT, price,
               target - current, None, hold, t)
    elif target < current:
        _cancel_size(engine, state, product, side, price, current - target, t)
    after = _replay_size(product, side, price)
    if after:
        state.expected[key] = after
    else:
        state.expected.pop(key, None)


def _settle(engine: State, state: ReplayState, key: Key) -> int:
    """The replay's size at a level now; what users took since the replay last acted there
    becomes the level's debt."""
    product = engine.products[key[0]]
    current = _replay_size(product, key[1], key[2])
    taken = state.expected.get(key, 0) - current
    if taken > 0:
        state.debt[key] = state.debt.get(key, 0) + taken
        state.consumed[key[0]] = state.consumed.get(key[0], 0) + taken
    state.expected[key] = current
    return current


def _cancel_size(engine: State, state: ReplayState, product: Product, side: Side, price: int,
                 size: int, t: int) -> None:
    level = (product.book.bids if side is BUY else product.book.asks).get(price)
    if level is None:
        return
    orders = [o for o in level.orders if o.status is OPEN and o.profile_id == REPLAY_PROFILE_ID]
    if state.cancel_from != "front":
        orders.reverse()
    for order in orders:
        if size <= 0:
            break
        remaining = order.remaining
        assert remaining is not None
        _shrink(engine, order, min(size, remaining), t)
        size -= remaining


def _replay_size(product: Product, side: Side, price: int) -> int:
    level = (product.book.bids if side is BUY else product.book.asks).get(price)
    if level is None:
        return 0
    total = 0
    for order in level.orders:
        if order.status is OPEN and order.profile_id == REPLAY_PROFILE_ID:
            remaining = order.remaining
            assert remaining is not None
            total += remaining
    return total


def _synthetic_id(state: ReplayState) -> str:
    """The next synthetic order's id: a UUID made from the replay's seed and a number, so a
    replay of the journal makes the same ids."""
    state.synthetic += 1
    digest = bytearray(hashlib.blake2b(f"{state.seed}:{state.synthetic}".encode(),
                                       digest_size=16).digest())
    digest[6] = (digest[6] & 0x0F) | 0x40  # shaped as a version-4 UUID, as Coinbase's ids
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ACTIONS: dict[type[ReplayAction], Callable[[State, Accept, ReplayState, Any, int], None]] = {
    ReplayAdd: _add,
    ReplayMarket: _market,
    ReplayCancel: _cancel,
    ReplayReduce: _reduce,
    ReplayTake: _take,
    ReplayLevel: _level,
    ReplayBook: _book,
}
