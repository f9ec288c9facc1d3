"""Taker execution: price-time matching, trades, self-trade prevention, settlement (§4.9, §4.10).

Functions over the core's ``State``: ``take`` matches a pending order against the book, then
rests or closes it (``lifecycle``). Every trade prints at the maker's price; each fill moves
balances and holds of both sides and the venue's fee account at once, so every currency's
total is conserved.
"""

from __future__ import annotations

from collections import deque

import cython

from sandex.core.book import Book, Level
from sandex.core.events import Changed
from sandex.core.holds import limit_buy_hold, size_for_funds
from sandex.core.lifecycle import cancel, close, rest, retire
from sandex.core.model import (
    REPLAY_PROFILE_ID,
    CancelReason,
    DoneReason,
    OrderType,
    Side,
    Status,
    Stp,
    TimeInForce,
)
from sandex.core.product import Product
from sandex.core.records import Account, Order, Profile, Tally, unlink
from sandex.core.state import State
from sandex.units import RATE_SCALE, SIZE_TO_AMOUNT

if cython.compiled:  # C 128-bit amounts (wide.pxd)
    from cython.cimports.sandex.core.wide import (
        NOTIONAL_BOUND,
        below,
        div_scale,
        event_int,
        to_int,
        wide,
    )
    from cython.cimports.sandex.core.wide import RATE_SCALE as WIDE_RATE_SCALE
    from cython.cimports.sandex.core.wide import SIZE_TO_AMOUNT as WIDE_SIZE_TO_AMOUNT
else:
    from sandex.core.wide import NOTIONAL_BOUND, below, div_scale, event_int, to_int, wide
    from sandex.core.wide import RATE_SCALE as WIDE_RATE_SCALE
    from sandex.core.wide import SIZE_TO_AMOUNT as WIDE_SIZE_TO_AMOUNT

if cython.compiled:  # ids compared from their hashes first (text.pxd)
    from cython.cimports.sandex.core.text import same
else:
    from sandex.core.text import same

if cython.compiled:  # the best price's and the owner's common case inline (peek.pxd)
    from cython.cimports.sandex.core.peek import best_ask_of, best_bid_of, owner_of
else:
    from sandex.core.peek import best_ask_of, best_bid_of, owner_of

if cython.compiled:  # a level's queue by the deque's own C functions (fifo.pxd)
    from cython.cimports.sandex.core.fifo import bind, pop

    bind(deque, deque.append, deque.popleft)
else:
    from sandex.core.fifo import pop

if cython.compiled:  # a trade's event built from its slots (emit.py)
    from cython.cimports.sandex.core.emit import new_matched
else:
    from sandex.core.events import Matched as new_matched

if cython.compiled:  # the hot events built from their slots, or a replay's notes (emit.py)
    from cython.cimports.sandex.core.emit import emit_done
else:
    from sandex.core.emit import emit_done

BUY, SELL = Side.BUY, Side.SELL
OPEN, DONE, ACTIVE = Status.OPEN, Status.DONE, Status.ACTIVE
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
FILLED, CANCELED = DoneReason.FILLED, DoneReason.CANCELED
STP_CANCEL = CancelReason.SELF_TRADE_PREVENTION
RESTS = (TimeInForce.GTC, TimeInForce.GTT)
CN, DC, CB = Stp.CN, Stp.DC, Stp.CB
INSUFFICIENT_FUNDS = CancelReason.INSUFFICIENT_FUNDS
INSUFFICIENT_LIQUIDITY = CancelReason.INSUFFICIENT_LIQUIDITY
TIME_IN_FORCE = CancelReason.TIME_IN_FORCE


# -- the taker ---------------------------------------------------------------------------------
@cython.locals(book=Book, fees=Account, level=Level)
def take(state: State, order: Order, product: Product, t: int) -> None:
    """Match ``order`` against the book, then rest it or close it."""
    book = product.book
    buy = order.side is BUY
    limit = order.price if order.type is LIMIT else None
    stop_reason: CancelReason | DoneReason | None = None
    fees = state.fee_accounts[product.quote_currency]  # the venue's: one lookup a taker
    while stop_reason is None and order._remaining != 0:  # -1: sized by its funds
        best = best_ask_of(book) if buy else best_bid_of(book)
        if best is None or (limit is not None and (best > limit if buy else best < limit)):
            break
        # the level at ``best``: the book's best level, which ``best_ask``/``best_bid`` keep
        # whenever they return a price (its own), so no lookup by price
        level = book._best_ask if buy else book._best_bid
        assert level is not None
        stop_reason = _take_level(state, order, product, level, t, fees)
    _finish_taker(state, order, product, stop_reason, t)


