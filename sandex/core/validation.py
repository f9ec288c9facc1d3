"""Static checks of a new order against its product's rules (§4.1, §6.2, §12.1).

Runs before anything changes, in the order of ``sandex.errors.Error``'s order-entry block.
Checks that need balances or the book (open-order limit, funds, post-only crossing) follow in
the engine.
"""

from __future__ import annotations

from msgspec.structs import astuple

from sandex.core.commands import PlaceOrder
from sandex.core.events import Rejected, reject
from sandex.core.holds import plain_notional
from sandex.core.limits import expire_time_ahead_max, funds_max, unit_max
from sandex.core.model import OrderType, ProductStatus, TimeInForce
from sandex.core.product import Product
from sandex.errors import Error
from sandex.units import AMOUNT_DECIMALS, SIZE_TO_AMOUNT, format_trimmed, price_text

LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
ONLINE = ProductStatus.ONLINE
GTC = TimeInForce.GTC
LIMIT_ONLY, POST_ONLY = ProductStatus.LIMIT_ONLY, ProductStatus.POST_ONLY
IOC = TimeInForce.IOC
IOC_FOK = (IOC, TimeInForce.FOK)
GTT = TimeInForce.GTT

_CLOSED = {
    ProductStatus.DISABLED: Error.TRADING_DISABLED,
    ProductStatus.CANCEL_ONLY: Error.CANCEL_ONLY_MODE,
}


def check_order(product: Product, cmd: PlaceOrder) -> Rejected | None:
    """The first rule ``cmd`` breaks, or ``None``."""
    closed = _CLOSED.get(product.status)
    if closed is not None:
        return reject(closed)
    market = cmd.type is MARKET
    if market and product.status is LIMIT_ONLY:
        return reject(Error.LIMIT_ONLY_MODE)
    if market and product.status is POST_ONLY:
        return reject(Error.POST_ONLY_MODE)
    if not market:
        problem = _check_time_in_force(cmd) or _check_price(product, cmd.price, "price")
        if problem:
            return problem
    if cmd.stop is not None or cmd.stop_price is not None:
        problem = _check_stop(product, cmd)
        if problem:
            return problem
    return _check_amounts(product, cmd, market)


def is_plain_limit(product: Product, cmd: PlaceOrder) -> bool:
    """Is ``cmd`` a plain GTC limit order (or IOC, not post-only) well inside ``product``'s
    rules, its product matching (not halted)?

    The engine places such an order without ``check_order`` (its fast path, where this
    expression is written inline), so this must imply ``check_order(product, cmd) is None``:
    a property test over wild commands proves it, and a test checks the inline copy is this
    same expression. A rule added to ``check_order`` must keep it true.
    """
    # the same unpacking as ``_place``'s (a test compares the two); not all is read here
    (t, order_id, profile_id, product_id, side, kind, price, size, funds, time_in_force,  # noqa: RUF059
     cancel_after, post_only, stp, stop, stop_price, client_oid, expire_time) = astuple(cmd)  # noqa: RUF059
    plain_fields = (kind is LIMIT and funds is None and stop is None
                    and stop_price is None and cancel_after is None
                    and expire_time is None)
    return (plain_fields and product.status is ONLINE and product.halted is None
            and (time_in_force is GTC or (time_in_force is IOC and not post_only))
            and price is not None and size is not None
            and plain_notional(price, size, product.quote_increment, product.base_increment,
                               product.min_market_funds) is not None)


def is_plain_market(product: Product, kind: OrderType, size: int | None, funds: int | None,
                    stop: object, stop_price: int | None) -> bool:
    """Is a ``PlaceOrder`` of these fields a market order (not a stop) whose size and funds
    are well inside ``product``'s rules, its product online and matching (not halted)?

    The engine places such an order without ``check_order`` (``Engine._place_market``), so
    this must imply ``check_order(product, cmd) is None``: a property test over wild commands
    proves it. A rule added to ``check_order`` must keep it true.
    """
    if not (kind is MARKET and product.status is ONLINE and product.halted is None
            and stop is None and stop_price is None):
        return False
    if size is None:
        if funds is None:
            return False
    elif not (product.base_increment <= size <= unit_max and not size % product.base_increment):
        return False
    return funds is None or (not funds % (product.quote_increment * SIZE_TO_AMOUNT)
                             and 0 < funds <= funds_max and funds >= product.min_market_funds)


