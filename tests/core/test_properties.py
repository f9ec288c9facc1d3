"""Property tests of the core: random command streams, checked after every single command.

``Harness`` applies commands to an ``Engine`` and, like a level-3 feed consumer, rebuilds
the book, the balances and every order's fills from the events alone. After each command it
checks:

* nothing raised; ``check_invariants`` holds (book not crossed, holds = live orders' holds,
  no negative available, every currency conserved);
* a ``Rejected`` is alone in its event list and the state hash did not move;
* per product, non-``None`` sequence numbers go up by exactly 1 and trade ids by 1 a match;
* each match is at the maker's price, the maker is the head of the best opposite level of
  the event-built book (price-time priority), the taker never trades beyond its limit, never
  as post-only, sizes stay within both orders, fees are the truncated products of the rates
  the orders were accepted with, funds orders never spend beyond their funds;
* ``open``/``done``/``change`` agree with the rebuilt order state; the rebuilt book equals the
  engine's ``level3()``; ledger entries chain into the engine's balances; fee accounts equal
  the fees printed; purged orders are gone, done ones keep their fills;
* GTT orders are gone once the clock passes their expiry; after a trade no stop that the last
  price triggers is left waiting; FOK orders untouched by STP fill all or nothing; STP
  cancels and decrements are what the taker's flag asks for (§4.9).

Replaying the same commands into a fresh engine gives the same events, byte for byte, and
the same state hash. Three drivers feed the harness: hypothesis streams, a seeded long run
and a fuzzer that builds every command type from arbitrary field values.

The bugs these tests found each have a minimal reproduction at the end of this file, kept
as a regression test now that they are fixed. A new bug gets the same treatment, marked
``xfail(strict=True)`` until it is fixed.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sandex.core import (
    Activated,
    AddCurrency,
    AddProduct,
    AdvanceClock,
    CancelAfter,
    CancelAll,
    CancelOrder,
    CancelReason,
    Changed,
    Command,
    CreateProfile,
    Deposit,
    Done,
    DoneReason,
    Duplicate,
    Engine,
    Event,
    FeesChanged,
    LedgerEntry,
    Matched,
    Opened,
    OrderType,
    PlaceOrder,
    ProductStatus,
    ProfileCreated,
    Received,
    Rejected,
    SetFees,
    SetProductStatus,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
    Transfer,
    Withdraw,
    check_invariants,
    ledger_entries,
    state_hash,
)
from sandex.errors import Error

T0 = 1_700_000_000_000_000
SECOND = 1_000_000
COIN = 10**16  # one unit of any currency, in amount units
SIZE_TO_AMOUNT = 10**8
RATE_SCALE = 10**6
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


# -- minimal reproductions of the bugs these tests found (see the tests at the end) ----------------
def _base_engine() -> Engine:
    """BTC-USD (0.01 BTC, 1 USD increments), profiles a and b, a sells 1 BTC at 100."""
    engine = Engine()
    engine.apply(AddProduct(time=T0, product_id="BTC-USD", base_currency="BTC",
                            quote_currency="USD", base_increment=10**6,
                            quote_increment=10**8, min_market_funds=0))
    for profile in ("a", "b"):
        engine.apply(CreateProfile(time=T0, profile_id=profile, user_id=profile, name=profile,
                                   maker_fee_rate=0, taker_fee_rate=0))
        for currency in ("USD", "BTC"):
            engine.apply(Deposit(time=T0, profile_id=profile, currency=currency,
                                 amount=1000 * COIN, transfer_id=f"{profile}-{currency}"))
    engine.apply(PlaceOrder(time=T0, order_id="ask", profile_id="a", product_id="BTC-USD",
                            side=SELL, price=100 * 10**8, size=10**8))
    return engine


def repro_market_fok() -> None:
    """A market order with ``time_in_force=FOK`` against a non-empty book."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b", product_id="BTC-USD",
                            side=BUY, type=MARKET, size=10**7, time_in_force=TimeInForce.FOK))
    check_invariants(engine)


def repro_market_post_only() -> None:
    """A market order with ``post_only=True`` against a non-empty book."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b", product_id="BTC-USD",
                            side=BUY, type=MARKET, size=10**7, post_only=True))
    check_invariants(engine)


def repro_funds_zero_fill() -> None:
    """A funds market buy whose funds cannot buy one base increment at the best ask."""
    engine = _base_engine()
    engine.apply(AddProduct(time=T0, product_id="ETH-USD", base_currency="ETH",
                            quote_currency="USD", base_increment=10**8,  # 1 ETH
                            quote_increment=10**8, min_market_funds=0))
    engine.apply(Deposit(time=T0, profile_id="a", currency="ETH", amount=10 * COIN,
                         transfer_id="a-eth"))
    engine.apply(PlaceOrder(time=T0, order_id="ask-eth", profile_id="a", product_id="ETH-USD",
                            side=SELL, price=100 * 10**8, size=10**8))
    events = engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b",
                                     product_id="ETH-USD", side=BUY, type=MARKET,
                                     funds=50 * COIN))  # 50 USD; one ETH costs 100
    done = [e for e in events if isinstance(e, Done)]
    assert done and done[-1].reason is DoneReason.CANCELED, events  # no fill: not "filled"
    assert "m" not in engine.orders  # canceled with no fills: purged (§4.3)
    check_invariants(engine)


def repro_reject_moves_state() -> None:
    """A post-only order that would cross is refused, yet the state hash moves."""
    engine = _base_engine()
    before = state_hash(engine)
    events = engine.apply(PlaceOrder(time=T0, order_id="p", profile_id="b",
                                     product_id="BTC-USD", side=BUY, price=100 * 10**8,
                                     size=10**6, post_only=True))
    assert isinstance(events[0], Rejected) and events[0].reason == "POST_ONLY_MODE"
    assert state_hash(engine) == before


def repro_reject_creates_account() -> None:
    """A refused withdrawal of a currency the profile never held leaves an account behind."""
    engine = _base_engine()
    engine.apply(AddCurrency(time=T0, currency="ETH", name="Ether", min_size=0))
    before = state_hash(engine)
    events = engine.apply(Withdraw(time=T0, profile_id="a", currency="ETH", amount=COIN,
                                   transfer_id="w"))
    assert isinstance(events[0], Rejected) and events[0].reason == "INSUFFICIENT_FUNDS"
    assert "ETH" not in engine.profiles["a"].accounts
    assert state_hash(engine) == before


def repro_post_only_stop_takes() -> None:
    """A post-only stop-limit order must never take liquidity (now refused at entry)."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="s", profile_id="b", product_id="BTC-USD",
                            side=SELL, price=99 * 10**8, size=10**6, post_only=True,
                            stop=StopType.LOSS, stop_price=100 * 10**8))  # no bid: accepted
    engine.apply(PlaceOrder(time=T0, order_id="bid", profile_id="a", product_id="BTC-USD",
                            side=BUY, price=99 * 10**8, size=10**6))
    events = engine.apply(PlaceOrder(time=T0, order_id="t", profile_id="b",
                                     product_id="BTC-USD", side=BUY, price=100 * 10**8,
                                     size=10**6))  # trades at 100: the loss stop triggers
    takers = [e.taker_order_id for e in events if isinstance(e, Matched)]
    assert "s" not in takers, "post-only order traded as taker"


