"""The engine: one deterministic state machine, ``apply(command) -> events``.

No I/O, clock or randomness: time and ids come in the commands. A command is either refused
with a single ``Rejected`` event (and nothing changed), or applied in full. The same commands
always give the same events, bit for bit. Adapters read state through the public attributes
(``products``, ``profiles``, ``orders``, ``currencies``, ``fee_accounts``) and never write it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import cython
from msgspec.structs import astuple

from sandex.core import account_admin, admin, funds, modify, replay
from sandex.core.book import Book, Level
from sandex.core.commands import (
    AddAddress,
    AddCurrency,
    AddProduct,
    AdvanceClock,
    CancelAll,
    CancelOrder,
    Command,
    Convert,
    CreateProfile,
    CreateReport,
    DeactivateProfile,
    DeleteAddress,
    Deposit,
    EndReplay,
    ModifyOrder,
    PlaceOrder,
    PutEntry,
    RenameProfile,
    ReplayBatch,
    SetFees,
    SetMatching,
    SetProductStatus,
    SetVenue,
    StartReplay,
    StartTransfer,
    Transfer,
    Withdraw,
)
from sandex.core.events import (
    Activated,
    ClockAdvanced,
    Duplicate,
    Event,
    ProductUpdated,
    reject,
)
from sandex.core.holds import (
    buy_hold,
    hold_rate,
    limit_buy_hold,
    net_funds,
    plain_notional,
)
from sandex.core.lifecycle import cancel, close, rest
from sandex.core.limits import level_dead_slots_max, open_orders_per_product_max
from sandex.core.matching import RESTS, take
from sandex.core.model import (
    REPLAY_PROFILE_ID,
    CancelReason,
    DoneReason,
    OrderType,
    ProductStatus,
    Side,
    Status,
    Stp,
    TimeInForce,
)
from sandex.core.product import Product
from sandex.core.records import (
    Account,
    Order,
    Profile,
    Tally,
    accept_tally,
    link,
    new_order,
    unlink,
)
from sandex.core.state import State
from sandex.core.validation import check_order, is_plain_market
from sandex.errors import Error
from sandex.units import SIZE_TO_AMOUNT

if cython.compiled:  # a command's fields read from its slots (slots.pxd)
    from cython.cimports.sandex.core.slots import field, holds, offset
else:
    from sandex.core.slots import field, holds, offset

if cython.compiled:  # C 128-bit amounts (wide.pxd)
    from cython.cimports.sandex.core.wide import (
        NO_UNIT,
        NOTIONAL_BOUND,
        div_scale,
        event_int,
        small,
        to_int,
        unit,
        wide,
    )
    from cython.cimports.sandex.core.wide import SIZE_TO_AMOUNT as WIDE_SIZE_TO_AMOUNT
else:
    from sandex.core.wide import (
        NO_UNIT,
        NOTIONAL_BOUND,
        div_scale,
        event_int,
        small,
        to_int,
        unit,
        wide,
    )
    from sandex.core.wide import SIZE_TO_AMOUNT as WIDE_SIZE_TO_AMOUNT

if cython.compiled:  # a level's queue by the deque's own C functions (fifo.pxd)
    from cython.cimports.sandex.core.fifo import bind, push

    bind(deque, deque.append, deque.popleft)
else:
    from sandex.core.fifo import push

if cython.compiled:  # the events list kept from one command to the next (kept.pxd)
    from cython.cimports.cpython.object import PyObject
    from cython.cimports.sandex.core.kept import kept_list
if cython.compiled:  # a new Order's fields written once (made.pxd)
    from cython.cimports.sandex.core.made import OrderSlots, put
    from cython.cimports.sandex.core.records import blank_order

if cython.compiled:  # ids compared from their hashes first (text.pxd)
    from cython.cimports.sandex.core.text import same, same_id
else:
    from sandex.core.text import same, same_id

if cython.compiled:  # the best price's and the owner's common case inline (peek.pxd)
    from cython.cimports.sandex.core.peek import best_ask_of, best_bid_of, level_at, owner_of
else:
    from sandex.core.peek import best_ask_of, best_bid_of, level_at, owner_of

if cython.compiled:  # the hot events built from their slots, or a replay's notes (emit.py)
    from cython.cimports.sandex.core.emit import emit_done, emit_opened, emit_received
else:
    from sandex.core.emit import emit_done, emit_opened, emit_received

BUY = Side.BUY
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
PENDING, OPEN, ACTIVE, DONE = Status.PENDING, Status.OPEN, Status.ACTIVE, Status.DONE
CANCELED = DoneReason.CANCELED
FOK, IOC = TimeInForce.FOK, TimeInForce.IOC
POST_ONLY, DISABLED = ProductStatus.POST_ONLY, ProductStatus.DISABLED
ONLINE = ProductStatus.ONLINE
GTC = TimeInForce.GTC
# compiled, the names above and below are C globals (engine.pxd): each read is a load, not a
# versioned lookup in the module's dict (~10 instructions and a reference each)
_PLACE_ORDER, _CANCEL_ORDER = PlaceOrder, CancelOrder
_OPEN_MAX = open_orders_per_product_max  # compiled, a C integer
_SIZE_TO_AMOUNT = SIZE_TO_AMOUNT
_FEE_RATE_BOUND = 1 << 20  # a fee rate's in the inline hold (``holds.buy_hold``'s)
# compiled, a C integer (engine.pxd): the cancel's compaction test stays in C
_DEAD_SLOTS_MAX = level_dead_slots_max
# where a PlaceOrder's and a CancelOrder's fields are stored, in their fields' order (slots.pxd;
# compiled, C integers: engine.pxd)
_PLACE = tuple(offset(PlaceOrder, name) for name in PlaceOrder.__struct_fields__)
_CANCEL = tuple(offset(CancelOrder, name) for name in CancelOrder.__struct_fields__)


@cython.locals(n=wide)
def _c_notional(p64: int, s64: int, i64: int, b64: int, m: int) -> int:
    """The C branch ``notional_of`` and ``notional_in`` share (compiled only; a C function,
    ``engine.pxd``, which GCC inlines in both): -1 for a price or size off its increment
    (64-bit remainders, as ``plain_notional``'s) or a notional below the minimum funds
    ``m``, else the notional ``size * price`` (below 2**106: in ``wide``)."""
    if p64 < i64 or s64 < b64:
        return -1
    if p64 % i64 or s64 % b64:
        return -1
    n = s64
    n *= p64
    return -1 if n < m else n


@cython.locals(m=wide, p64=cython.longlong, s64=cython.longlong, i64=cython.longlong,
               b64=cython.longlong, m64=cython.longlong)
def notional_of(price: object, size: object, increment: object, base_increment: object,
                min_funds: object) -> wide:
    """``holds.plain_notional`` as a ``wide``, -1 for its ``None``: the fast path's guard and
    its buy's hold without a Python int made for the notional and read back (compiled, the
    same C branch, inline; else ``plain_notional`` itself, whose notional is at most
    ``unit_max**2`` = 10**36, so a ``wide``). A test checks the two agree.

    Compiled, the four operands are read from their digits by ``unit`` (an exact int below
    2**53 in magnitude, else ``NO_UNIT``), one test each where ``small`` and Cython's generic
    128-bit conversion were two; ``plain_notional``'s C branch takes no case this one
    leaves (its operands below 2**53 are these; any other it answers ``None``, -1 here)."""
    if cython.compiled:
        p64, s64 = unit(price), unit(size)
        i64, b64 = unit(increment), unit(base_increment)
        if p64 != NO_UNIT and s64 != NO_UNIT and i64 > 0 and b64 > 0:
            m64 = unit(min_funds)
            if m64 != NO_UNIT or small(min_funds):
                if m64 != NO_UNIT:  # noqa: SIM108 (a C int and an object: no ternary)
                    m = m64
                else:
                    m = min_funds
                return _c_notional(p64, s64, i64, b64, m)
    notional = plain_notional(price, size, increment, base_increment,  # type: ignore[arg-type]
                              min_funds)  # type: ignore[arg-type]
    return -1 if notional is None else notional


@cython.locals(p64=cython.longlong, s64=cython.longlong)
def notional_in(product: Product, price: object, size: object) -> wide:
    """``notional_of`` of ``price`` and ``size`` under ``product``'s rules: compiled, when the
    product's rules are C values (``Product.plain_rules``, made once with it), its C branch
    with those, the price and the size read by ``unit``; else ``notional_of`` itself. Where
    ``notional_of`` read the two increments by ``unit`` and the minimum funds (10**16 in the
    bench's product: beyond ``unit``) by ``small`` and Cython's conversion on every place. A
    test checks the two agree."""
    if cython.compiled and product.plain_rules:
        p64, s64 = unit(price), unit(size)
        if p64 != NO_UNIT and s64 != NO_UNIT:
            return _c_notional(p64, s64, product.quote_units, product.base_units,
                               product.min_funds)
    return notional_of(price, size, product.quote_increment, product.base_increment,
                       product.min_market_funds)


@cython.final
@cython.cclass
class Engine(State):
    """The venue core: its state, and a handler per command type (``apply``, ``_HANDLERS``).

    Compiled with the core (``engine.pxd`` declares the methods the hot path calls directly).
    """

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return its events (a single ``Rejected`` if it was refused)."""
        # compiled, a list of an earlier command emptied and reused once its caller has
        # dropped it (``kept.pxd``: no list allocated and freed a command): the last
        # command's (a caller that drops each list before the next ``apply``), else the one
        # before it, kept as ``_spare`` (a caller that holds each until the next one
        # replaces it, as ``events = apply(cmd)`` in a loop does); else a new list, the
        # last one kept as the spare. Uncompiled, a new list
        events: list[Event]
        if cython.compiled:  # each field borrowed by a cast: its count is the engine's alone
            if kept_list(cython.cast(cython.pointer(PyObject), self._events)):
                events = self._events
            elif kept_list(cython.cast(cython.pointer(PyObject), self._spare)):
                events = self._spare
                self._spare = self._events
            else:
                events = []
                self._spare = self._events
        else:
            events = []
        self._events = events
        if type(command) is _PLACE_ORDER:  # the two commonest, called directly
            self._place(command)
        elif type(command) is _CANCEL_ORDER:
            self._cancel_order(command)
        else:
            _HANDLERS[type(command)](self, command)
        return events

    # -- orders --------------------------------------------------------------------------------
    @cython.locals(product=Product, profile=Profile, prior=Order, book=Book, held=Account,
                   received=Account, order=Order, level=Level, tally=Tally,
                   count=cython.longlong, buy=cython.bint, amount=wide, fee_rate=wide,
                   live=list, sequence=cython.longlong,
                   number=cython.longlong, trades_before=cython.longlong, need=wide,
                   added=wide, notional=wide, amount_of=wide, units=cython.longlong,
                   rate_units=cython.longlong, taker_units=cython.longlong,
                   price_units=cython.longlong, best_units=cython.longlong,
                   crosses=cython.bint, attach=cython.bint, plain_fields=cython.bint,
                   sliced=cython.bint)
    def _place(self, cmd: PlaceOrder) -> None:
        # every field read once (a msgspec Struct's fields are generic attribute reads from C):
        # compiled, straight from its slots (no tuple, no call); else with one ``astuple``.
        # Compiled, the six fields the fast path only compares with a constant (its type,
        # funds, expiry and stop) are compared in their slots (``holds``: no reference taken
        # and dropped), and read as objects only off the fast path
        if cython.compiled and type(cmd) is _PLACE_ORDER:
            (t, order_id, profile_id, product_id, side, price, size, time_in_force, post_only,
             stp, client_oid) = (
                field(cmd, _PLACE[0]), field(cmd, _PLACE[1]), field(cmd, _PLACE[2]),
                field(cmd, _PLACE[3]), field(cmd, _PLACE[4]), field(cmd, _PLACE[6]),
                field(cmd, _PLACE[7]), field(cmd, _PLACE[9]), field(cmd, _PLACE[11]),
                field(cmd, _PLACE[12]), field(cmd, _PLACE[15]))
            plain_fields = (holds(cmd, _PLACE[5], LIMIT) and holds(cmd, _PLACE[8], None)
                            and holds(cmd, _PLACE[13], None) and holds(cmd, _PLACE[14], None)
                            and holds(cmd, _PLACE[10], None) and holds(cmd, _PLACE[16], None))
            sliced = True
        else:
            (t, order_id, profile_id, product_id, side, kind, price, size, funds, time_in_force,
             cancel_after, post_only, stp, stop, stop_price, client_oid, expire_time) = astuple(cmd)
            plain_fields = (kind is LIMIT and funds is None and stop is None
                            and stop_price is None and cancel_after is None
                            and expire_time is None)
            sliced = False
        # compiled, the state's dicts (which hold only their records) read by a cast, not a
        # type test; both probes first (neither has an effect), then the rejects in order
        product: Product | None
        if cython.compiled:
            product = cython.cast(Product, self.products.get(product_id))
            profile = cython.cast(Profile, self.profiles.get(profile_id))
        else:
            product = self.products.get(product_id)
            profile = self.profiles.get(profile_id)
        if product is None:
            self._events.append(reject(Error.PRODUCT_NOT_FOUND))
            return
        if profile is None:
            self._events.append(reject(Error.PROFILE_NOT_FOUND))
            return
        if client_oid is not None:
            prior = profile.by_client_oid.get(client_oid)
            if prior is not None and self.client_oid_dedup:  # a retry: answer that order
                self._events.append(Duplicate(t, prior.id, profile.id))
                return
        # An order id on record (live or archived) is refused before any other rule (it would
        # corrupt the indexes): off the fast path here; on it, by the one probe that inserts
        # the new order (``setdefault``), and by ``_refuse`` at its rarer rejects.
        # The common case, a plain GTC limit order well inside the rules (or an IOC one, not
        # post-only: it takes, then its leftover is canceled), is placed here in one frame,
        # with the same rejects, events and state as the general path would give; anything
        # else goes through the general checks for the exact reject. The guard is
        # ``validation.is_plain_limit`` inline (a call costs 3 % of the core's instructions):
        # a test checks the two are the same expression.
        if not (plain_fields and product.status is ONLINE and product.halted is None
                and (time_in_force is GTC or (time_in_force is IOC and not post_only))
                and price is not None and size is not None
                and (notional := notional_in(product, price, size)) >= 0):
            if sliced:  # compiled: the fields compared in their slots, now as objects
                kind, funds, stop, stop_price = (
                    field(cmd, _PLACE[5]), field(cmd, _PLACE[8]), field(cmd, _PLACE[13]),
                    field(cmd, _PLACE[14]))
            if order_id in self._live:
                self._events.append(reject(Error.DUPLICATE_ORDER_ID))
            elif is_plain_market(product, kind, size, funds, stop, stop_price):
                self._place_market(product, profile, t, order_id, side, price, size, funds, stp,
                                   client_oid)
            else:
                self._place_checked(cmd, product, profile)
            return
        product_id = product.id
        # its open orders in the product (``open_count``); the profile's two dicts read where
        # used, not held in locals (a reference taken and dropped each: the thirty-first pass)
        if cython.compiled:
            tally = cython.cast(Tally, profile._tallies.get(product_id))
        else:
            tally = profile._tallies.get(product_id)
        count = 0 if tally is None else tally.count
        if count >= _OPEN_MAX:
            self._refuse(order_id, Error.TOO_MANY_OPEN_ORDERS)
            return
        book = product.book
        maker_rate, taker_rate = profile.maker_rate, profile.taker_rate
        # ``hold_rate()``, inline; compiled, the two rates compared as C integers when both are
        # below 2**53 (``unit``, from their digits), not by Python's compare; the price's C
        # value kept for the best price's compare and the level's find; the size as a ``wide``
        # once (its hold, the order's remaining, the level's size), from its digits by
        # ``unit`` when below 2**53 (every size the C guard passed), else by Cython's
        # conversion. Uncompiled, the Python expressions alone (no C values)
        if cython.compiled:
            rate_units, taker_units = unit(maker_rate), unit(taker_rate)
            if rate_units != NO_UNIT and taker_units != NO_UNIT:
                if rate_units > taker_units:
                    rate = maker_rate
                else:
                    rate, rate_units = taker_rate, taker_units
            else:
                rate = maker_rate if maker_rate > taker_rate else taker_rate
                rate_units = NO_UNIT
            price_units = unit(price)
            units = unit(size)
            if units != NO_UNIT:  # noqa: SIM108 (a C int and an object: no ternary)
                amount_of = units
            else:
                amount_of = size
        else:
            rate = maker_rate if maker_rate > taker_rate else taker_rate
            amount_of = size
        buy = side is BUY
        # the hold: compiled, in C ``wide`` integers (``buy_hold`` inline, under its bounds:
        # the guard keeps the notional at most ``unit_max**2`` and a size at most ``unit_max``)
        if buy:
            held_in, received_in = product.quote_currency, product.base_currency
            # (a rate ``unit`` refuses is at least 2**53 in magnitude: beyond the C bound)
            if (cython.compiled and rate_units != NO_UNIT and notional < NOTIONAL_BOUND
                    and -_FEE_RATE_BOUND < rate_units < _FEE_RATE_BOUND):
                fee_rate = rate_units  # the notional is ``wide`` already (``notional_of``)
                need = notional + div_scale(notional * fee_rate)
            else:
                need = buy_hold(to_int(notional), rate)  # limit_buy_hold() of its notional
            best = best_ask_of(book)
            if (cython.compiled and best is not None and price_units != NO_UNIT
                    and (best_units := unit(best)) != NO_UNIT):  # C integers: no Python compare
                crosses = best_units <= price_units
            else:
                crosses = best is not None and best <= price
        else:
            held_in, received_in = product.base_currency, product.quote_currency
            if cython.compiled:
                need = amount_of
                need *= WIDE_SIZE_TO_AMOUNT
            else:
                need = size * _SIZE_TO_AMOUNT
            best = best_bid_of(book)
            if (cython.compiled and best is not None and price_units != NO_UNIT
                    and (best_units := unit(best)) != NO_UNIT):
                crosses = best_units >= price_units
            else:
                crosses = best is not None and best >= price
        # the profile's accounts in the product's two currencies: as its tally keeps them
        # once found (an account is never replaced or removed), else by currency
        # (as statements, not a conditional expression: compiled, that is an ``object`` whose
        # ``Account`` type is tested at run time; each branch here is typed already)
        if tally is None:
            held = None
        elif buy:
            held = tally.quote
        else:
            held = tally.base
        if held is None:
            held = profile.accounts.get(held_in)
        # compiled, in C ``wide`` integers: the account's fields are, and ``need`` is at most
        # ``unit_max**2 * (1 + rate)`` (the venue's bound, which the guard checked)
        if held is None or not 0 < need <= held.balance - held.hold:
            self._refuse(order_id, Error.INSUFFICIENT_FUNDS)
            return
        if post_only and crosses:
            self._refuse(order_id, Error.POST_ONLY_MODE)
            return
        if tally is None:
            received = None
        elif buy:
            received = tally.base
        else:
            received = tally.quote
        if received is None:
            received = profile.accounts.get(received_in)
        attach = received is None  # attached on acceptance only: a refused order creates none
        if received is None:
            received = Account(profile.id, received_in)
        number = self._order_number + 1
        profile_id = profile.id
        if cython.compiled:  # ``new_order(...)`` below, inline, its object fields written
            # once into a blank block (``made.pxd``: no ``None`` written by ``tp_new`` and
            # dropped here; every object field written, ``None`` where ``new_order`` writes
            # it), without a call of 27 arguments (the twin test compares the two by the state
            # hash after every command)
            order = blank_order()
            slots = cython.cast(cython.pointer(OrderSlots), order)
            slots.id = put(order_id)
            slots.profile_id = put(profile_id)
            slots.product_id = put(product_id)
            slots.side = put(side)
            slots.type = put(LIMIT)
            slots.created_at = put(t)
            slots.price = put(price)
            slots.size = put(size)
            slots.funds = put(None)
            slots.specified_funds = put(None)
            slots.time_in_force = put(time_in_force)
            slots.expire_time = put(None)
            slots.post_only = put(post_only)
            slots.stp = put(stp)
            slots.stop = put(None)
            slots.stop_price = put(None)
            slots.client_oid = put(client_oid)
            slots.maker_rate = put(maker_rate)
            slots.taker_rate = put(taker_rate)
            slots.hold_rate = put(rate)
            slots.hold_account = put(held)
            slots.recv_account = put(received)
            slots.status = put(PENDING if crosses or time_in_force is IOC else OPEN)
            slots.done_at = put(None)
            slots.done_reason = put(None)
            slots.cancel_reason = put(None)
            slots._tally = put(None)
            order.number = number
            order._remaining = amount_of
            order._funds_remaining = -1
            order.hold = need
        else:
            order = new_order(
                order_id, number, profile_id, product_id, side, LIMIT, t, price, size, size,
                None, None, None, time_in_force, None, post_only, stp, None, None, client_oid,
                maker_rate, taker_rate, rate, held, received, need,
                PENDING if crosses or time_in_force is IOC else OPEN)
        if self._live.setdefault(order_id, order) is not order:  # the id is on record
            self._events.append(reject(Error.DUPLICATE_ORDER_ID))
            return
        self._order_number = number
        if cython.compiled:  # its product, for its cancel (``records.product_is``)
            order._product = cython.cast(cython.p_void, product)
        if attach:
            profile.accounts[received_in] = received
        held.hold += need
        live = profile._orders  # ``link``, inline: last among the profile's live orders
        order._live_at = len(live)
        live.append(order)
        if tally is None:  # the profile's first order in the product: its tally made
            tally = Tally(profile)
            profile._tallies[product_id] = tally
        tally.count = count + 1
        order._tally = tally
        if buy:  # both the profile's now (the received one attached above if new)
            tally.quote, tally.base = held, received
        else:
            tally.base, tally.quote = held, received
        if client_oid is not None:
            profile.by_client_oid[client_oid] = order
        sequence = product.sequence = product.sequence + 1
        emit_received(self, t, product_id, event_int(sequence), order_id, profile_id, side, LIMIT,
                      price, size, None, client_oid, order)
        if crosses or time_in_force is IOC:  # an IOC order's leftover is canceled by take
            trades_before = product.trade_id
            product.print_low = product.print_high = None  # a new turn (see _start)
            take(self, order, product, t)
            if product.trade_id != trades_before and product.stops.live:
                self._trigger_stops(product, t)
            return
        if cython.compiled:  # Book.add, inline: by the side's C index (book.Index)
            if price_units != NO_UNIT:  # its C value already: no conversion
                level = level_at(book, buy, price_units)
            else:
                level = book.find(buy, price)
        else:  # no index: the dict (one Python call fewer than ``find``)
            level = (book.bids if buy else book.asks).get(price)
        if level is None:
            level = book.open_level(side, price)
        else:  # the level's own key (an equal int): its cancel finds the level by identity
            order.price = level.price
        push(level.orders, order)
        if cython.compiled:  # ``book.rests_at``, inline: the order keeps its level
            order._level = cython.cast(cython.p_void, level)
        added = amount_of  # compiled, a ``wide`` as ``level.size`` is: no Python-int sum
        level.size += added
        level.count += 1
        sequence = product.sequence = sequence + 1
        emit_opened(self, t, product_id, event_int(sequence), order_id, profile_id, side, price,
                    size)

    def _refuse(self, order_id: str, error: Error) -> None:
        """Refuse a place on the fast path for ``error``, or for its id if that is on record
        (the first rule: ``_place`` tests it there only when it inserts the order)."""
        self._events.append(reject(
            Error.DUPLICATE_ORDER_ID if order_id in self._live else error))

    @cython.locals(held=Account, received=Account, accounts=dict, tally=Tally, order=Order,
                   sequence=cython.longlong, trades_before=cython.longlong, available=wide,
                   need=wide)
    def _place_market(self, product: Product, profile: Profile, t: int, order_id: str,
                      side: Side, price: int | None, size: int | None, funds: int | None,
                      stp: Stp, client_oid: str | None) -> None:
        """``_place_checked`` of a market order ``validation.is_plain_market`` admitted (so
        ``check_order`` passes, and nothing halts or stops it), in one frame: the same
        rejects, events and state (``_new_order``, ``_accept``, ``_start`` inline)."""
        product_id = product.id
        tally = profile._tallies.get(product_id)
        if tally is not None and tally.count >= _OPEN_MAX:
            self._events.append(reject(Error.TOO_MANY_OPEN_ORDERS))
            return
        accounts = profile.accounts
        buy = side is BUY
        held_in, received_in = ((product.quote_currency, product.base_currency) if buy
                                else (product.base_currency, product.quote_currency))
        held = accounts.get(held_in)
        if held is None:  # nothing to hold from; a refused order creates no account
            self._events.append(reject(Error.INSUFFICIENT_FUNDS))
            return
        received = accounts.get(received_in)
        attach = received is None  # attached on acceptance only
        if received is None:
            received = Account(profile.id, received_in)
        maker_rate, taker_rate = profile.maker_rate, profile.taker_rate
        rate = maker_rate if maker_rate > taker_rate else taker_rate  # hold_rate(), inline
        specified = funds_remaining = None
        # compiled, in C ``wide`` integers: the guard bounds size and funds (``limits``), an
        # account's fields are wide already
        available = held.balance - held.hold
        if buy:
            if funds is not None:
                specified, need = funds, funds
                funds = funds_remaining = net_funds(funds, taker_rate)
            else:
                need = available  # §4.8: a size-only market buy holds the whole balance
        else:
            funds_remaining = funds
            need = size * SIZE_TO_AMOUNT if size is not None else available
        if need > available or need <= 0:
            self._events.append(reject(Error.INSUFFICIENT_FUNDS))
            return
        number = self._order_number = self._order_number + 1
        profile_id = profile.id
        order = new_order(
            order_id, number, profile_id, product_id, side, MARKET, t, price, size, size, funds,
            specified, funds_remaining, GTC, None, False, stp, None, None, client_oid,
            maker_rate, taker_rate, rate, held, received, need)
        held.hold += need
        if attach:
            accounts[received_in] = received
        self._live[order_id] = order
        link(profile, order)
        accept_tally(order, profile)
        if client_oid is not None:
            profile.by_client_oid[client_oid] = order
        sequence = product.sequence = product.sequence + 1
        emit_received(self, t, product_id, event_int(sequence), order_id, profile_id, side, MARKET,
                      price, size, funds, client_oid, order)
        trades_before = product.trade_id
        product.print_low = product.print_high = None  # a new turn (see _start)
        take(self, order, product, t)
        if product.trade_id != trades_before and product.stops.live:
            self._trigger_stops(product, t)

    @cython.locals(order=Order)
    def _place_checked(self, cmd: PlaceOrder, product: Product, profile: Profile) -> None:
        """``_place`` of any order off the fast path: every check, in the order of §3.3."""
        price = cmd.price
        refused = check_order(product, cmd)
        if refused is not None:
            self._events.append(refused)
            return
        tally = profile._tallies.get(product.id)
        if tally is not None and tally.count >= _OPEN_MAX:
            self._events.append(reject(Error.TOO_MANY_OPEN_ORDERS))
            return
        order = self._new_order(cmd, product, profile)
        if order is None:
            self._events.append(reject(Error.INSUFFICIENT_FUNDS))
            return
        if (order.post_only or product.status is POST_ONLY) and order.stop is None:
            assert price is not None  # a limit order: market orders are refused above
            best = product.book.best_ask() if order.side is BUY else product.book.best_bid()
            if best is not None and (best <= price if order.side is BUY else best >= price):
                self._events.append(reject(Error.POST_ONLY_MODE))
                return
        self._order_number += 1
        order.number = self._order_number
        self._accept(order, product, profile, cmd.time)

    @cython.locals(held=Account, received=Account, accounts=dict)
    def _new_order(self, cmd: PlaceOrder, product: Product, profile: Profile) -> Order | None:
        """The order ``cmd`` asks for with its hold, or ``None`` if funds do not cover it."""
        # every field read once, as in _place (a test checks the two unpack alike)
        (t, order_id, profile_id, product_id, side, kind, price, size, funds, time_in_force,  # noqa: RUF059
         cancel_after, post_only, stp, stop, stop_price, client_oid, expire_time) = astuple(cmd)
        buy = side is BUY
        accounts = profile.accounts
        held_in, received_in = ((product.quote_currency, product.base_currency) if buy
                                else (product.base_currency, product.quote_currency))
        held = accounts.get(held_in)
        if held is None:  # nothing to hold from; a refused order creates no account
            return None
        # an account the order will receive into is attached to the profile on acceptance
        received = accounts.get(received_in) or Account(profile.id, received_in)
        maker_rate, taker_rate = profile.maker_rate, profile.taker_rate
        rate = hold_rate(maker_rate, taker_rate)
        specified = funds_remaining = None
        available = held.balance - held.hold
        limit = kind is LIMIT  # time in force and post-only mean nothing to market orders
        if limit:
            assert price is not None  # check_order refuses a limit order without one
            if size is None:  # limit order with funds: the size those funds buy at its price
                assert funds is not None
                size = funds // price
                size -= size % product.base_increment
            hold = limit_buy_hold(size, price, rate) if buy else size * SIZE_TO_AMOUNT
        elif buy:
            if funds is not None:
                specified, hold = funds, funds
                funds = funds_remaining = net_funds(funds, taker_rate)
            else:
                hold = available  # §4.8: a size-only market buy holds the whole balance
        else:
            funds_remaining = funds
            hold = size * SIZE_TO_AMOUNT if size is not None else available
        if hold > available or hold <= 0:
            return None
        expire = expire_time if cancel_after is None else t + cancel_after.seconds * 1_000_000
        return new_order(
            order_id, 0, profile.id, product.id, side, kind, t, price, size,
            size, funds, specified, funds_remaining, time_in_force if limit else GTC,
            expire if limit else None, post_only and limit, stp, stop,
            stop_price, client_oid,
            maker_rate, taker_rate, rate, held, received, hold)

    def _accept(self, order: Order, product: Product, profile: Profile, t: int) -> None:
        order.hold_account.hold += order.hold
        received = order.recv_account
        if received.currency not in profile.accounts:
            profile.accounts[received.currency] = received
        self._live[order.id] = order
        link(profile, order)
        accept_tally(order, profile)
        if order.client_oid is not None:
            profile.by_client_oid[order.client_oid] = order
        if order.expire_time is not None:
            heappush(self._expiries, (order.expire_time, order.number, order))
        stop, stop_price = order.stop, order.stop_price
        if stop is not None:
            assert stop_price is not None  # check_order refuses a stop without one
            order.status = ACTIVE
            product.stops.add(order)
            self._events.append(Activated(
                t, product.id, order.id, order.profile_id, order.side, stop, stop_price,
                order.price, order.size, order.funds))
            return
        queue = product.halted
        if queue is not None:  # matching halted: announced now, matched on resume
            product.sequence += 1
            emit_received(
                self, t, product.id, product.sequence, order.id, order.profile_id, order.side,
                order.type, order.price, order.size, order.funds, order.client_oid, order)
            queue.append(order)
            return
        self._start(order, product, t)

    @cython.locals(book=Book, trades_before=cython.longlong)
    def _start(self, order: Order, product: Product, t: int, stops: bool = True,
               announce: bool = True) -> None:
        """Announce a new (or just-triggered) order and match it; then, unless ``stops`` is
        false (the caller is already running them), start the stops its trades trigger.
        ``announce`` false: its ``received`` went out already (an order queued by a halt)."""
        if announce:
            product.sequence += 1
            emit_received(
                self, t, product.id, product.sequence, order.id, order.profile_id, order.side,
                order.type, order.price, order.size, order.funds, order.client_oid, order)
        price = order.price
        if order.type is LIMIT and order.time_in_force in RESTS:
            assert price is not None
            book = product.book
            if order.side is BUY:
                best = book.best_ask()
                crosses = best is not None and best <= price
            else:
                best = book.best_bid()
                crosses = best is not None and best >= price
            if not crosses:  # nothing to match: rest at once
                rest(self, order, product, t)
                return
        trades_before = product.trade_id
        if order.time_in_force is FOK and not self._fok_fillable(order, product):
            close(self, order, product, DoneReason.CANCELED, CancelReason.TIME_IN_FORCE, t)
            return
        if stops:  # a new turn: only its own prints may trigger stops
            product.print_low = product.print_high = None
        take(self, order, product, t)
        if stops and product.trade_id != trades_before and product.stops.live:
            self._trigger_stops(product, t)

    def _fok_fillable(self, order: Order, product: Product) -> bool:
        """Can the book fill all of ``order`` at its limit? Own orders count (§4.1)."""
        buy = order.side is BUY
        levels = product.book.asks if buy else product.book.bids
        limit, need = order.price, order.remaining
        assert limit is not None and need is not None  # a FOK order is a limit order
        prices = sorted((p for p in levels if (p <= limit if buy else p >= limit)),
                        reverse=not buy)
        for price in prices:
            need -= levels[price].size
            if need <= 0:
                return True
        return False

    @cython.locals(order=Order)
    def _trigger_stops(self, product: Product, t: int) -> None:
        """Start every stop that the prints since the last look trigger, then the ones those
        stops' trades trigger, in rounds (a loop, not recursion: cascades can be long)."""
        stops = product.stops
        while stops.live and product.print_low is not None:
            low, high = product.print_low, product.print_high
            assert high is not None  # set together with print_low
            product.print_low = product.print_high = None
            fired = stops.triggered(low, high)
            for order in fired:
                order.status = Status.PENDING
                self._start(order, product, t, stops=False)

    # -- cancels -------------------------------------------------------------------------------
    @cython.locals(order=Order, product=Product)
    def _cancel_order(self, cmd: CancelOrder) -> None:
        """Cancel one order by id or client_oid, scoped to its profile (and product if given)."""
        # every field read once, as in _place (a test pins the names to the struct's fields)
        if cython.compiled and type(cmd) is _CANCEL_ORDER:
            t, profile_id, order_id, client_oid, product_id = (
                field(cmd, _CANCEL[0]), field(cmd, _CANCEL[1]), field(cmd, _CANCEL[2]),
                field(cmd, _CANCEL[3]), field(cmd, _CANCEL[4]))
        else:
            t, profile_id, order_id, client_oid, product_id = astuple(cmd)
        if client_oid is None and order_id is not None:
            order = self._live.get(order_id)  # live or archived
            # compiled, ``same_id``: the command's id is a fresh string as decoded (REST,
            # FIX, the journal's replay), never hashed: compared by length, then ``memcmp``
            # (Cython's ``!=`` calls ``PyUnicode_Compare``, ~90 instructions)
            if order is not None and not (same_id(order.profile_id, profile_id)
                                          if cython.compiled
                                          else order.profile_id == profile_id):
                order = None
        else:
            order = self._find(profile_id, order_id, client_oid)
        if order is None or (product_id is not None and order.product_id != product_id):
            self._events.append(reject(Error.ORDER_NOT_FOUND))
            return
        # compiled, the product as the order keeps it (a product is never removed or replaced
        # while its engine lives: docs/performance.md, the fifteenth pass), else by its id
        if cython.compiled and order._product != cython.NULL:
            product = cython.cast(Product, order._product)
        else:
            product = self.products[order.product_id]
        if product.status is DISABLED:
            self._events.append(reject(Error.TRADING_DISABLED))
            return
        status = order.status
        if status is OPEN:
            self._cancel_resting(order, product, t)
        elif status is DONE:
            self._events.append(reject(Error.ORDER_ALREADY_DONE))
        else:
            cancel(self, order, product, None, t)

    @cython.locals(book=Book, level=Level, profile=Profile, buy=cython.bint,
                   sequence=cython.longlong, count=cython.Py_ssize_t, hold=wide, tally=Tally,
                   remaining=cython.longlong, live=list, at=cython.Py_ssize_t,
                   dead=cython.Py_ssize_t, size=cython.Py_ssize_t)
    def _cancel_resting(self, order: Order, product: Product, t: int) -> None:
        """``lifecycle.cancel`` of an open order by its owner, inline (the common cancel).

        Gives the same events and state as ``Book.remove`` then ``lifecycle.close`` would;
        the unlink and the purge or archive at the end are ``records.unlink`` and
        ``lifecycle.retire``, inline in their common cases (the rest by the calls).
        """
        order.status = DONE
        remaining, price, order_id = order._remaining, order.price, order.id
        assert price is not None and remaining >= 0  # an open order is a limit order
        book = product.book
        buy = order.side is BUY
        # compiled, its level as it keeps it (``book.rests_at``): an open order rests at it,
        # so the level is in its dict while its count, which counts the order, is above 0 (the
        # proof: docs/performance.md, the fifteenth pass); by price if it keeps none
        # (unpickled; uncompiled, always)
        if cython.compiled and order._level != cython.NULL:
            level = cython.cast(Level, order._level)
        else:
            level = book.find(buy, price)
            assert level is not None
        count = level.count = level.count - 1
        if count == 0:
            book.forget(buy, level)
        else:
            level.size -= remaining
            if len(level.orders) > 2 * count + _DEAD_SLOTS_MAX:
                book.compact(level)
        hold = order.hold
        if hold:
            order.hold_account.hold -= hold
        product_id, profile_id = product.id, order.profile_id
        tally = order._tally  # its profile's, for its product: no lookup by either id
        assert tally is not None  # set on acceptance (a live order's: a test checks)
        profile = owner_of(tally)
        # ``unlink``, inline when its place is not the list's last and no compaction is due
        # (a test checks the two leave the same list)
        live, at = profile._orders, order._live_at
        size = len(live)
        dead = profile._dead + 1
        if 0 <= at < size - 1 and live[at] is order and (dead <= 16 or 2 * dead <= size):
            order._live_at = -1
            live[at] = None
            profile._dead = dead
        else:
            unlink(profile, order)
        tally.count -= 1
        sequence = product.sequence = product.sequence + 1
        if cython.compiled:  # its size left as the order's size int when they are equal
            left = order.size  # (nothing traded or shrunk; ``unit`` reads it, below 2**53):
            if unit(left) != remaining:  # no new int for the event, none freed after it
                left = to_int(remaining)
        else:
            left = remaining
        emit_done(self, t, product_id, event_int(sequence), order_id, profile_id, order.side,
                  CANCELED, price, left, None, order)
        # ``retire(self, order, profile, hold, CANCELED, None, t)``, inline
        if order.filled_size == 0 or (same(profile.id, REPLAY_PROFILE_ID) if cython.compiled
                                      else profile.id == REPLAY_PROFILE_ID):
            oid = order.client_oid
            if oid is not None and profile.by_client_oid.get(oid) is order:
                del profile.by_client_oid[oid]
            del self._live[order_id]
        else:
            if hold:
                order.hold = 0
            order.done_at = t
            order.done_reason = CANCELED
            self._archive.append(order)

    def _find(self, profile_id: str, order_id: str | None, client_oid: str | None) -> Order | None:
        """The profile's order on record by id or client_oid; never another profile's."""
        if client_oid is not None:
            profile = self.profiles.get(profile_id)
            return None if profile is None else profile.by_client_oid.get(client_oid)
        if order_id is None:
            return None
        order = self.orders.get(order_id)
        return order if order is not None and order.profile_id == profile_id else None

    def find_order(self, profile_id: str, order_id: str | None = None,
                   client_oid: str | None = None) -> Order | None:
        """Read access for adapters: ``GET /orders/{id}`` and ``/orders/client:{oid}``."""
        return self._find(profile_id, order_id, client_oid)

    def _cancel_all(self, cmd: CancelAll) -> None:
        """Cancel the profile's open orders (and those a halt keeps pending), oldest first;
        untriggered stops stay (§4.7)."""
        profile = self.profiles.get(cmd.profile_id)
        if profile is None:
            return
        if cmd.product_id is not None:
            product = self.products.get(cmd.product_id)
            if product is None:
                self._events.append(reject(Error.PRODUCT_NOT_FOUND_CANCEL_ALL))
                return
        targets = [o for o in profile.live.values() if (o.status is OPEN or o.status is PENDING)
                   and (cmd.product_id is None or o.product_id == cmd.product_id)
                   and self.products[o.product_id].status is not ProductStatus.DISABLED]
        for order in targets:
            cancel(self, order, self.products[order.product_id], None, cmd.time)

    def next_expiry(self) -> int | None:
        """When the next GTT order may expire: the node sends an ``AdvanceClock`` by then."""
        expiries = self._expiries
        while expiries and expiries[0][2].status is DONE:
            heappop(expiries)
        return expiries[0][0] if expiries else None

    def next_settlement(self) -> int | None:
        """When the next pending transfer settles: the node sends an ``AdvanceClock`` by then."""
        return funds.next_settlement(self)

    def _advance_clock(self, cmd: AdvanceClock) -> None:
        """Move the clock; cancel GTT orders (and stops) whose expire_time has passed (§4.1)."""
        if cmd.time < self.clock:
            self._events.append(reject(Error.CLOCK_BACKWARDS))
            return
        self.clock = cmd.time
        self._events.append(ClockAdvanced(cmd.time))
        expiries = self._expiries
        while expiries and expiries[0][0] <= cmd.time:
            order = heappop(expiries)[2]
            if order.status is not DONE:  # open, active, or pending while matching is halted
                cancel(self, order, self.products[order.product_id], CancelReason.TIME_IN_FORCE,
                             cmd.time)
        if self.pending_transfers:  # deposits and withdrawals due by now settle
            funds.settle_due(self, cmd.time)

    # -- halting matching ------------------------------------------------------------------------
    def _set_matching(self, cmd: SetMatching) -> None:
        """Halt or resume a product's matching (see ``SetMatching``); a no-op if it already
        is as asked. A resume matches the queued orders in arrival order, each as if it had
        arrived then: a post-only one (or any, in post-only mode) that would take liquidity is
        canceled instead, as arriving then it would be refused."""
        product = self.products.get(cmd.product_id)
        if product is None:
            self._events.append(reject(Error.PRODUCT_NOT_FOUND))
            return
        queue, t = product.halted, cmd.time
        if cmd.halted is (queue is not None):
            return
        product.halted = [] if cmd.halted else None
        self._events.append(ProductUpdated(t, product.id, str(product.status)))
        for order in queue or ():
            if order.status is PENDING:  # not canceled or expired while it waited
                if self._would_take_post_only(order, product):
                    close(self, order, product, CANCELED, None, t)
                else:
                    self._start(order, product, t, announce=False)

    def _would_take_post_only(self, order: Order, product: Product) -> bool:
        """Is ``order`` post-only (or the product in post-only mode) and would it trade?"""
        if not (order.post_only or product.status is POST_ONLY):
            return False
        price = order.price
        if order.type is not LIMIT or price is None:
            return True  # a market order always takes
        if order.side is BUY:
            best = product.book.best_ask()
            return best is not None and best <= price
        best = product.book.best_bid()
        return best is not None and best >= price

    @property
    def orders_on_record(self) -> dict[str, Order]:
        """Every order on record by id, live or done and kept (the engine's dict: read only)."""
        return self._live


# every other command's handler (``apply`` calls ``_place`` and ``_cancel_order`` itself)
_HANDLERS: dict[type[Command], Callable[[Engine, Any], None]] = {
    CancelAll: Engine._cancel_all,
    ModifyOrder: lambda engine, cmd: modify.modify_order(engine, cmd, engine._trigger_stops),
    AdvanceClock: Engine._advance_clock,
    AddCurrency: admin.add_currency,
    AddProduct: admin.add_product,
    SetProductStatus: admin.set_product_status,
    SetMatching: Engine._set_matching,
    SetVenue: admin.set_venue,
    CreateProfile: admin.create_profile,
    SetFees: admin.set_fees,
    Deposit: admin.deposit,
    Withdraw: admin.withdraw,
    Transfer: admin.transfer,
    StartReplay: replay.start,
    ReplayBatch: lambda engine, cmd: replay.batch(engine, cmd, engine._accept),
    EndReplay: replay.end,
    Convert: account_admin.convert,
    RenameProfile: account_admin.rename_profile,
    DeactivateProfile: account_admin.deactivate_profile,
    CreateReport: account_admin.create_report,
    StartTransfer: funds.start,
    AddAddress: funds.add_address,
    DeleteAddress: funds.delete_address,
    PutEntry: funds.put_entry,
}