def _check_time_in_force(cmd: PlaceOrder) -> Rejected | None:
    tif = cmd.time_in_force
    if cmd.post_only and tif in IOC_FOK:
        return reject(Error.POST_ONLY_TIME_IN_FORCE)
    if cmd.cancel_after is not None and tif is not GTT:
        return reject(Error.CANCEL_AFTER_REQUIRES_GTT)
    expire_time = cmd.expire_time
    if expire_time is None:
        if tif is GTT and cmd.cancel_after is None:
            return reject(Error.GTT_REQUIRES_CANCEL_AFTER)
        return None
    if tif is not GTT:
        return reject(Error.EXPIRE_TIME_REQUIRES_GTT)
    if cmd.cancel_after is not None:
        return reject(Error.EXPIRE_TIME_AND_CANCEL_AFTER)
    if expire_time <= cmd.time:
        return reject(Error.EXPIRE_TIME_PASSED)
    if expire_time - cmd.time > expire_time_ahead_max:
        return reject(Error.EXPIRE_TIME_TOO_FAR)
    return None


def _check_price(product: Product, price: int | None, field: str) -> Rejected | None:
    increment = product.quote_increment
    if price is None:
        return reject(Error.MISSING_FIELD, field)
    if price < increment:
        return reject(Error.PRICE_TOO_SMALL, price_text(increment))
    if price > unit_max:  # the venue's bound (``limits``)
        error = Error.PRICE_TOO_LARGE if field == "price" else Error.STOP_PRICE_TOO_LARGE
        return reject(error, price_text(unit_max))
    if price % increment:
        error = Error.PRICE_TOO_ACCURATE if field == "price" else Error.STOP_PRICE_TOO_ACCURATE
        return reject(error, price_text(increment))
    return None


def _check_stop(product: Product, cmd: PlaceOrder) -> Rejected | None:
    if cmd.stop is None:
        return reject(Error.MISSING_FIELD, "stop")
    if cmd.post_only:  # a triggered stop takes liquidity by design
        return reject(Error.POST_ONLY_STOP)
    return _check_price(product, cmd.stop_price, "stop_price")


def _check_amounts(product: Product, cmd: PlaceOrder, market: bool) -> Rejected | None:
    size, funds = cmd.size, cmd.funds
    if (size is None and funds is None) or (not market and size is not None and funds is not None):
        return reject(Error.SIZE_OR_FUNDS)
    if size is not None:
        increment = product.base_increment
        if size < increment:
            return reject(Error.SIZE_TOO_SMALL, price_text(increment))
        if size > unit_max:
            return reject(Error.SIZE_TOO_LARGE, price_text(unit_max))
        if size % increment:
            return reject(Error.SIZE_TOO_ACCURATE, price_text(increment))
    if funds is not None:
        unit = product.quote_increment * SIZE_TO_AMOUNT
        if funds % unit:
            return reject(Error.FUNDS_TOO_ACCURATE, price_text(product.quote_increment))
        if funds > funds_max:
            return reject(Error.FUNDS_TOO_LARGE, price_text(funds_max // SIZE_TO_AMOUNT))
        if funds <= 0 or (market and funds < product.min_market_funds):
            minimum = product.min_market_funds // SIZE_TO_AMOUNT
            return reject(Error.FUNDS_TOO_SMALL, price_text(minimum))
    if not market:
        assert cmd.price is not None
        if size is None:  # limit order with funds: the size it buys, floored to the increment
            assert funds is not None
            size = funds // cmd.price
            size -= size % product.base_increment
            if size <= 0:
                return reject(Error.SIZE_TOO_SMALL, price_text(product.base_increment))
            if size > unit_max:  # funds 10**36 at a price of 1e-8 would buy 10**36
                return reject(Error.SIZE_TOO_LARGE, price_text(unit_max))
        if size * cmd.price < product.min_market_funds:
            return reject(Error.NOTIONAL_TOO_SMALL,
                          format_trimmed(product.min_market_funds, AMOUNT_DECIMALS))
    return None