def repro_order_reject_creates_accounts() -> None:
    """An order refused for insufficient funds leaves empty accounts behind."""
    engine = _base_engine()
    engine.apply(CreateProfile(time=T0, profile_id="c", user_id="c", name="c",
                               maker_fee_rate=0, taker_fee_rate=0))  # no deposits: no accounts
    before = state_hash(engine)
    events = engine.apply(PlaceOrder(time=T0, order_id="x", profile_id="c",
                                     product_id="BTC-USD", side=BUY, price=99 * 10**8,
                                     size=10**6))
    assert isinstance(events[0], Rejected) and events[0].reason == "INSUFFICIENT_FUNDS"
    assert engine.profiles["c"].accounts == {}, engine.profiles["c"].accounts
    assert state_hash(engine) == before


# -- the harness ---------------------------------------------------------------------------------
@dataclass
class Track:
    """One order as rebuilt from the events (plus the command that placed it)."""

    id: str
    product_id: str
    profile_id: str
    side: Side
    type: OrderType
    price: int | None
    size: int | None
    funds: int | None  # as in ``received``: net funds for market buys
    tif: TimeInForce
    post_only: bool
    stop: StopType | None
    stop_price: int | None
    expire: int | None
    maker_rate: int
    taker_rate: int
    stage: str = "new"  # active (untriggered stop), received (taking), open, done
    remaining: int | None = None
    funds_left: int | None = None
    filled: int = 0
    value: int = 0
    client_oid: str | None = None
    stp_mode: Stp = Stp.DC
    stp_makers: int = 0  # resting orders STP canceled while this order was the taker

    @property
    def purged(self) -> bool:
        """Canceled with no fills: gone from the record (§4.3)."""
        return self.stage == "done" and self.filled == 0


FULL_HASH_MAX_ORDERS = 150


def fingerprint(engine: Engine) -> str:
    """``state_hash``; once the engine keeps many done orders, a cheaper digest instead.

    ``state_hash`` renders every order on record, done ones included, so hashing it after
    each of thousands of commands is quadratic. The quick digest covers everything a command
    can change except done orders' fields (which no refused command reaches): products,
    books, stops, every profile's rates, accounts and live orders, counters and the number
    of orders on record.
    """
    if len(engine.orders) <= FULL_HASH_MAX_ORDERS:
        return state_hash(engine)
    parts: list[object] = []
    for product in sorted(engine.products.values(), key=lambda p: p.id):
        parts.append((product.id, product.status, product.sequence, product.trade_id,
                      product.last_price, product.book.level3(),
                      [o.id for o in product.stops.orders()]))
    for profile in sorted(engine.profiles.values(), key=lambda p: p.id):
        parts.append((profile.id, profile.maker_rate, profile.taker_rate,
                      sorted((a.currency, a.balance, a.hold) for a in profile.accounts.values()),
                      [(o.id, o.status, o.remaining, o.funds_remaining, o.hold, o.filled_size,
                        o.executed_value, o.fill_fees) for o in profile.live.values()],
                      sorted(profile.open_count.items()), len(profile.by_client_oid)))
    parts.append((sorted((c, a.balance) for c, a in engine.fee_accounts.items()),
                  sorted(engine.supply.items()), engine.clock, engine._entry_id,
                  engine._order_number, len(engine.orders)))
    return "quick:" + hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass
