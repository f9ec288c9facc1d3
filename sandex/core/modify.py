"""Modify an order's price and size in place (``ModifyOrder``; FIX OrderCancelReplaceRequest).

The order stays the same order (same id, fills carried over): its new ``size`` is a total,
so what is left to trade is ``size - filled_size``. Queue priority follows Coinbase's rule:

* same price, remaining size not larger: it keeps its place in the queue;
* a larger size or any new price: it goes to the back of its (new) level, and a price that
  crosses the book trades at once as a taker would; a remainder rests at the new price;
* a size no larger than what has filled cancels the order (``107:Broker``).

The hold is recomputed exactly as if the remainder were placed now (a buy's
``price * remaining * (1 + hold rate)``, a sell's remaining base); an increase the available
balance cannot cover refuses the modify, and any refusal changes nothing. An untriggered
stop-limit order can change its price, size and stop price (a new stop price gives it a new
arrival number: it triggers after the stops it used to precede).

Events: ``Changed`` with reason ``modify_order`` (remaining sizes, the new and old price;
private, without a sequence, for a stop), then, if the order traded, its ``Matched`` events
and either ``Done`` or a ``Changed`` with reason ``remainder_after_modification`` (the size
that rests: no second ``open``), as Coinbase's feed tells it.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify

from sandex.core.book import Level, leaves
from sandex.core.commands import ModifyOrder
from sandex.core.events import Changed, Opened, Rejected, reject
from sandex.core.holds import limit_buy_hold
from sandex.core.lifecycle import cancel
from sandex.core.limits import unit_max
from sandex.core.matching import take
from sandex.core.model import CancelReason, Order, OrderType, ProductStatus, Side, Status
from sandex.core.product import Product
from sandex.core.state import State
from sandex.core.validation import _check_price
from sandex.errors import Error
from sandex.units import AMOUNT_DECIMALS, SIZE_TO_AMOUNT, format_trimmed, price_text

MODIFY = "modify_order"
REMAINDER = "remainder_after_modification"
BUY = Side.BUY
OPEN, ACTIVE = Status.OPEN, Status.ACTIVE
_CLOSED = {
    ProductStatus.DISABLED: Error.TRADING_DISABLED,
    ProductStatus.CANCEL_ONLY: Error.CANCEL_ONLY_MODE,
}

TriggerStops = Callable[[Product, int], None]


def modify_order(state: State, cmd: ModifyOrder, trigger_stops: TriggerStops) -> None:
    """Apply ``cmd`` (see the module docstring), or refuse it with one ``Rejected``."""
    events = state._events
    order = _find(state, cmd)
    if order is None:
        return
    product = state.products[order.product_id]
    refused = _refusal(order, product, cmd)
    if refused is not None:
        events.append(refused)
        return
    t = cmd.time
    if cmd.size <= order.filled_size:  # nothing left to trade at the new size
        cancel(state, order, product, CancelReason.BROKER, t)
        return
    remaining = cmd.size - order.filled_size
    hold = (limit_buy_hold(remaining, cmd.price, order.hold_rate) if order.side is BUY
            else remaining * SIZE_TO_AMOUNT)
    account = order.hold_account
    if hold - order.hold > account.balance - account.hold:
        events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    crosses = order.status is OPEN and _crosses(product, order.side, cmd.price)
    if crosses and (order.post_only or product.status is ProductStatus.POST_ONLY):
        events.append(reject(Error.POST_ONLY_MODE))
        return
    if crosses and product.halted is not None:  # it could not trade until the resume
        events.append(reject(Error.ORDER_NOT_MODIFIABLE))
        return
    account.hold += hold - order.hold
    order.hold = hold
    order.size = cmd.size
    _rename(state, order, cmd.client_oid)
    if order.status is ACTIVE:
        _modify_stop(state, order, product, cmd, remaining, t)
    else:
        _modify_resting(state, order, product, cmd.price, remaining, crosses, t, trigger_stops)


def _find(state: State, cmd: ModifyOrder) -> Order | None:
    """The profile's live order ``cmd`` names, or ``None`` with the reject appended."""
    order = state._live.get(cmd.order_id)  # live or archived
    error = (Error.ORDER_ALREADY_DONE if order is not None and order.status is Status.DONE
             else None)
    if order is None or order.profile_id != cmd.profile_id or (
            cmd.product_id is not None and order.product_id != cmd.product_id):
        state._events.append(reject(Error.ORDER_NOT_FOUND))
        return None
    if error is not None:
        state._events.append(reject(error))
        return None
    return order


