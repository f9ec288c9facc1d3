"""``POST /orders`` bodies -> ``PlaceOrder`` commands (§4.1, §1.2).

Lenient where clients differ: decimals as strings or JSON numbers, booleans as ``true`` or
``"true"``, ``null`` for any optional field, unknown fields ignored, ``BASE/QUOTE`` accepted
for ``BASE-QUOTE``. Strict where Coinbase is: every refusal is a row of the error table,
decided before the command exists. Rules needing the product's increments or balances are
left to the core so they have one home.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from sandex.api.http import ApiError
from sandex.core import (
    CancelAfter,
    Engine,
    OrderType,
    PlaceOrder,
    Side,
    StopType,
    Stp,
    TimeInForce,
)
from sandex.errors import Error
from sandex.node.ids import is_uuid
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, is_inexact, parse_units, price_text


def product_id_of(value: object) -> str | None:
    """A product id as clients send it (``btc-usd``, ``BTC/USD``) in canonical form."""
    if not isinstance(value, str) or not value:
        return None
    return value.strip().upper().replace("/", "-")


_CANONICAL: dict[str, str] = {}  # product ids as sent -> ``product_id_of`` them, remembered
_CANONICAL_MAX = 1024


def parse_order(body: dict[str, Any], engine: Engine, profile_id: str, order_id: str,
                time: int, *, oid_checked: bool = False,
                expire_time: int | None = None) -> tuple[PlaceOrder, dict[str, str]]:
    """The command ``body`` asks for, and the numbers as sent (echoed by the reply).
    ``oid_checked``: its ``client_oid`` is a lower-case UUID already (FIX's ClOrdID rule),
    taken as it is. ``expire_time``: a GTT order's absolute expiry (FIX's ExpireTime; REST
    has only ``cancel_after``)."""
    sent = body.get("product_id")
    if sent is None:
        raise ApiError(Error.MISSING_FIELD, "product_id")
    product_id = _CANONICAL.get(sent) if type(sent) is str else None
    if product_id is None:
        product_id = product_id_of(sent)
        product = engine.products.get(product_id) if product_id else None
        if product_id and type(sent) is str:
            if len(_CANONICAL) >= _CANONICAL_MAX:
                _CANONICAL.clear()
            # the product table's own key object when known: ``parse_fields``' probe by it
            # then matches by identity (an equal string that is another object costs the
            # dict a ``memcmp``; its hash is cached either way)
            _CANONICAL[sent] = product.id if product is not None else product_id
    else:
        product = engine.products.get(product_id)
    if product is None:
        raise ApiError(Error.PRODUCT_NOT_FOUND)
    requested_profile = body.get("profile_id")
    if requested_profile is not None and requested_profile != profile_id:
        raise ApiError(Error.FORBIDDEN)
    get = body.get  # an absent or null optional field costs a lookup, not a call
    side = get("side")
    side = _SIDES.get(side) if type(side) is str else None  # as sent by every client
    if side is None:
        side = _choice(body, "side", Side, required=True)
    order_type = get("type")
    order_type = _ORDER_TYPES_SENT.get(order_type) if type(order_type) is str else None
    if order_type is None:
        order_type = _order_type(get("type"))
    echo: dict[str, str] = {}
    price = None if (value := get("price")) is None else _decimal(
        value, "price", PRICE_DECIMALS, product.quote_increment, echo)
    if order_type is _MARKET and price is not None:
        raise ApiError(Error.INVALID_PRICE, echo["price"])
    size = None if (value := get("size")) is None else _decimal(
        value, "size", PRICE_DECIMALS, product.base_increment, echo)
    limit = order_type is _LIMIT
    if body.keys() <= _PLAIN_FIELDS:  # none of the fields below: their defaults, no lookups
        command = PlaceOrder(  # the others left at their defaults (msgspec matches each
            # keyword given by name: 9 of them cost a third of 16)
            time=time, order_id=order_id, profile_id=profile_id, product_id=product.id,
            side=side, type=order_type, price=price, size=size,
            client_oid=None if (value := get("client_oid")) is None
            else value if oid_checked else _client_oid(value))
        return command, echo
    funds = None if (value := get("funds")) is None else _decimal(
        value, "funds", AMOUNT_DECIMALS, product.quote_increment, echo)
    stop_price = None if (value := get("stop_price")) is None else _decimal(
        value, "stop_price", PRICE_DECIMALS, product.quote_increment, echo)
    stop = None if get("stop") is None else _choice(body, "stop", StopType)
    if stop is None and stop_price is not None:  # GUESS: ccxt sends stop_price alone
        stop = StopType.LOSS if side is Side.SELL else StopType.ENTRY
    if stop is not None and stop_price is None:
        raise ApiError(Error.MISSING_FIELD, "stop_price")
    command = PlaceOrder(
        time=time, order_id=order_id, profile_id=profile_id, product_id=product.id,
        side=side, type=order_type, price=price, size=size, funds=funds,
        time_in_force=TimeInForce.GTC if not limit or get("time_in_force") is None
        else _time_in_force(body),
        cancel_after=None if not limit or get("cancel_after") is None
        else _choice(body, "cancel_after", CancelAfter),
        post_only=False if not limit or get("post_only") is None else flag(body, "post_only"),
        stp=Stp.DC if get("stp") is None else _choice(body, "stp", Stp) or Stp.DC,
        stop=stop, stop_price=stop_price,
        client_oid=None if (value := get("client_oid")) is None
        else value if oid_checked else _client_oid(value),
        expire_time=expire_time if limit else None)
    return command, echo


class OrderFields(msgspec.Struct, gc=False):
    """The fields ``parse_order`` reads of a body, as decoded (``None``: absent or ``null``,
    which ``parse_order`` takes alike; any other field is ignored, as there)."""

    product_id: Any = None
    side: Any = None
    type: Any = None
    price: Any = None
    size: Any = None
    client_oid: Any = None
    profile_id: Any = None
    funds: Any = None
    stop_price: Any = None
    stop: Any = None
    time_in_force: Any = None
    cancel_after: Any = None
    post_only: Any = None
    stp: Any = None


_FIELDS_DECODER = msgspec.json.Decoder(OrderFields, float_hook=Decimal)  # as ``Request.json``


def order_fields(body: bytes) -> OrderFields | None:
    """``body``'s order fields in one decode (no dict, no lookups), or ``None`` if it is not
    a JSON object (``parse_order`` of its ``Request.json_object`` then answers as ever)."""
    try:
        return _FIELDS_DECODER.decode(body)
    except (msgspec.DecodeError, ValueError):
        return None


def parse_fields(fields: OrderFields, engine: Engine, profile_id: str, order_id: str,
                 time: int) -> tuple[PlaceOrder, dict[str, str]] | None:
    """``parse_order``'s plain case (a known product as sent before, its usual side and
    type, no funds, stop, time in force, expiry, post-only or STP) from ``order_fields``:
    the same command and echo; ``None`` for anything else (``parse_order`` of the body's
    dict decides, errors included: up to where this one returns ``None`` the two make the
    same checks in the same order, and raise the same errors)."""
    if (fields.funds is not None or fields.stop_price is not None or fields.stop is not None
            or fields.time_in_force is not None or fields.cancel_after is not None
            or fields.post_only is not None or fields.stp is not None):
        return None
    sent = fields.product_id
    product_id = _CANONICAL.get(sent) if type(sent) is str else None
    product = engine.products.get(product_id) if product_id else None
    if product is None:
        return None
    requested_profile = fields.profile_id
    if requested_profile is not None and requested_profile != profile_id:
        return None
    side = fields.side
    side = _SIDES.get(side) if type(side) is str else None
    order_type = fields.type
    order_type = _ORDER_TYPES_SENT.get(order_type) if type(order_type) is str else None
    if side is None or order_type is None:
        return None
    echo: dict[str, str] = {}
    # a plain text seen before (``_UNITS``) is found with one lookup; else ``_decimal``
    units = _UNITS
    if (value := fields.price) is None:
        price = None
    elif type(value) is str and (price := units.get(value)) is not None:
        echo["price"] = value
    else:
        price = _decimal(value, "price", PRICE_DECIMALS, product.quote_increment, echo)
    if order_type is _MARKET and price is not None:
        raise ApiError(Error.INVALID_PRICE, echo["price"])
    if (value := fields.size) is None:
        size = None
    elif type(value) is str and (size := units.get(value)) is not None:
        echo["size"] = value
    else:
        size = _decimal(value, "size", PRICE_DECIMALS, product.base_increment, echo)
    if (value := fields.client_oid) is None:  # its default: a keyword less to match (msgspec
        # looks each keyword up among the 16 fields: ~110 instructions one, the 19th pass)
        return PlaceOrder(time=time, order_id=order_id, profile_id=profile_id,
                          product_id=product.id, side=side, type=order_type, price=price,
                          size=size), echo
    return PlaceOrder(
        time=time, order_id=order_id, profile_id=profile_id, product_id=product.id,
        side=side, type=order_type, price=price, size=size,
        client_oid=_client_oid(value)), echo


_ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}
_LIMIT, _MARKET = OrderType.LIMIT, OrderType.MARKET  # globals: an enum's member costs more
# As clients send them (lower case): found with one lookup, anything else by ``_choice``
_ORDER_TYPES_SENT: dict[str, OrderType] = dict(_ORDER_TYPES)
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
# The fields of an order with no funds, stop, time in force, expiry, post-only or STP flag:
# a body with no other field needs no lookup of those (unknown fields are ignored anyway,
# so one with any other name takes the full path)
_PLAIN_FIELDS = frozenset({"product_id", "side", "type", "price", "size", "client_oid",
                           "profile_id"})


def _order_type(value: object) -> OrderType:
    if value is None:
        return OrderType.LIMIT
    if isinstance(value, str) and (found := _ORDER_TYPES.get(value.lower())) is not None:
        return found
    raise ApiError(Error.INVALID_ORDER_TYPE, value)


_MEMBERS: dict[Any, dict[str, Any]] = {}


def _choice(body: dict[str, Any], name: str, kind: Any, required: bool = False) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(Error.MISSING_FIELD, name)
        return None
    if isinstance(value, str):
        members = _MEMBERS.get(kind)
        if members is None:
            members = _MEMBERS[kind] = {m.value.lower(): m for m in kind}
        member = members.get(value.lower())
        if member is not None:
            return member
    raise ApiError(Error.INVALID_FIELD, name)


def _time_in_force(body: dict[str, Any]) -> TimeInForce:
    return _choice(body, "time_in_force", TimeInForce) or TimeInForce.GTC


def flag(body: dict[str, Any], name: str) -> bool:
    """A boolean field sent as ``true`` or ``"true"`` (false, ``"false"`` or absent: false;
    anything else ``Invalid <name>``)."""
    value = body.get(name)
    if value is None or value is False or value == "false":
        return False
    if value is True or value == "true":
        return True
    raise ApiError(Error.INVALID_FIELD, name)


_MAX_TEXT = 40  # ``parse_units``' longest text
# Plain decimal texts (digits and a point, as clients send them) that ``_decimal`` parsed at
# ``PRICE_DECIMALS`` (prices and sizes), and their units: a client sends the same few again
# and again, and the plain case's string work (~6,400 instructions a field) is then one dict
# lookup. The units depend on the text alone (the increment only on errors), so a text found
# here is answered as ``_decimal`` answers it; cleared when full, like ``_CANONICAL``.
_UNITS: dict[str, int] = {}
_UNITS_MAX = 4096

_TOO_ACCURATE = {
    "price": Error.PRICE_TOO_ACCURATE,
    "size": Error.SIZE_TOO_ACCURATE,
    "funds": Error.FUNDS_TOO_ACCURATE,
    "stop_price": Error.STOP_PRICE_TOO_ACCURATE,
}


def _decimal(value: object, name: str, decimals: int, increment: int,
             echo: dict[str, str]) -> int:
    """The field ``name`` (sent as ``value``, not ``None``) in units of ``10**-decimals``,
    echoed as sent; refused with its error-table row if it is not an exact number."""
    if type(value) is str and value.isascii() and len(value) <= _MAX_TEXT:
        # what clients send: digits and a point; the same as ``parse_units`` gives, directly
        whole, _, fraction = value.partition(".")
        if whole.isdigit() and (not fraction or fraction.isdigit()):
            fraction = fraction.rstrip("0")
            if len(fraction) <= decimals:
                echo[name] = value
                plain = int(whole + fraction.ljust(decimals, "0"))
                if decimals == PRICE_DECIMALS:  # remembered for ``parse_fields``
                    if len(_UNITS) >= _UNITS_MAX:
                        _UNITS.clear()
                    _UNITS[value] = plain
                return plain
    if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
        echo[name] = str(value)
        units = parse_units(value, decimals)
        if units is not None:
            return units
        if is_inexact(value, decimals):
            raise ApiError(_TOO_ACCURATE[name], price_text(increment))
    if name == "price":
        raise ApiError(Error.INVALID_PRICE, value)
    raise ApiError(Error.INVALID_FIELD, name)


def _client_oid(value: object) -> str | None:
    """§3.3/§4.1: a non-UUID client_oid is accepted and silently dropped; a number is refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(Error.INVALID_CLIENT_OID)
    return value.lower() if is_uuid(value) else None