class Harness:
    """An engine, the state rebuilt from its events, and the checks run after each command."""

    engine: Engine = field(default_factory=Engine)
    commands: list[Command] = field(default_factory=list)
    events: list[list[Event]] = field(default_factory=list)
    orders: dict[str, Track] = field(default_factory=dict)
    books: dict[str, dict[Side, dict[int, list[str]]]] = field(default_factory=dict)
    sequence: dict[str, int] = field(default_factory=dict)
    trade_id: dict[str, int] = field(default_factory=dict)
    last_price: dict[str, int] = field(default_factory=dict)
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    fees: dict[str, int] = field(default_factory=dict)
    rates: dict[str, tuple[int, int]] = field(default_factory=dict)
    entry_id: int = 0
    prices: list[int] = field(default_factory=list)  # trade prices of the current command
    taker: str = ""  # the order that received last: the one matching now
    previous: Event | None = None  # the event before the current one (ledger entries aside)
    client_oids: dict[tuple[str, str], str] = field(default_factory=dict)  # latest on record
    hash: str = ""

    def __post_init__(self) -> None:
        self.hash = fingerprint(self.engine)

    # -- one command ---------------------------------------------------------------------------
    def step(self, cmd: Command) -> list[Event]:
        expected = self._expect_cancel(cmd)
        try:
            events = self.engine.apply(cmd)
        except Exception as exc:
            raise AssertionError(f"{cmd!r} raised {exc!r}") from exc
        self.commands.append(cmd)
        self.events.append(events)
        where = f"command #{len(self.commands) - 1} {cmd!r}"
        if expected is not None:
            assert [e.reason if isinstance(e, Rejected) else e.order_id  # type: ignore[attr-defined]
                    for e in events] == expected, f"{where}: expected {expected}, got {events}"
        if any(isinstance(e, Rejected) for e in events):
            self._rejected(cmd, events)
            return events
        if isinstance(cmd, PlaceOrder) and cmd.client_oid is not None:
            prior = self.client_oids.get((cmd.profile_id, cmd.client_oid))
            assert (events == [Duplicate(cmd.time, prior, cmd.profile_id)] if prior else
                    not isinstance(events[0], Duplicate)), f"{where}: exactly-once: {events}"
            if prior:
                assert fingerprint(self.engine) == self.hash, f"{where}: a retry changed state"
                return events
        self.prices = []
        try:
            self._events(cmd, events)
            check_invariants(self.engine)
            self._compare(cmd, events)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}\nevents: {events!r}") from exc
        self.hash = fingerprint(self.engine)
        return events

    def _expect_cancel(self, cmd: Command) -> list[str] | None:
        """What a cancel must do, from the rebuilt state: the ids of the orders it cancels,
        in order, or the name of its reject."""
        if isinstance(cmd, CancelAll):
            if cmd.profile_id not in self.engine.profiles:
                return []
            if cmd.product_id is not None and cmd.product_id not in self.engine.products:
                return ["PRODUCT_NOT_FOUND_CANCEL_ALL"]
            return [o.id for o in self.orders.values() if o.stage == "open"  # oldest first
                    and o.profile_id == cmd.profile_id
                    and cmd.product_id in (None, o.product_id)
                    and self.engine.products[o.product_id].status is not ProductStatus.DISABLED]
        if not isinstance(cmd, CancelOrder):
            return None
        if cmd.client_oid is not None:  # by client_oid: the latest order on record with it
            target = self.orders.get(self.client_oids.get((cmd.profile_id, cmd.client_oid), ""))
        else:
            target = self.orders.get(cmd.order_id or "")
            if target is not None and (target.profile_id != cmd.profile_id or target.purged):
                target = None
        if target is None or cmd.product_id not in (None, target.product_id):
            return ["ORDER_NOT_FOUND"]
        if self.engine.products[target.product_id].status is ProductStatus.DISABLED:
            return ["TRADING_DISABLED"]
        if target.stage == "done":
            return ["ORDER_ALREADY_DONE"]
        return [target.id]

    def _rejected(self, cmd: Command, events: list[Event]) -> None:
        assert len(events) == 1, f"{cmd!r}: a reject must be alone: {events!r}"
        reject = events[0]
        assert isinstance(reject, Rejected) and reject.reason in Error.__members__
        template = Error[reject.reason].template
        assert reject.message == template or "{}" in template
        assert fingerprint(self.engine) == self.hash, (
            f"{cmd!r} was rejected ({reject.reason}) but changed state")
        check_invariants(self.engine)
        if isinstance(cmd, PlaceOrder):
            assert cmd.order_id not in self.orders or self.orders[cmd.order_id].stage == "done"

    # -- rebuilding state from the events ------------------------------------------------------
    def _book(self, product_id: str) -> dict[Side, dict[int, list[str]]]:
        book = self.books.get(product_id)
        if book is None:
            book = self.books[product_id] = {BUY: {}, SELL: {}}
        return book

    def _sequence(self, product_id: str, sequence: int | None) -> None:
        if sequence is None:
            return
        last = self.sequence.get(product_id, 0)
        assert sequence == last + 1, f"{product_id} sequence {sequence} after {last}"
        self.sequence[product_id] = sequence

    def _new_track(self, cmd: PlaceOrder) -> Track:
        product = self.engine.products[cmd.product_id]
        size = cmd.size
        if cmd.type is LIMIT and size is None:
            assert cmd.funds is not None and cmd.price is not None
            size = cmd.funds // cmd.price
            size -= size % product.base_increment
        maker_rate, taker_rate = self.rates[cmd.profile_id]
        funds = cmd.funds
        if cmd.type is MARKET and cmd.side is BUY and funds is not None:
            funds = funds * RATE_SCALE // (RATE_SCALE + taker_rate)
            funds -= funds % 10**8
        limit = cmd.type is LIMIT  # time in force and post-only mean nothing to market orders
        expire = cmd.time + cmd.cancel_after.seconds * SECOND if cmd.cancel_after else None
        return Track(cmd.order_id, cmd.product_id, cmd.profile_id, cmd.side, cmd.type,
                     cmd.price, size, funds, cmd.time_in_force if limit else TimeInForce.GTC,
                     cmd.post_only and limit, cmd.stop, cmd.stop_price,
                     expire if limit else None, maker_rate, taker_rate, remaining=size,
                     client_oid=cmd.client_oid, stp_mode=cmd.stp)

    def _events(self, cmd: Command, events: list[Event]) -> None:
        if isinstance(cmd, PlaceOrder):
            first = events[0]
            assert isinstance(first, Received | Activated) and first.order_id == cmd.order_id
            assert cmd.order_id not in self.orders, "order ids are unique in these streams"
            self.orders[cmd.order_id] = self._new_track(cmd)
            if cmd.client_oid is not None:
                self.client_oids[cmd.profile_id, cmd.client_oid] = cmd.order_id
        if isinstance(cmd, CancelOrder | CancelAll):
            assert all(isinstance(e, Done) and e.reason is DoneReason.CANCELED
                       and e.cancel_reason is None for e in events), "a cancel only cancels"
        self.previous = None
        for event in events:
            handler = getattr(self, f"_on_{type(event).__name__}", None)
            if handler is not None:
                handler(cmd, event)
            if not isinstance(event, LedgerEntry):
                self.previous = event

    def _on_ProfileCreated(self, cmd: Command, e: ProfileCreated) -> None:
        assert isinstance(cmd, CreateProfile)
        self.rates[e.profile_id] = (cmd.maker_fee_rate, cmd.taker_fee_rate)

    def _on_FeesChanged(self, cmd: Command, e: FeesChanged) -> None:
        self.rates[e.profile_id] = (e.maker_fee_rate, e.taker_fee_rate)

    def _on_LedgerEntry(self, cmd: Command, e: LedgerEntry) -> None:
        assert e.entry_id == self.entry_id + 1, "ledger entry ids go up by one"
        self.entry_id = e.entry_id
        key = (e.profile_id, e.currency)
        balance = self.balances.get(key, 0) + e.amount
        assert e.balance == balance, f"ledger {key}: {e.balance} != {balance}"
        self.balances[key] = balance

    def _on_Activated(self, cmd: Command, e: Activated) -> None:
        order = self.orders[e.order_id]
        assert order.stage == "new" and order.stop is e.stop_type
        assert e.stop_price == order.stop_price and e.price == order.price
        assert e.size == order.size and e.funds == order.funds
        order.stage = "active"

    def _on_Received(self, cmd: Command, e: Received) -> None:
        self._sequence(e.product_id, e.sequence)
        order = self.orders[e.order_id]
        if order.stage == "active":  # a stop, triggered by a trade of this command
            # Stops fire in batches: each one the last price at the end of a taker's turn
            # triggers. Later trades of the batch may move the price back before a stop's
            # turn, so the test is "some trade of this command triggers it".
            stop_price = order.stop_price
            assert stop_price is not None
            assert any(p <= stop_price if order.stop is StopType.LOSS else p >= stop_price
                       for p in self.prices), f"stop {order.id} fired; trades {self.prices}"
        else:
            assert order.stage == "new" and order.stop is None
        assert (e.product_id, e.profile_id, e.side, e.order_type) == (
            order.product_id, order.profile_id, order.side, order.type)
        assert e.size == order.size and e.funds == order.funds
        if order.type is LIMIT:
            assert e.price == order.price
        order.stage = "received"
        self.taker = order.id
        order.remaining = order.size
        order.funds_left = order.funds if order.type is MARKET else None

    def _on_Opened(self, cmd: Command, e: Opened) -> None:
        self._sequence(e.product_id, e.sequence)
        order = self.orders[e.order_id]
        assert order.stage == "received" and order.type is LIMIT
        assert order.tif in (TimeInForce.GTC, TimeInForce.GTT)
        assert e.price == order.price and e.remaining_size == order.remaining
        assert e.remaining_size > 0 and e.side is order.side
        self._book(e.product_id)[e.side].setdefault(e.price, []).append(e.order_id)
        order.stage = "open"

    def _on_Matched(self, cmd: Command, e: Matched) -> None:
        self._sequence(e.product_id, e.sequence)
        assert e.trade_id == self.trade_id.get(e.product_id, 0) + 1, "trade ids go up by one"
        self.trade_id[e.product_id] = e.trade_id
        maker, taker = self.orders[e.maker_order_id], self.orders[e.taker_order_id]
        assert maker.stage == "open", f"maker {maker.id} is {maker.stage}"
        assert taker.stage == "received", f"taker {taker.id} is {taker.stage}"
        assert maker.side is e.side and taker.side is not maker.side
        assert (e.maker_profile_id, e.taker_profile_id) == (maker.profile_id, taker.profile_id)
        assert maker.profile_id != taker.profile_id, "self trade"
        assert e.price == maker.price, "trade not at the maker's price"
        levels = self._book(e.product_id)[maker.side]
        best = max(levels) if maker.side is BUY else min(levels)
        assert e.price == best, f"trade at {e.price} while the best level is {best}"
        assert levels[best][0] == maker.id, "maker is not first in time at the best price"
        if taker.type is LIMIT:
            assert taker.price is not None
            assert e.price <= taker.price if taker.side is BUY else e.price >= taker.price, (
                "taker traded beyond its limit")
        assert not taker.post_only, "a post-only order took liquidity"
        increment = self.engine.products[e.product_id].base_increment
        assert e.size > 0 and e.size % increment == 0
        assert maker.remaining is not None and e.size <= maker.remaining
        assert taker.remaining is None or e.size <= taker.remaining
        notional = e.price * e.size
        assert (e.maker_fee_rate, e.taker_fee_rate) == (maker.maker_rate, taker.taker_rate)
        assert e.maker_fee == notional * maker.maker_rate // RATE_SCALE
        assert e.taker_fee == notional * taker.taker_rate // RATE_SCALE
        quote = self.engine.products[e.product_id].quote_currency
        self.fees[quote] = self.fees.get(quote, 0) + e.maker_fee + e.taker_fee
        self.last_price[e.product_id] = e.price
        self.prices.append(e.price)
        for order in (maker, taker):
            if order.remaining is not None:
                order.remaining -= e.size
            if order.funds_left is not None:
                order.funds_left -= notional
                assert order.funds_left >= 0, f"{order.id} spent beyond its funds"
            order.filled += e.size
            order.value += notional
            assert order.size is None or order.filled <= order.size
        if taker.type is LIMIT and taker.side is BUY and taker.funds is not None:
            assert taker.value <= taker.funds, "limit buy with funds spent beyond its funds"
        product = self.engine.products[e.product_id]
        for entry in ledger_entries(e, product.base_currency, product.quote_currency):
            self._on_LedgerEntry(cmd, entry)  # the trade's settlement chains into the ledger

    def _on_Changed(self, cmd: Command, e: Changed) -> None:
        self._sequence(e.product_id, e.sequence)
        order = self.orders[e.order_id]
        assert e.reason == "STP" and order.stage in ("open", "received")
        taker = self.orders[self.taker]
        assert taker.stp_mode is Stp.DC, f"change under stp={taker.stp_mode}"
        assert order.profile_id == taker.profile_id
        if order.id != taker.id and taker.remaining is not None:  # dc: maker bigger
            assert e.old_size is not None and e.new_size is not None
            assert e.old_size - e.new_size == taker.remaining, "maker not cut by taker size"
        if e.old_size is not None:
            assert e.new_size is not None and e.old_size == order.remaining
            assert 0 < e.new_size < e.old_size
            order.remaining = e.new_size
        else:
            assert order.stage == "received" and order.funds_left == e.old_funds
            assert e.new_funds is not None and e.old_funds is not None
            assert 0 <= e.new_funds < e.old_funds
            order.funds_left = e.new_funds

    def _on_Done(self, cmd: Command, e: Done) -> None:
        order = self.orders[e.order_id]
        if e.sequence is None:
            assert order.stage == "active", f"private done for a {order.stage} order"
            assert e.reason is DoneReason.CANCELED
        else:
            self._sequence(e.product_id, e.sequence)
            assert order.stage in ("received", "open"), f"done for a {order.stage} order"
        if order.stage == "open":
            level = self._book(e.product_id)[order.side][order.price]  # type: ignore[index]
            level.remove(order.id)
            if not level:
                del self._book(e.product_id)[order.side][order.price]  # type: ignore[index]
        assert e.reason is DoneReason.CANCELED or order.filled, "'filled' without a fill"
        if order.type is LIMIT:
            assert e.price == order.price and e.remaining_size == order.remaining
            assert (e.reason is DoneReason.FILLED) == (order.remaining == 0)
        else:
            assert e.price is None and e.remaining_size is None
            if e.reason is DoneReason.FILLED:
                assert order.remaining == 0 or order.funds_left is not None
        reason = e.cancel_reason
        if e.reason is DoneReason.FILLED:
            assert reason is None
        elif reason is None:  # a user cancel
            assert isinstance(cmd, CancelOrder | CancelAll) and cmd.profile_id == e.profile_id
        elif reason is CancelReason.TIME_IN_FORCE:
            if isinstance(cmd, AdvanceClock):
                assert order.expire is not None and order.expire <= cmd.time
            else:
                assert order.stage == "received" and order.tif in (TimeInForce.IOC,
                                                                  TimeInForce.FOK)
        elif reason is CancelReason.SELF_TRADE_PREVENTION:
            self._stp_done(order)
        elif reason is CancelReason.INSUFFICIENT_LIQUIDITY:
            assert order.type is MARKET and order.stage == "received"
        order.stage = "done"
        key = (order.profile_id, order.client_oid or "")
        if order.purged and self.client_oids.get(key) == order.id:
            del self.client_oids[key]

    def _stp_done(self, order: Track) -> None:
        """An STP cancel must be what the taker's flag asks for (§4.9)."""
        taker = self.orders[self.taker]
        mode = taker.stp_mode
        if order.id == taker.id:
            assert mode is not Stp.CO, "stp=co canceled the taker"
            if mode is Stp.CN:
                assert taker.stp_makers == 0, "stp=cn canceled a resting order"
            if mode is Stp.CB:
                assert taker.stp_makers == 1, "stp=cb must cancel one resting order and the taker"
            if mode is Stp.DC and taker.remaining is not None:  # the smaller side goes
                before = self.previous
                assert isinstance(before, Changed | Done) and before.order_id != taker.id and (
                    isinstance(before, Changed)
                    or before.cancel_reason is CancelReason.SELF_TRADE_PREVENTION), (
                    "stp=dc canceled the taker without touching the resting order")
            return
        assert order.stage == "open" and order.profile_id == taker.profile_id
        assert mode is not Stp.CN, "stp=cn canceled a resting order"
        taker.stp_makers += 1
        if mode is Stp.DC and taker.remaining is not None:
            assert order.remaining is not None and order.remaining <= taker.remaining, (
                "stp=dc canceled the larger resting order")

    # -- comparing the rebuilt state with the engine -------------------------------------------
    def _compare(self, cmd: Command, events: list[Event]) -> None:
        engine = self.engine
        for product_id, product in engine.products.items():
            book = self._book(product_id)
            bids = [(p, self.orders[i].remaining, i) for p in sorted(book[BUY], reverse=True)
                    for i in book[BUY][p]]
            asks = [(p, self.orders[i].remaining, i) for p in sorted(book[SELL])
                    for i in book[SELL][p]]
            assert product.book.level3() == (bids, asks), f"{product_id}: book differs"
            assert product.sequence == self.sequence.get(product_id, 0)
            assert product.trade_id == self.trade_id.get(product_id, 0)
            assert product.last_price == self.last_price.get(product_id)
        for (profile_id, currency), balance in self.balances.items():
            assert engine.profiles[profile_id].accounts[currency].balance == balance
        for currency, account in engine.fee_accounts.items():
            assert account.balance == self.fees.get(currency, 0), f"fee account {currency}"
        touched = {e.order_id for e in events if isinstance(e, Received | Opened | Done
                                                           | Changed | Activated)}
        touched |= {e.maker_order_id for e in events if isinstance(e, Matched)}
        for order_id in touched:
            track = self.orders[order_id]
            order = engine.orders.get(order_id)
            if track.stage == "done" and track.filled == 0:
                assert order is None, f"{order_id} canceled without fills but not purged"
                continue
            assert order is not None, f"{order_id} missing"
            assert track.stage != "received", f"{order_id} neither rested nor finished"
            assert (order.filled_size, order.executed_value) == (track.filled, track.value)
            assert order.remaining == track.remaining or track.stage == "active"
            assert order.size is None or order.filled_size <= order.size
            expected = {"active": Status.ACTIVE, "open": Status.OPEN, "done": Status.DONE}
            assert order.status is expected[track.stage], f"{order_id} status"
        if isinstance(cmd, AdvanceClock):
            for profile in engine.profiles.values():
                for order in profile.live.values():
                    assert order.expire_time is None or order.expire_time > engine.clock, (
                        f"{order.id} outlived its expiry")
        traded = {e.product_id for e in events if isinstance(e, Matched)}
        for product_id in traded:
            last = engine.products[product_id].last_price
            assert last is not None
            for stop in engine.products[product_id].stops.orders():
                assert stop.stop_price is not None
                fires = (last <= stop.stop_price if stop.stop is StopType.LOSS
                         else last >= stop.stop_price)
                assert not fires, f"stop {stop.id} left waiting at last price {last}"
        owner = engine.profiles.get(cmd.profile_id) if isinstance(cmd, CancelAll) else None
        if owner is not None:
            for order in owner.live.values():
                assert order.status is not Status.OPEN or (
                    cmd.product_id not in (None, order.product_id)
                    or engine.products[order.product_id].status is ProductStatus.DISABLED)
        if not any(isinstance(e, Changed) or (isinstance(e, Done) and e.cancel_reason
                   is CancelReason.SELF_TRADE_PREVENTION) for e in events):
            for e in events:
                if isinstance(e, Done) and self.orders[e.order_id].tif is TimeInForce.FOK:
                    fok = self.orders[e.order_id]
                    assert fok.filled in (0, fok.size), f"FOK {fok.id} filled {fok.filled}"