@cython.locals(maker=Order, size=cython.longlong, left=cython.longlong)
def _take_level(state: State, order: Order, product: Product, level: Level,
                t: int, fees: Account) -> CancelReason | DoneReason | None:
    """Trade ``order`` against one level until either is used up.

    Returns why the taker must stop before its size is done: ``FILLED`` when its funds
    cannot buy one more increment, a cancel reason for STP or an exhausted hold.
    """
    orders = level.orders
    plain = order.type is LIMIT  # its size alone bounds a fill: no funds, a sized hold
    while level.count and order._remaining != 0:
        maker = orders[0]
        if maker.status is not OPEN:
            pop(orders)
            continue
        if ((same(maker.profile_id, order.profile_id) if cython.compiled
             else maker.profile_id == order.profile_id)
                and not (same(maker.profile_id, REPLAY_PROFILE_ID) if cython.compiled
                         else maker.profile_id == REPLAY_PROFILE_ID)):
            reason = _self_trade(state, order, maker, product, level, t)
            if reason is not None:
                return reason
            continue
        if plain:  # both limit orders: both have a size
            size, left = maker._remaining, order._remaining
            if left < size:
                size = left
        else:
            size = _fill_size(order, maker, level.price, product.base_increment)
        if size <= 0:
            funds = order.funds_remaining
            if funds is not None and funds // level.price < product.base_increment:
                return FILLED  # its funds are spent down to less than one increment
            return INSUFFICIENT_FUNDS
        _trade(state, maker, order, level, size, product, t, fees)
        if maker._remaining == 0:
            pop(orders)
            level.count -= 1
            if level.count == 0:
                product.book.forget(maker.side is BUY, level)  # the level itself: no lookup
            _close_filled(state, maker, product, t)
    return None


@cython.locals(profile=Profile, hold=wide, tally=Tally, live=list, at=cython.Py_ssize_t,
               dead=cython.Py_ssize_t, count=cython.Py_ssize_t, sequence=cython.longlong)
def _close_filled(state: State, maker: Order, product: Product, t: int) -> None:
    """``close(state, maker, product, FILLED, None, t)`` of a maker just filled, in one frame:
    its ``records.unlink`` and ``lifecycle.retire`` inline in their common cases (the rest
    by the calls). A maker is a resting limit order: its price and size left (0) are its
    ``done``'s, and a filled order is archived unless it is a replayed one. A test compares
    the two on a twin venue."""
    maker.status = DONE
    hold = maker.hold
    if hold:
        maker.hold_account.hold -= hold
    tally = maker._tally  # its profile's, for its product: no lookup by either id
    assert tally is not None  # set on acceptance (a live order's: a test checks)
    profile = owner_of(tally)
    # ``unlink``, inline when its place is not the list's last and no compaction is due
    live, at = profile._orders, maker._live_at
    count = len(live)
    dead = profile._dead + 1
    if 0 <= at < count - 1 and live[at] is maker and (dead <= 16 or 2 * dead <= count):
        maker._live_at = -1
        live[at] = None
        profile._dead = dead
    else:
        unlink(profile, maker)
    tally.count -= 1
    sequence = product.sequence = product.sequence + 1
    emit_done(state, t, product.id, event_int(sequence), maker.id, maker.profile_id, maker.side,
              FILLED, maker.price, 0, None, maker)  # filled: nothing left
    if same(profile.id, REPLAY_PROFILE_ID) if cython.compiled else profile.id == REPLAY_PROFILE_ID:
        retire(state, maker, profile, hold, FILLED, None, t)  # purged: no one can ask for it
        return
    if hold:  # ``retire``'s archive, inline
        maker.hold = 0
    maker.done_at = t
    maker.done_reason = FILLED
    state._archive.append(maker)