def _refusal(order: Order, product: Product, cmd: ModifyOrder) -> Rejected | None:
    """The first rule ``cmd`` breaks for ``order`` (the checks and texts of a place), or
    ``None``."""
    closed = _CLOSED.get(product.status)
    if closed is not None:
        return reject(closed)
    status = order.status
    if (order.type is not OrderType.LIMIT or order.funds is not None
            or status not in (OPEN, ACTIVE) or (order.stop is not None and status is not ACTIVE)
            or (cmd.stop_price is not None and status is not ACTIVE)):
        return reject(Error.ORDER_NOT_MODIFIABLE)
    for value, field in ((cmd.price, "price"), (cmd.stop_price, "stop_price")):
        if value is not None:
            refused = _check_price(product, value, field)
            if refused is not None:
                return refused
    increment = product.base_increment
    if cmd.size < increment:
        return reject(Error.SIZE_TOO_SMALL, price_text(increment))
    if cmd.size > unit_max:  # the venue's bound, as a place's
        return reject(Error.SIZE_TOO_LARGE, price_text(unit_max))
    if cmd.size % increment:
        return reject(Error.SIZE_TOO_ACCURATE, price_text(increment))
    if cmd.size * cmd.price < product.min_market_funds:
        return reject(Error.NOTIONAL_TOO_SMALL,
                      format_trimmed(product.min_market_funds, AMOUNT_DECIMALS))
    return None


def _crosses(product: Product, side: Side, price: int) -> bool:
    if side is BUY:
        best = product.book.best_ask()
        return best is not None and best <= price
    best = product.book.best_bid()
    return best is not None and best >= price


def _rename(state: State, order: Order, client_oid: str | None) -> None:
    """Give ``order`` its new client id (FIX's new ClOrdID) in the profile's index."""
    if client_oid is None or client_oid == order.client_oid:
        return
    index = state.profiles[order.profile_id].by_client_oid
    old = order.client_oid
    if old is not None and index.get(old) is order:
        del index[old]
    order.client_oid = client_oid
    index[client_oid] = order


def _modify_stop(state: State, order: Order, product: Product, cmd: ModifyOrder,
                 remaining: int, t: int) -> None:
    old_price, old_remaining = order.price, order.remaining
    order.price, order.remaining = cmd.price, remaining
    if cmd.stop_price is not None and cmd.stop_price != order.stop_price:
        order.stop_price = cmd.stop_price
        state._order_number += 1
        order.number = state._order_number  # a new trigger priority
        product.stops.reindex()
        if order.expire_time is not None:  # its expiry tie-break follows the new number
            state._expiries = [(e, o.number, o) for e, _, o in state._expiries]
            heapify(state._expiries)
    state._events.append(Changed(
        t, product.id, None, order.id, order.profile_id, order.side, cmd.price, old_remaining,
        remaining, None, None, MODIFY, old_price, order.client_oid, order.stop_price))


def _modify_resting(state: State, order: Order, product: Product, price: int, remaining: int,
                    crosses: bool, t: int, trigger_stops: TriggerStops) -> None:
    old_price, old_remaining = order.price, order.remaining
    assert old_price is not None and old_remaining is not None  # an open limit order
    book = product.book
    buy = order.side is BUY
    level = book.find(buy, old_price)
    assert level is not None  # an open order rests at its level
    events = state._events
    if price == old_price and remaining <= old_remaining:  # keeps its place in the queue
        level.size -= old_remaining - remaining
        order.remaining = remaining
    else:
        _unlink(level, order)
        level.count -= 1
        if level.count == 0:
            book.forget(buy, level)
        else:
            level.size -= old_remaining
        order.price, order.remaining = price, remaining
        if not crosses:
            book.add(order)
    sequence = product.sequence = product.sequence + 1
    events.append(Changed(
        t, product.id, sequence, order.id, order.profile_id, order.side, price, old_remaining,
        remaining, None, None, MODIFY, old_price, order.client_oid))
    if not crosses:
        return
    # off the book, it trades as a taker would; it stays ``open`` (announced by the change,
    # not by a ``received``) until it rests again or is done
    product.print_low = product.print_high = None
    trades_before = product.trade_id
    take(state, order, product, t)
    last = events[-1]
    if type(last) is Opened and last.order_id == order.id:  # rests: not a second ``open``
        events[-1] = Changed(
            t, product.id, last.sequence, order.id, order.profile_id, order.side, price,
            remaining, last.remaining_size, None, None, REMAINDER, None, order.client_oid)
    if product.trade_id != trades_before and product.stops.live:
        trigger_stops(product, t)


def _unlink(level: Level, order: Order) -> None:
    """Take ``order``'s slot out of its level's queue (a modify moves it elsewhere)."""
    orders = level.orders
    leaves(order)  # until it joins a level again (``Book.add``)
    for index, queued in enumerate(orders):
        if queued is order:
            del orders[index]
            return