def replay(commands: list[Command], recorded: list[list[Event]], final: Engine) -> None:
    """A fresh engine fed the same commands says the same, byte for byte."""
    engine = Engine()
    encode = msgspec.json.encode
    for index, (cmd, events) in enumerate(zip(commands, recorded, strict=True)):
        again = engine.apply(cmd)
        assert [encode(e) for e in again] == [encode(e) for e in events], (
            f"replay differs at command #{index} {cmd!r}")
    assert state_hash(engine) == state_hash(final), "replay ends in another state"


# -- the command streams -------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    base: str
    quote: str
    base_inc: int
    quote_inc: int
    min_funds: int
    mid: int
    funds: tuple[int, ...]  # funds choices, in quote increments


PRODUCTS = {
    # 0.01 BTC and 1 USD increments around 100 USD: nine ticks, books cross all the time
    "BTC-USD": Spec("BTC", "USD", 10**6, 10**8, COIN, 100 * 10**8, (2, 5, 20, 60, 150)),
    # 0.001 ETH and 0.00000007 BTC increments around 0.05 BTC: BTC is quote here and base
    # above; the odd quote increment makes notionals whose fees truncate
    "ETH-BTC": Spec("ETH", "BTC", 10**5, 7, COIN // 10**5, 714_285 * 7,
                    (1_500, 5_000, 20_000, 60_000, 200_000)),
}
PRODUCT_IDS = list(PRODUCTS)
CURRENCIES = ["USD", "BTC", "ETH"]
PROFILES = ["p0", "p1", "p2", "p3", "p4"]  # p4 starts with no accounts at all
PROFILE_RATES = [(0, 0), (1000, 2000), (3999, 6001), (2500, 1337), (1500, 2500)]
DEPOSITS = {"USD": 3000 * COIN, "BTC": 30 * COIN, "ETH": 300 * COIN}
LOTS = (1, 3, 10, 30, 100)  # sizes, in base increments