@cython.locals(size=cython.longlong, unit=wide, step=wide, amount=wide, cap=wide, rate=wide)
def _fill_size(order: Order, maker: Order, price: int, increment: int) -> int:
    """How much ``order`` can take from ``maker`` at ``price`` within its size, funds, hold.

    Compiled, in C when the price, the increment and the taker's fee rate fit their bounds
    and the hold is below ``NOTIONAL_BOUND`` (no product or quotient can overflow; a size is
    below 10**18); else, and uncompiled, in Python ints (``_fill_size_int``): the same
    arithmetic on non-negative operands, the same result."""
    size = maker._remaining  # a resting limit order: it has a size
    if 0 <= order._remaining < size:  # -1: sized by its funds
        size = order._remaining
    if not (cython.compiled and below(price, _UNIT_BOUND) and below(increment, _UNIT_BOUND)
            and below(order.taker_rate, _RATE_BOUND) and order.hold < NOTIONAL_BOUND):
        return _fill_size_int(order, size, price, increment)
    unit, step = price, increment
    if order._funds_remaining >= 0:
        amount = order._funds_remaining
        cap = amount // unit
        cap -= cap % step
        if cap < size:
            size = cap
    if order.type is MARKET:
        if order.side is BUY:
            if order.specified_funds is None:  # size-only buy: bounded by the whole hold
                rate = order.taker_rate
                cap = order.hold * WIDE_RATE_SCALE // (unit * (WIDE_RATE_SCALE + rate))
                cap -= cap % step
                if cap < size:
                    size = cap
        elif order.size is None:  # funds-only sell: bounded by the base it holds
            cap = order.hold // WIDE_SIZE_TO_AMOUNT
            cap -= cap % step
            if cap < size:
                size = cap
    return size


def _fill_size_int(order: Order, size: int, price: int, increment: int) -> int:
    """``_fill_size``'s caps on ``size`` in Python ints (what funds or a whole hold could
    buy has no bound of its own)."""
    if order.funds_remaining is not None:
        cap = size_for_funds(order.funds_remaining, price, increment)
        if cap < size:
            size = cap
    if order.type is MARKET:
        if order.side is BUY:
            if order.specified_funds is None:  # size-only buy: bounded by the whole hold
                per_unit = price * (RATE_SCALE + order.taker_rate)
                affordable = order.hold * RATE_SCALE // per_unit
                size = min(size, affordable - affordable % increment)
        elif order.size is None:  # funds-only sell: bounded by the base it holds
            affordable = order.hold // SIZE_TO_AMOUNT
            size = min(size, affordable - affordable % increment)
    return size


def _finish_taker(state: State, order: Order, product: Product,
                  stop_reason: CancelReason | DoneReason | None, t: int) -> None:
    if order._remaining == 0 or stop_reason is FILLED:
        if order.filled_size:
            close(state, order, product, FILLED, None, t)
        else:  # its funds could not buy a single increment
            close(state, order, product, CANCELED, CancelReason.INSUFFICIENT_FUNDS, t)
    elif stop_reason is not None:
        assert isinstance(stop_reason, CancelReason)  # FILLED is the only DoneReason returned
        close(state, order, product, CANCELED, stop_reason, t)
    elif order.type is MARKET:
        close(state, order, product, CANCELED, INSUFFICIENT_LIQUIDITY, t)
    elif order.time_in_force in RESTS:
        rest(state, order, product, t)
    else:
        close(state, order, product, CANCELED, TIME_IN_FORCE, t)

# -- one trade -----------------------------------------------------------------------------
# A fee rate below ``_RATE_BOUND`` and prices and sizes below ``_UNIT_BOUND`` keep a trade's
# products (``price * size * rate``, ``remaining * limit * hold_rate``) and its sums of
# amounts of at most 120 bits below 2**127 (compiled, C integers: ``matching.pxd``)
_RATE_BOUND = 1 << 20
_UNIT_BOUND = 1 << 53


