"""The property harness: an engine, the state rebuilt from its events alone, and the checks
run after every single command.

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
* every order's status moves only as ``sandex.core.lifecycle.LIFECYCLE`` allows, each move
  announced by its event, and the engine's status is the one the events last entered;
* ``open``/``done``/``change`` agree with the rebuilt order state; the rebuilt book equals the
  engine's ``level3()``; ledger entries chain into the engine's balances; fee accounts equal
  the fees printed; purged orders are gone, done ones keep their fills;
* an order placed while its product's matching is halted stays ``pending``, off the book,
  until the resume matches it, in arrival order, as the taker it would have been then;
* GTT orders are gone once the clock passes their expiry; after a trade no stop that the last
  price triggers is left waiting; FOK orders untouched by STP fill all or nothing; STP
  cancels and decrements are what the taker's flag asks for (§4.9).

``replay`` checks that the same commands into a fresh engine give the same events, byte for
byte, and the same state hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import msgspec

from sandex.core import (
    Activated,
    AdvanceClock,
    CancelAll,
    CancelOrder,
    CancelReason,
    Changed,
    Command,
    CreateProfile,
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
    SetMatching,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
    check_invariants,
    ledger_entries,
    state_hash,
)
from sandex.core.lifecycle import ENTERED_BY, LIFECYCLE
from sandex.errors import Error

T0 = 1_700_000_000_000_000
SECOND = 1_000_000
COIN = 10**16  # one unit of any currency, in amount units
SIZE_TO_AMOUNT = 10**8
RATE_SCALE = 10**6
BUY, SELL = Side.BUY, Side.SELL
PENDING, OPEN, ACTIVE, DONE = Status.PENDING, Status.OPEN, Status.ACTIVE, Status.DONE
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET



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
    status: Status | None = None  # None until accepted; moves as LIFECYCLE allows
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
        return self.status is DONE and self.filled == 0


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
                      [o.id for o in product.stops.orders()],
                      None if product.halted is None else [
                          o.id for o in product.halted if o.status is PENDING]))
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
    moves: set[tuple[Status | None, Status]] = field(default_factory=set)  # lifecycle moves seen
    queue: list[str] = field(default_factory=list)  # a resume's queued orders, arrival order

    def __post_init__(self) -> None:
        self.hash = fingerprint(self.engine)

    # -- one command ---------------------------------------------------------------------------
    def step(self, cmd: Command) -> list[Event]:
        expected = self._expect_cancel(cmd)
        self.queue = self._resumed(cmd)
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
            return [o.id for o in self.orders.values()  # oldest first
                    if (o.status is OPEN or o.status is PENDING)
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
        if target.status is DONE:
            return ["ORDER_ALREADY_DONE"]
        return [target.id]

    def _resumed(self, cmd: Command) -> list[str]:
        """The orders a resume will match, in arrival order (none for any other command)."""
        if not isinstance(cmd, SetMatching) or cmd.halted:
            return []
        product = self.engine.products.get(cmd.product_id)
        if product is None or product.halted is None:
            return []
        return [o.id for o in self.orders.values()
                if o.status is PENDING and o.product_id == cmd.product_id]

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
            assert cmd.order_id not in self.orders or self.orders[cmd.order_id].status is DONE

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
        expire = cmd.time + cmd.cancel_after.seconds * SECOND if cmd.cancel_after \
            else cmd.expire_time
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
        if self.queue:
            self.taker = ""
        for event in events:
            if self.queue and (not self.taker or self.orders[self.taker].status is not PENDING):
                # the resume moved on to the next queued order still pending (a triggered
                # stop's ``received`` sets the taker itself)
                self.taker = next((i for i in self.queue if self.orders[i].status is PENDING),
                                  "")
            handler = getattr(self, f"_on_{type(event).__name__}", None)
            if handler is not None:
                handler(cmd, event)
            if not isinstance(event, LedgerEntry):
                self.previous = event

    def _move(self, order: Track, event: Event) -> None:
        """The status ``event`` announces, if ``LIFECYCLE`` allows the move to it."""
        status = ENTERED_BY[type(event)]
        move = (order.status, status)
        assert move in LIFECYCLE, f"{order.id}: {move[0]} -> {status} is not a lifecycle move"
        self.moves.add(move)
        order.status = status

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
        assert order.status is None and order.stop is e.stop_type
        assert e.stop_price == order.stop_price and e.price == order.price
        assert e.size == order.size and e.funds == order.funds
        self._move(order, e)

    def _on_Received(self, cmd: Command, e: Received) -> None:
        self._sequence(e.product_id, e.sequence)
        order = self.orders[e.order_id]
        if order.status is ACTIVE:  # a stop, triggered by a trade of this command
            # Stops fire in batches: each one the last price at the end of a taker's turn
            # triggers. Later trades of the batch may move the price back before a stop's
            # turn, so the test is "some trade of this command triggers it".
            stop_price = order.stop_price
            assert stop_price is not None
            assert any(p <= stop_price if order.stop is StopType.LOSS else p >= stop_price
                       for p in self.prices), f"stop {order.id} fired; trades {self.prices}"
        else:
            assert order.status is None and order.stop is None
        assert (e.product_id, e.profile_id, e.side, e.order_type) == (
            order.product_id, order.profile_id, order.side, order.type)
        assert e.size == order.size and e.funds == order.funds
        if order.type is LIMIT:
            assert e.price == order.price
        self._move(order, e)
        self.taker = order.id
        order.remaining = order.size
        order.funds_left = order.funds if order.type is MARKET else None

    def _on_Opened(self, cmd: Command, e: Opened) -> None:
        self._sequence(e.product_id, e.sequence)
        order = self.orders[e.order_id]
        assert order.status is PENDING and order.type is LIMIT
        assert order.tif in (TimeInForce.GTC, TimeInForce.GTT)
        assert e.price == order.price and e.remaining_size == order.remaining
        assert e.remaining_size > 0 and e.side is order.side
        self._book(e.product_id)[e.side].setdefault(e.price, []).append(e.order_id)
        self._move(order, e)

    def _on_Matched(self, cmd: Command, e: Matched) -> None:
        self._sequence(e.product_id, e.sequence)
        assert e.trade_id == self.trade_id.get(e.product_id, 0) + 1, "trade ids go up by one"
        self.trade_id[e.product_id] = e.trade_id
        maker, taker = self.orders[e.maker_order_id], self.orders[e.taker_order_id]
        assert maker.status is OPEN, f"maker {maker.id} is {maker.status}"
        assert taker.status is PENDING, f"taker {taker.id} is {taker.status}"
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
        assert e.reason == "STP" and order.status in (OPEN, PENDING)
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
            assert order.status is PENDING and order.funds_left == e.old_funds
            assert e.new_funds is not None and e.old_funds is not None
            assert 0 <= e.new_funds < e.old_funds
            order.funds_left = e.new_funds

    def _on_Done(self, cmd: Command, e: Done) -> None:
        order = self.orders[e.order_id]
        if e.sequence is None:
            assert order.status is ACTIVE, f"private done for a {order.status} order"
            assert e.reason is DoneReason.CANCELED
        else:
            self._sequence(e.product_id, e.sequence)
            assert order.status in (PENDING, OPEN), f"done for a {order.status} order"
        if order.status is OPEN:
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
        elif reason is None and isinstance(cmd, SetMatching):  # a post-only that would take
            product = self.engine.products[e.product_id]
            assert order.id in self.queue and order.status is PENDING and not order.filled
            assert order.post_only or product.status is ProductStatus.POST_ONLY
        elif reason is None:  # a user cancel
            assert isinstance(cmd, CancelOrder | CancelAll) and cmd.profile_id == e.profile_id
        elif reason is CancelReason.TIME_IN_FORCE:
            if isinstance(cmd, AdvanceClock):
                assert order.expire is not None and order.expire <= cmd.time
            else:
                assert order.status is PENDING and order.tif in (TimeInForce.IOC,
                                                                  TimeInForce.FOK)
        elif reason is CancelReason.SELF_TRADE_PREVENTION:
            self._stp_done(order)
        elif reason is CancelReason.INSUFFICIENT_LIQUIDITY:
            assert order.type is MARKET and order.status is PENDING
        self._move(order, e)
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
        assert order.status is OPEN and order.profile_id == taker.profile_id
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
            if track.status is DONE and track.filled == 0:
                assert order is None, f"{order_id} canceled without fills but not purged"
                continue
            assert order is not None, f"{order_id} missing"
            assert track.status is not PENDING or (
                engine.products[track.product_id].halted is not None
                and any(o is order for o in engine.products[track.product_id].halted)
            ), f"{order_id} neither rested nor finished"
            assert (order.filled_size, order.executed_value) == (track.filled, track.value)
            assert order.remaining == track.remaining or track.status is ACTIVE
            assert order.size is None or order.filled_size <= order.size
            assert order.status is track.status, f"{order_id} status"
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
                assert order.status not in (Status.OPEN, Status.PENDING) or (
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