ODD = ["zero_size", "neg_size", "fine_size", "huge_size", "zero_price", "neg_price",
       "fine_price", "huge_price", "no_price", "size_and_funds", "no_amount", "zero_funds",
       "neg_funds", "fine_funds", "unknown_product", "unknown_profile", "stop_no_price",
       "stop_price_no_stop", "gtt_no_ca", "ca_no_gtt", "post_only_ioc", "market_with_price",
       "huge_funds", "stop_huge_price", "tiny_funds", "market_fok", "market_post_only"]

KINDS = (["place"] * 20 + ["cancel"] * 4 + ["advance", "status", "fees", "deposit",
                                             "withdraw", "transfer", "cancel_all"])
FIELDS: dict[str, list[Any]] = {
    "product": [0, 1],
    "profile": [0, 1, 2, 3, 0, 1, 2, 3, 4],
    "side": [BUY, SELL],
    "type": [LIMIT, LIMIT, LIMIT, MARKET],
    "tick": [0, 1, -1, 2, -2, 3, -3, 4, -4],
    "lots": list(range(len(LOTS))),
    "funds": [0, 1, 2, 3, 4],
    "amount_mode": ["size", "size", "size", "funds", "both"],
    "tif": [TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTT],
    "cancel_after": ["min", "hour", "day"],
    "post_only": [False] * 5 + [True],
    "stp": [Stp.DC, Stp.CO, Stp.CN, Stp.CB],
    "stop": [None] * 6 + [StopType.LOSS, StopType.ENTRY],
    "stop_tick": [0, 1, -1, 2, -2, 3, -3],
    "client_oid": [None, None, "c0", "c1", "c2"],
    "odd": [None] * 5 * len(ODD) + ODD,
    "back": list(range(12)),
    "owner": [True, True, True, False],
    "by_oid": [False, False, True],
    "scope": [None, None, "right", "wrong", "unknown"],
    "cancel_all_product": [None, 0, 1, "NOPE-USD"],
    "seconds": [1, 30, 61, 600, 3601, 86401, 0, 0, -1],  # 0: onto the next expiry
    "rates": [(0, 0), (1000, 2000), (5000, 5000), (2999, 7), (0, 10000), (10000, 0), (-1, 5),
              (1_000_000, 0), (999_999, 999_999)],
    "currency": ["USD", "BTC", "ETH", "XYZ"],
    "amount": [COIN, 500 * COIN, 7, 0, -COIN, 10**40],
    "status": [ProductStatus.ONLINE] * 6 + [ProductStatus.POST_ONLY, ProductStatus.LIMIT_ONLY,
                                            ProductStatus.CANCEL_ONLY, ProductStatus.DISABLED],
    "status_product": [0, 1, "NOPE-USD"],
    "to_profile": [0, 1, 2, 3, 4, "ghost"],
}

Abstract = tuple[str, dict[str, Any]]


def setup_commands() -> list[Command]:
    out: list[Command] = []
    for product_id, spec in PRODUCTS.items():
        out.append(AddProduct(time=T0, product_id=product_id, base_currency=spec.base,
                              quote_currency=spec.quote, base_increment=spec.base_inc,
                              quote_increment=spec.quote_inc, min_market_funds=spec.min_funds))
    for profile, (maker, taker) in zip(PROFILES, PROFILE_RATES, strict=True):
        out.append(CreateProfile(time=T0, profile_id=profile, user_id=f"u-{profile}",
                                 name=profile, maker_fee_rate=maker, taker_fee_rate=taker))
        for currency in CURRENCIES if profile != "p4" else ():
            out.append(Deposit(time=T0, profile_id=profile, currency=currency,
                               amount=DEPOSITS[currency], transfer_id=f"d-{profile}-{currency}"))
    return out


@dataclass
class Placed:
    id: str
    profile_id: str
    product_id: str
    client_oid: str | None
    expire: int | None  # GTT expiry time