@cython.locals(buyer=Order, seller=Order, trade_id=cython.longlong, sequence=cython.longlong)
def _trade(state: State, maker: Order, taker: Order, level: Level, size: int, product: Product,
           t: int, fees: Account) -> None:
    """Fill ``size`` between ``maker`` and ``taker`` at the maker's price, settling at once.

    Compiled, the amounts are settled in C ``wide`` integers (``_settle_wide``) when every
    one the trade reads is small enough that no product or sum can overflow; else, and
    uncompiled, in Python ints (``_settle``): the same arithmetic, the same results (the
    twin test compares the two).
    """
    price = level.price
    trade_id = product.trade_id = product.trade_id + 1
    sequence = product.sequence = product.sequence + 1
    product.last_price = price
    low, high = product.print_low, product.print_high
    if low is None or high is None:  # both or neither
        product.print_low = product.print_high = price
    elif price < low:
        product.print_low = price
    elif price > high:
        product.print_high = price
    if taker.side is BUY:
        buyer, seller = taker, maker
    else:
        buyer, seller = maker, taker
    if cython.compiled and _fits_wide(maker, taker, buyer, level, size):
        _settle_wide(state, maker, taker, buyer, seller, level, size, product, t, trade_id,
                     sequence, fees)
    else:
        _settle(state, maker, taker, buyer, seller, level, size, product, t, trade_id,
                sequence, fees)


def _fits_wide(maker: Order, taker: Order, buyer: Order, level: Level, size: int) -> bool:
    """Does every price, size and fee rate ``_settle_wide`` multiplies fit its bound? Then
    nothing it computes can overflow: the amounts it adds to (an order's sizes, funds, fill
    totals and hold, a level's size, the accounts' balances and holds) are C fields already,
    kept below 2**124 by the venue's bounds (``limits``)."""
    if not (below(maker.maker_rate, _RATE_BOUND) and below(taker.taker_rate, _RATE_BOUND)
            and below(level.price, _UNIT_BOUND) and size < _UNIT_BOUND):
        return False
    return buyer.type is not LIMIT or (below(buyer.hold_rate, _RATE_BOUND)
                                       and buyer._remaining < _UNIT_BOUND
                                       and below(buyer.price, _UNIT_BOUND))


@cython.locals(held=Account, quote=Account, received=Account,
               entry=cython.longlong, extra=cython.longlong, price=wide, size_=wide,
               notional=wide, maker_fee=wide, taker_fee=wide, buyer_fee=wide,
               seller_fee=wide, base=wide, left=wide, release=wide, limit=wide,
               remaining=wide, rate=wide, value=wide)
def _settle_wide(state: State, maker: Order, taker: Order, buyer: Order, seller: Order,
                 level: Level, size: int, product: Product, t: int, trade_id: int,
                 sequence: int, fees: Account) -> None:
    """``_settle`` in ``wide`` integers (``_fits_wide`` holds): each field is read, changed
    and written back in the same order, so an account on both sides (a replayed order
    trading with another) sees every change."""
    price = level.price
    size_ = size
    notional = price * size_
    maker_rate, taker_rate = maker.maker_rate, taker.taker_rate
    value = maker_rate
    maker_fee = div_scale(notional * value)  # // RATE_SCALE, without libgcc's division
    value = taker_rate
    taker_fee = div_scale(notional * value)
    level.size -= size_
    maker._remaining -= size  # a resting limit order: it has a size
    maker.filled_size += size_
    maker.executed_value += notional
    maker.fill_fees += maker_fee
    if taker._remaining >= 0:  # -1: none
        taker._remaining -= size
    if taker._funds_remaining >= 0:
        taker._funds_remaining -= notional
    taker.filled_size += size_
    taker.executed_value += notional
    taker.fill_fees += taker_fee
    if buyer is taker:
        buyer_fee, seller_fee = taker_fee, maker_fee
    else:
        buyer_fee, seller_fee = maker_fee, taker_fee
    base = size_ * WIDE_SIZE_TO_AMOUNT
    # the seller: base out of its hold, quote in, fee out
    held = seller.hold_account
    held.balance -= base
    seller_base = to_int(held.balance)
    held.hold -= base
    seller.hold -= base
    quote = seller.recv_account
    value = quote.balance + notional
    seller_quote = to_int(value)
    quote.balance = value - seller_fee
    # the buyer: quote out of its hold (releasing what the fill no longer needs), base in
    quote = buyer.hold_account
    if buyer.type is LIMIT:
        limit_price = buyer.price
        assert limit_price is not None
        remaining = buyer._remaining
        limit = limit_price
        left = remaining * limit
        rate = buyer.hold_rate
        release = buyer.hold - left - div_scale(left * rate)
    else:
        release = notional + buyer_fee
    quote.hold -= release
    buyer.hold -= release
    value = quote.balance - notional
    buyer_quote = to_int(value)
    quote.balance = value - buyer_fee
    received = buyer.recv_account
    received.balance += base
    buyer_base = to_int(received.balance)
    entry = state._entry_id + 1  # the trade's ledger entries: 4, and one per fee charged
    extra = 3
    if seller_fee:
        extra += 1
    if buyer_fee:
        extra += 1
    state._entry_id = entry + extra
    fees.balance += maker_fee + taker_fee
    state._events.append(new_matched(  # its C integers by ``to_int``: one allocation each
        t, product.id, event_int(sequence), event_int(trade_id), maker.id, taker.id,
        maker.profile_id, taker.profile_id, maker.side, level.price, to_int(size_),
        to_int(maker_fee), to_int(taker_fee), maker_rate, taker_rate, event_int(entry),
        seller_base, seller_quote, buyer_quote, buyer_base))