@dataclass
class Concretizer:
    """Turns abstract commands into stamped commands, like the sequencer would."""

    now: int = T0
    clock: int = 0
    placed: list[Placed] = field(default_factory=list)

    def __call__(self, kind: str, f: dict[str, Any]) -> Command:
        self.now += 1
        return getattr(self, kind)(f)

    def place(self, f: dict[str, Any]) -> Command:
        product_id = PRODUCT_IDS[f["product"]]
        spec = PRODUCTS[product_id]
        profile = PROFILES[f["profile"]]
        otype: OrderType = f["type"]
        price: int | None = spec.mid + f["tick"] * spec.quote_inc
        size: int | None = LOTS[f["lots"]] * spec.base_inc
        funds: int | None = spec.funds[f["funds"]] * spec.quote_inc * SIZE_TO_AMOUNT
        mode = f["amount_mode"]
        if mode == "size" or (mode == "both" and otype is LIMIT):
            funds = None
        elif mode == "funds":
            size = None
        tif: TimeInForce = f["tif"] if otype is LIMIT else TimeInForce.GTC
        cancel_after = f["cancel_after"] if tif is TimeInForce.GTT else None
        post_only = f["post_only"] and otype is LIMIT and tif in (TimeInForce.GTC,
                                                                   TimeInForce.GTT)
        stop = f["stop"]
        stop_price = None if stop is None else spec.mid + f["stop_tick"] * spec.quote_inc
        if otype is MARKET:
            price = None
        odd = f["odd"]
        if odd is not None:
            odd_values = {
                "zero_size": {"size": 0, "funds": None},
                "neg_size": {"size": -spec.base_inc, "funds": None},
                "fine_size": {"size": spec.base_inc + 1, "funds": None},
                "huge_size": {"size": 10**30 * spec.base_inc, "funds": None},
                "zero_price": {"price": 0},
                "neg_price": {"price": -spec.quote_inc},
                "fine_price": {"price": (price or spec.mid) + 1},
                "huge_price": {"price": 10**30 * spec.quote_inc},
                "no_price": {"price": None},
                "size_and_funds": {"size": spec.base_inc * 10,
                                   "funds": 10 * spec.quote_inc * SIZE_TO_AMOUNT},
                "no_amount": {"size": None, "funds": None},
                "zero_funds": {"size": None, "funds": 0},
                "neg_funds": {"size": None, "funds": -spec.quote_inc * SIZE_TO_AMOUNT},
                "fine_funds": {"size": None, "funds": spec.quote_inc * SIZE_TO_AMOUNT + 1},
                "huge_funds": {"size": None, "funds": 10**30 * spec.quote_inc * SIZE_TO_AMOUNT},
                "tiny_funds": {"size": None, "funds": spec.quote_inc * SIZE_TO_AMOUNT},
                "unknown_product": {"product_id": "NOPE-USD"},
                "unknown_profile": {"profile_id": "ghost"},
                "stop_no_price": {"stop": StopType.LOSS, "stop_price": None},
                "stop_price_no_stop": {"stop": None, "stop_price": spec.mid},
                "stop_huge_price": {"stop": StopType.LOSS, "stop_price": 10**30 * spec.quote_inc},
                "gtt_no_ca": {"time_in_force": TimeInForce.GTT, "cancel_after": None},
                "ca_no_gtt": {"time_in_force": TimeInForce.GTC, "cancel_after": "min"},
                "post_only_ioc": {"time_in_force": TimeInForce.IOC, "post_only": True},
                "market_with_price": {"type": MARKET, "price": spec.mid, "post_only": False,
                                      "time_in_force": TimeInForce.GTC, "cancel_after": None},
                "market_fok": {"type": MARKET, "time_in_force": TimeInForce.FOK},
                "market_post_only": {"type": MARKET, "post_only": True},
            }[odd]
        else:
            odd_values = {}
        fields: dict[str, Any] = {
            "time": self.now, "order_id": f"o{len(self.placed)}", "profile_id": profile,
            "product_id": product_id, "side": f["side"], "type": otype, "price": price,
            "size": size, "funds": funds, "time_in_force": tif, "cancel_after": cancel_after,
            "post_only": post_only, "stp": f["stp"], "stop": stop, "stop_price": stop_price,
            "client_oid": f["client_oid"],
        }
        fields.update(odd_values)
        if fields["type"] is MARKET and odd not in ("market_fok", "market_post_only"):
            # only those two odd values put post_only / FOK on a market order (known bugs)
            fields["post_only"] = False
            if fields["time_in_force"] is TimeInForce.FOK:
                fields["time_in_force"] = TimeInForce.GTC
        ca = fields["cancel_after"]
        expire = None if ca is None else self.now + CancelAfter(ca).seconds * SECOND
        self.placed.append(Placed(fields["order_id"], fields["profile_id"],
                                  fields["product_id"], fields["client_oid"], expire))
        return msgspec.convert(fields, PlaceOrder)

    def cancel(self, f: dict[str, Any]) -> Command:
        if not self.placed:
            return CancelOrder(time=self.now, profile_id=PROFILES[f["profile"]],
                               order_id="unknown")
        target = self.placed[-1 - f["back"] % len(self.placed)]
        profile = target.profile_id if f["owner"] else PROFILES[f["profile"]]
        scope = {None: None, "right": target.product_id, "unknown": "NOPE-USD",
                 "wrong": next(p for p in PRODUCT_IDS if p != target.product_id)}[f["scope"]]
        if f["by_oid"] and target.client_oid is not None:
            return CancelOrder(time=self.now, profile_id=profile, client_oid=target.client_oid,
                               product_id=scope)
        return CancelOrder(time=self.now, profile_id=profile, order_id=target.id,
                           product_id=scope)

    def cancel_all(self, f: dict[str, Any]) -> Command:
        product = f["cancel_all_product"]
        product_id = PRODUCT_IDS[product] if isinstance(product, int) else product
        return CancelAll(time=self.now, profile_id=PROFILES[f["profile"]], product_id=product_id)

    def advance(self, f: dict[str, Any]) -> Command:
        seconds = f["seconds"]
        if seconds < 0:  # backwards: refused
            return AdvanceClock(time=self.clock - 1)
        if seconds == 0:  # exactly onto the next GTT expiry, if any
            upcoming = [p.expire for p in self.placed if p.expire and p.expire > self.now]
            self.now = min(upcoming, default=self.now)
        self.now += seconds * SECOND
        self.clock = self.now
        return AdvanceClock(time=self.now)

    def status(self, f: dict[str, Any]) -> Command:
        product = f["status_product"]
        product_id = PRODUCT_IDS[product] if isinstance(product, int) else product
        return SetProductStatus(time=self.now, product_id=product_id, status=f["status"])

    def fees(self, f: dict[str, Any]) -> Command:
        maker, taker = f["rates"]
        return SetFees(time=self.now, profile_id=PROFILES[f["profile"]], maker_fee_rate=maker,
                       taker_fee_rate=taker)

    def _profile(self, value: int | str) -> str:
        return PROFILES[value] if isinstance(value, int) else value

    def deposit(self, f: dict[str, Any]) -> Command:
        return Deposit(time=self.now, profile_id=self._profile(f["to_profile"]),
                       currency=f["currency"], amount=f["amount"], transfer_id=f"t{self.now}")

    def withdraw(self, f: dict[str, Any]) -> Command:
        return Withdraw(time=self.now, profile_id=self._profile(f["to_profile"]),
                        currency=f["currency"], amount=f["amount"], transfer_id=f"t{self.now}")

    def transfer(self, f: dict[str, Any]) -> Command:
        return Transfer(time=self.now, from_profile_id=PROFILES[f["profile"]],
                        to_profile_id=self._profile(f["to_profile"]), currency=f["currency"],
                        amount=f["amount"], transfer_id=f"t{self.now}")