@cython.locals(held=Account, quote=Account, received=Account,
               entry=cython.longlong, extra=cython.longlong)
def _settle(state: State, maker: Order, taker: Order, buyer: Order, seller: Order,
            level: Level, size: int, product: Product, t: int, trade_id: int,
            sequence: int, fees: Account) -> None:
    """Move the amounts of a trade of ``size`` at the level's price, in Python ints.

    Both sides' balances and holds are written here, in one frame: the seller's base out
    and quote in (less its fee), then the buyer's quote out (its hold released), its fee
    and its base in. ``Matched`` carries the balances after, for the ledger.
    """
    price = level.price
    notional = price * size
    maker_rate, taker_rate = maker.maker_rate, taker.taker_rate
    maker_fee = notional * maker_rate // RATE_SCALE
    taker_fee = notional * taker_rate // RATE_SCALE
    level.size -= size
    maker._remaining -= size  # a resting limit order: it has a size
    maker.filled_size += size
    maker.executed_value += notional
    maker.fill_fees += maker_fee
    if taker._remaining >= 0:  # -1: none
        taker._remaining -= size
    if taker._funds_remaining >= 0:
        taker._funds_remaining -= notional
    taker.filled_size += size
    taker.executed_value += notional
    taker.fill_fees += taker_fee
    if buyer is taker:
        buyer_fee, seller_fee = taker_fee, maker_fee
    else:
        buyer_fee, seller_fee = maker_fee, taker_fee
    base = size * SIZE_TO_AMOUNT
    # the seller: base out of its hold, quote in, fee out
    held = seller.hold_account
    held.balance = seller_base = held.balance - base
    held.hold -= base
    seller.hold -= base
    quote = seller.recv_account
    seller_quote = quote.balance + notional
    quote.balance = seller_quote - seller_fee
    # the buyer: quote out of its hold (releasing what the fill no longer needs), base in
    quote = buyer.hold_account
    if buyer.type is LIMIT:
        remaining, limit = buyer._remaining, buyer.price
        assert limit is not None
        left = remaining * limit
        release = buyer.hold - left - left * buyer.hold_rate // RATE_SCALE
    else:
        release = notional + buyer_fee
    quote.hold -= release
    buyer.hold -= release
    buyer_quote = quote.balance - notional
    quote.balance = buyer_quote - buyer_fee
    received = buyer.recv_account
    received.balance = buyer_base = received.balance + base
    entry = state._entry_id + 1  # the trade's ledger entries: 4, and one per fee charged
    extra = 3
    if seller_fee:
        extra += 1
    if buyer_fee:
        extra += 1
    state._entry_id = entry + extra
    fees.balance += maker_fee + taker_fee
    state._events.append(new_matched(
        t, product.id, sequence, trade_id, maker.id, taker.id, maker.profile_id,
        taker.profile_id, maker.side, price, size, maker_fee, taker_fee, maker_rate,
        taker_rate, entry, seller_base, seller_quote, buyer_quote, buyer_base))

# -- self-trade prevention (§4.9) ----------------------------------------------------------
@cython.locals(taker_size=cython.longlong, maker_size=cython.longlong)
def _self_trade(state: State, taker: Order, maker: Order, product: Product, level: Level,
                t: int) -> CancelReason | None:
    """Apply the taker's STP flag to a resting order of the same profile.

    Returns ``102:Self Trade Prevention`` when the taker must be canceled.
    """
    mode = taker.stp
    if mode is CN:
        return STP_CANCEL
    if mode is not DC:  # co and cb cancel the resting order in full
        cancel(state, maker, product, STP_CANCEL, t)
        return STP_CANCEL if mode is CB else None
    if taker._remaining < 0:  # funds-only market order: compare in funds
        return _self_trade_funds(state, taker, maker, product, level, t)
    taker_size, maker_size = taker._remaining, maker._remaining  # a resting limit order
    if maker_size < taker_size:
        cancel(state, maker, product, STP_CANCEL, t)
        shrink(state, taker, taker_size - maker_size, product, t)
        return None
    if maker_size > taker_size:
        level.size -= taker_size
        shrink(state, maker, maker_size - taker_size, product, t)
        return STP_CANCEL
    cancel(state, maker, product, STP_CANCEL, t)
    return STP_CANCEL


def _self_trade_funds(state: State, taker: Order, maker: Order, product: Product, level: Level,
                      t: int) -> CancelReason | None:
    funds = to_int(taker._funds_remaining)  # a funds-only market order: it has funds
    maker_size = maker._remaining  # a resting limit order: it has a size
    value = maker_size * level.price
    if value < funds:
        cancel(state, maker, product, STP_CANCEL, t)
        taker._funds_remaining = funds - value
        product.sequence += 1
        state._events.append(Changed(
            t, product.id, product.sequence, taker.id, taker.profile_id, taker.side, None,
            None, None, funds, funds - value, "STP"))
        return None
    if value > funds:
        decrement = size_for_funds(funds, level.price, product.base_increment)
        if decrement:
            level.size -= decrement
            shrink(state, maker, maker_size - decrement, product, t)
        return STP_CANCEL
    cancel(state, maker, product, STP_CANCEL, t)
    return STP_CANCEL


@cython.locals(old_size=cython.longlong, size=cython.longlong, release=wide, amount=wide,
               rate=wide)
def shrink(state: State, order: Order, new_size: int, product: Product, t: int,
           reason: str = "STP") -> None:
    """Decrement an order's remaining size (STP, or a replayed ``change``: ``reason``),
    releasing the hold it no longer needs; its level's size is the caller's.

    Compiled, the release in C ``wide`` integers (a size below 2**63, the hold's amounts
    below 2**124; a limit buy's new hold as ``holds.buy_hold``'s C branch when its price,
    size and rate fit ``_fits_wide``'s bounds, else by ``limit_buy_hold``): the same numbers
    as the Python ints uncompiled, without a conversion of the hold to an int and back."""
    old_size = order._remaining
    assert 0 < new_size < old_size  # -1 (no size) is never shrunk
    size = new_size
    order._remaining = size
    if order.side is SELL:
        release = old_size - size
        release *= WIDE_SIZE_TO_AMOUNT
    elif order.type is LIMIT:
        price = order.price
        assert price is not None
        hold_rate = order.hold_rate
        if (cython.compiled and below(price, _UNIT_BOUND) and size < _UNIT_BOUND
                and below(hold_rate, _RATE_BOUND)):
            amount, rate = price, hold_rate
            amount *= size
            release = order.hold - amount - div_scale(amount * rate)
        else:
            release = order.hold - limit_buy_hold(new_size, price, hold_rate)
    else:
        release = 0  # a market buy keeps its funds hold; only its size shrinks
    order.hold -= release
    order.hold_account.hold -= release
    product.sequence += 1
    state._events.append(Changed(
        t, product.id, product.sequence, order.id, order.profile_id, order.side, order.price,
        old_size, new_size, None, None, reason))