def concretize(stream: list[Abstract]) -> list[Command]:
    make = Concretizer()
    return [make(kind, f) for kind, f in stream]


def random_stream(rng: random.Random, n: int) -> list[Abstract]:
    return [(rng.choice(KINDS), {k: rng.choice(v) for k, v in FIELDS.items()})
            for _ in range(n)]


abstract_commands = st.tuples(
    st.sampled_from(KINDS),
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()}),
)


def run_stream(commands: list[Command], check_replay: bool = True) -> Harness:
    """Apply the set-up and ``commands`` through a harness, then replay them."""
    harness = Harness()
    for cmd in setup_commands():
        harness.step(cmd)
    for cmd in commands:
        harness.step(cmd)
    if check_replay:
        replay(harness.commands, harness.events, harness.engine)
    return harness


# -- the property tests ----------------------------------------------------------------------------
@settings(max_examples=500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(abstract_commands, min_size=1, max_size=60))
def test_random_streams_keep_every_property(stream: list[Abstract]) -> None:
    commands = concretize(stream)
    note("\n".join(repr(c) for c in commands))
    run_stream(commands)


SEEDS = [int(s) for s in os.environ.get("SANDEX_SEEDS", "20240611").split(",")]


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_long_run(seed: int) -> None:
    """20,000 commands from one seed (``SANDEX_SEEDS=1,2,3`` to try others).

    Four engines of 5,000 commands each: done orders with fills stay on record for good, and
    ``check_invariants`` walks them all after every command, so one engine for all 20,000
    would cost quadratic time without testing anything more.
    """
    rng = random.Random(seed)
    matches = 0
    for run in range(4):
        commands = concretize(random_stream(rng, 5_000))
        try:
            harness = run_stream(commands)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, run {run}: {exc}") from exc
        matches += sum(isinstance(e, Matched) for events in harness.events for e in events)
    print(f"seed {seed}: 20000 commands, {matches} matches")


# -- fuzz: every command type, arbitrary field values -------------------------------------------
ints = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([10**5, 10**6, 10**7, 10**8, 50 * 10**5, 100 * 10**8, COIN, 10**13,
                     2**63 - 1, 2**63, -(2**63), 10**40, -(10**40)]),
    st.integers(-(2**70), 2**70),
)
texts = st.one_of(st.sampled_from(["", "BTC-USD", "ETH-BTC", "USD", "BTC", "ETH", "p0", "p1",
                                   "o0", "o1", "c0", "NOPE-USD", "-", "BTC-", "venue-fees"]),
                  st.text(max_size=8))


def mostly(plausible: list[Any], wild: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three parts values the engine may accept, one part anything: a command that is
    refused at its first field tests little past that field."""
    sane = st.sampled_from(plausible)
    return st.integers(0, 3).flatmap(lambda k: sane if k else wild)


def grid(spec: Spec) -> list[int]:
    return [spec.mid + k * spec.quote_inc for k in range(-4, 5)]


PRICES = grid(PRODUCTS["BTC-USD"]) + grid(PRODUCTS["ETH-BTC"])
SIZES = [lots * spec.base_inc for spec in PRODUCTS.values() for lots in LOTS]
FUNDS = [n * spec.quote_inc * SIZE_TO_AMOUNT for spec in PRODUCTS.values() for n in spec.funds]
ORDER_IDS = [f"o{i}" for i in range(12)]  # the orders of ``_fuzz_state``
CLIENT_OIDS = [f"c{i}" for i in range(5)]

profile_ids = mostly(PROFILES, texts)
product_ids = mostly(PRODUCT_IDS, texts)
currencies = mostly(CURRENCIES, texts)
amounts = mostly([COIN, 10 * COIN, 10**12], ints)
rates = mostly([0, 1, 1000, 2500, 999_999], ints)
times = st.one_of(st.integers(T0, T0 + 10**12), ints)

fuzz_commands = st.one_of(
    st.builds(PlaceOrder, time=times, order_id=texts, profile_id=profile_ids,
              product_id=product_ids, side=st.sampled_from(Side),
              type=st.sampled_from(OrderType), price=st.one_of(st.none(), mostly(PRICES, ints)),
              size=st.one_of(st.none(), mostly(SIZES, ints)),
              funds=st.one_of(st.none(), st.none(), mostly(FUNDS, ints)),
              time_in_force=st.sampled_from(TimeInForce),
              cancel_after=st.one_of(st.none(), st.sampled_from(CancelAfter)),
              post_only=st.booleans(), stp=st.sampled_from(Stp),
              stop=st.one_of(st.none(), st.none(), st.sampled_from(StopType)),
              stop_price=st.one_of(st.none(), mostly(PRICES, ints)),
              client_oid=st.one_of(st.none(), mostly(CLIENT_OIDS, texts))),
    st.builds(CancelOrder, time=times, profile_id=profile_ids,
              order_id=st.one_of(st.none(), mostly(ORDER_IDS, texts)),
              client_oid=st.one_of(st.none(), st.none(), mostly(CLIENT_OIDS, texts)),
              product_id=st.one_of(st.none(), product_ids)),
    st.builds(CancelAll, time=times, profile_id=profile_ids,
              product_id=st.one_of(st.none(), product_ids)),
    st.builds(AdvanceClock, time=times),
    st.builds(AddCurrency, time=times, currency=texts, name=texts, min_size=ints),
    st.builds(AddProduct, time=times, product_id=texts, base_currency=texts,
              quote_currency=texts, base_increment=ints, quote_increment=ints,
              min_market_funds=ints, status=st.sampled_from(ProductStatus)),
    st.builds(SetProductStatus, time=times, product_id=product_ids,
              status=st.sampled_from(ProductStatus)),
    st.builds(CreateProfile, time=times, profile_id=texts, user_id=texts, name=texts,
              maker_fee_rate=rates, taker_fee_rate=rates),
    st.builds(SetFees, time=times, profile_id=profile_ids, maker_fee_rate=rates,
              taker_fee_rate=rates),
    st.builds(Deposit, time=times, profile_id=profile_ids, currency=currencies,
              amount=amounts, transfer_id=texts),
    st.builds(Withdraw, time=times, profile_id=profile_ids, currency=currencies,
              amount=amounts, transfer_id=texts),
    st.builds(Transfer, time=times, from_profile_id=profile_ids, to_profile_id=profile_ids,
              currency=currencies, amount=amounts, transfer_id=texts),
)



def _order(product_id: str, profile_id: str, side: Side, otype: OrderType, lots: int,
           tick: int, funds: int | None, wild: dict[str, Any], tif: TimeInForce, stp: Stp,
           stop: StopType | None, t: int) -> PlaceOrder:
    spec = PRODUCTS[product_id]
    fields: dict[str, Any] = {
        "price": None if otype is MARKET else spec.mid + tick * spec.quote_inc,
        "size": None if funds is not None else lots * spec.base_inc,
        "funds": funds, "time_in_force": tif, "stp": stp, "stop": stop,
        "cancel_after": CancelAfter.MIN if tif is TimeInForce.GTT else None,
        "stop_price": None if stop is None else spec.mid + tick * spec.quote_inc,
    }
    fields.update(wild)  # one or two fields with anything in them
    return PlaceOrder(time=t, order_id="", profile_id=profile_id, product_id=product_id,
                      side=side, type=otype, **fields)


# Orders that are valid but for a field or two: they get past validation into the matching.
fuzz_orders = st.builds(
    _order, st.sampled_from(PRODUCT_IDS), st.sampled_from(PROFILES), st.sampled_from(Side),
    st.sampled_from(OrderType), st.sampled_from(LOTS), st.integers(-4, 4),
    st.one_of(st.none(), st.none(), st.sampled_from(FUNDS)),
    st.dictionaries(st.sampled_from(["price", "size", "funds", "stop_price"]),
                    st.one_of(st.none(), ints), max_size=2),
    st.sampled_from(TimeInForce), st.sampled_from(Stp),
    st.one_of(st.none(), st.none(), st.sampled_from(StopType)), st.integers(T0, T0 + 10**12))

# A product built from fuzzed currencies and increments (AddProduct needs a matching id).
fuzz_products = st.builds(
    lambda base, quote, b, q, m, s: AddProduct(
        time=T0, product_id=f"{base}-{quote}", base_currency=base, quote_currency=quote,
        base_increment=b, quote_increment=q, min_market_funds=m, status=s),
    st.sampled_from(["BTC", "ETH", "XRP", ""]), st.sampled_from(["USD", "BTC", "EUR"]),
    st.one_of(st.just(1), ints), st.one_of(st.just(1), ints), ints,
    st.sampled_from(ProductStatus))


def _fuzz_state() -> tuple[Harness, list[Command]]:
    """Some state to fuzz against: books on both products, stops, a GTT order, a fill."""
    make = Concretizer()
    stream: list[Abstract] = []
    base = {k: v[0] for k, v in FIELDS.items()}
    for i, (side, tick) in enumerate([(BUY, -1), (SELL, 1), (BUY, -2), (SELL, 2), (BUY, 1)]):
        for product in (0, 1):
            stream.append(("place", base | {"side": side, "tick": tick, "product": product,
                                            "profile": i % 4, "lots": i % 3,
                                            "client_oid": f"c{i}"}))
    stream.append(("place", base | {"side": SELL, "stop": StopType.LOSS, "stop_tick": -3,
                                    "profile": 2}))
    stream.append(("place", base | {"tif": TimeInForce.GTT, "tick": -3, "profile": 3}))
    return Harness(), setup_commands() + [make(kind, f) for kind, f in stream]


@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(st.lists(st.one_of(fuzz_commands, fuzz_commands, fuzz_orders, fuzz_products),
                min_size=1, max_size=12))
def test_fuzzed_commands_never_raise_and_keep_invariants(commands: list[Command]) -> None:
    harness, prefix = _fuzz_state()
    for cmd in prefix:
        harness.step(cmd)
    # order ids come from the sequencer and are unique: make the fuzzed ones so
    commands = [msgspec.structs.replace(c, order_id=f"fz{i}:{c.order_id}")
                if isinstance(c, PlaceOrder) else c for i, c in enumerate(commands)]
    note("\n".join(repr(c) for c in commands))
    for cmd in commands:
        harness.step(cmd)
    replay(harness.commands, harness.events, harness.engine)


# -- focused: a size-only market buy holds the whole balance (§4.8) -------------------------------
@settings(max_examples=300, deadline=None, database=None)
@given(balance=st.one_of(st.integers(1, 400).map(lambda n: n * COIN),
                         st.integers(10**14, 400 * COIN)),
       taker_rate=st.sampled_from([0, 1, 2500, 6001, 250_000, 999_999]),
       asks=st.lists(st.tuples(st.integers(0, 6), st.integers(1, 60)), min_size=1, max_size=6),
       lots=st.integers(1, 400))
def test_size_only_market_buy_spends_at_most_its_balance(
        balance: int, taker_rate: int, asks: list[tuple[int, int]], lots: int) -> None:
    """It buys until its size, the book or its balance (fees included) runs out, and never
    spends more than the balance."""
    spec = PRODUCTS["BTC-USD"]
    harness = Harness()
    commands: list[Command] = [
        AddProduct(time=T0, product_id="BTC-USD", base_currency="BTC", quote_currency="USD",
                   base_increment=spec.base_inc, quote_increment=spec.quote_inc,
                   min_market_funds=spec.min_funds),
        CreateProfile(time=T0, profile_id="seller", user_id="s", name="s", maker_fee_rate=0,
                      taker_fee_rate=0),
        CreateProfile(time=T0, profile_id="buyer", user_id="b", name="b", maker_fee_rate=0,
                      taker_fee_rate=taker_rate),
        Deposit(time=T0, profile_id="seller", currency="BTC", amount=1000 * COIN,
                transfer_id="s"),
        Deposit(time=T0, profile_id="buyer", currency="USD", amount=balance, transfer_id="b"),
    ]
    commands += [PlaceOrder(time=T0, order_id=f"ask{i}", profile_id="seller",
                            product_id="BTC-USD", side=SELL,
                            price=spec.mid + tick * spec.quote_inc, size=n * spec.base_inc)
                 for i, (tick, n) in enumerate(asks)]
    for cmd in commands:
        harness.step(cmd)
    events = harness.step(PlaceOrder(time=T0, order_id="m", profile_id="buyer",
                                     product_id="BTC-USD", side=BUY, type=MARKET,
                                     size=lots * spec.base_inc))
    usd = harness.engine.profiles["buyer"].accounts["USD"]
    assert 0 <= usd.balance <= balance and usd.hold == 0
    done = [e for e in events if isinstance(e, Done) and e.order_id == "m"]
    if done and done[0].cancel_reason is CancelReason.INSUFFICIENT_FUNDS:
        best = harness.engine.products["BTC-USD"].book.best_ask()
        assert best is not None, "ran out of funds with nothing left to buy"
        notional = best * spec.base_inc
        cost = notional + notional * taker_rate // RATE_SCALE
        assert cost > usd.balance, "stopped for funds while one more increment was affordable"


# -- bugs found by these tests ---------------------------------------------------------------------
# All fixed while these tests were written (a251a5a, 89078eb); kept as regression tests.
def test_regression_market_order_with_fok_does_not_raise() -> None:
    """Was: ``Engine._fok_fillable`` compared level prices with the market order's ``None``."""
    repro_market_fok()


def test_regression_market_order_with_post_only_does_not_raise() -> None:
    """Was: ``Engine._place``'s post-only check compared the best price with ``None``."""
    repro_market_post_only()


def test_regression_funds_market_order_without_fill_is_canceled() -> None:
    """Was: done 'filled' with no fill, kept on record: ``check_invariants`` failed."""
    repro_funds_zero_fill()


def test_regression_post_only_reject_changes_nothing() -> None:
    """Was: ``_new_order`` consumed an order number before the post-only reject."""
    repro_reject_moves_state()


def test_regression_refused_withdrawal_creates_no_account() -> None:
    """Was: ``admin._movement_target`` created the account before the funds check."""
    repro_reject_creates_account()


def test_regression_triggered_post_only_stop_does_not_take() -> None:
    """Was: a post-only stop-limit order, once triggered, traded as taker."""
    repro_post_only_stop_takes()


def test_regression_refused_order_creates_no_account() -> None:
    """Was: ``Engine._new_order`` created the quote and base accounts before the funds check."""
    repro_order_reject_creates_accounts()
