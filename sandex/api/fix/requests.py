"""Order-entry fields -> the ``POST /orders`` body the REST parser validates (one venue).

FIX adds only its own rules on top (Coinbase's FIX docs): ClOrdID is a lowercase UUIDv4,
quantities and prices have no extra leading zeros, a market order has OrderQty or
CashOrderQty but not both. Everything else (products, increments, modes, funds) is the same
code as REST: ``sandex.api.order_request.parse_order`` and then the core.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

from sandex.api.http import ApiError
from sandex.errors import Error
from sandex.units import PRICE_DECIMALS, parse_units

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_NUMBER = re.compile(r"(0|[1-9]\d*)(\.\d+)?")

SIDES = {"1": "buy", "2": "sell"}
TYPES = {"1": "market", "2": "limit", "4": "limit"}  # 4: stop-limit (a limit with a stop)
TIFS = {"1": "GTC", "3": "IOC", "4": "FOK", "6": "GTT"}  # 6: GTD, with ExpireTime(126)
STPS = {"D": "dc", "O": "co", "N": "cn", "B": "cb"}
ORDER_TAGS = frozenset({11, 18, 38, 40, 44, 54, 55, 59, 99, 126, 152, 1109, 7928})


_UTC_TIMESTAMP = re.compile(r"(\d{4})(\d\d)(\d\d)-(\d\d):(\d\d):(\d\d)(?:\.(\d{3}|\d{6}|\d{9}))?")


def expire_time(fields: dict[int, str]) -> int | None:
    """ExpireTime(126) in microseconds since the epoch (``None`` if absent): a UTCTimestamp,
    ``YYYYMMDD-HH:MM:SS`` with 0, 3, 6 or 9 fractional digits (nanoseconds truncated)."""
    text = fields.get(126)
    if text is None:
        return None
    match = _UTC_TIMESTAMP.fullmatch(text)
    if match is None:
        raise ApiError(Error.FIX_BAD_VALUE, "ExpireTime(126)")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # the 30th of February, hour 24, second 60 (FIX allows no leap second)
        raise ApiError(Error.FIX_BAD_VALUE, "ExpireTime(126)") from None
    fraction = match.group(7) or ""
    micros = int((fraction + "000000")[:6])
    return calendar.timegm(moment.utctimetuple()) * 1_000_000 + micros


def cl_ord_id(value: str | None, tag: str = "ClOrdID(11)") -> str:
    if value is None:
        raise ApiError(Error.FIX_MISSING_TAG, tag)
    if not UUID4.fullmatch(value):
        raise ApiError(Error.FIX_CLORDID, value)
    return value


def _number(fields: dict[int, str], tag: int, name: str) -> str | None:
    value = fields.get(tag)
    if value is None:
        return None
    # ``_NUMBER.fullmatch`` by str methods (its \d is ``isdecimal``), without a regex call
    whole, point, fraction = value.partition(".")
    if not ((whole == "0" or ("1" <= whole[:1] <= "9" and whole.isdecimal()))
            and (not point or fraction.isdecimal())):
        if re.fullmatch(r"0\d+(\.\d+)?", value):
            raise ApiError(Error.FIX_LEADING_ZEROS, name)
        raise ApiError(Error.FIX_BAD_VALUE, name)
    return value


def decimal_units(fields: dict[int, str], tag: int, name: str) -> int | None:
    """A price or quantity field in 1e-8 units (``None`` if absent); FIX's number rules,
    then at most 8 decimals (the core checks the product's increments)."""
    value = _number(fields, tag, name)
    if value is None:
        return None
    units = parse_units(value, PRICE_DECIMALS)
    if units is None:
        raise ApiError(Error.FIX_BAD_VALUE, name)
    return units


def order_body(fields: dict[int, str], stp_default: str = "") -> dict[str, Any]:
    """The REST body for a NewOrderSingle (or one entry of a NewOrderBatch). A field at its
    REST default (GTC, not post-only, ``dc``, no funds) is left out, so a plain limit order
    takes ``parse_order``'s short path."""
    body: dict[str, Any] = {"client_oid": cl_ord_id(fields.get(11))}
    for tag, name in ((55, "Symbol(55)"), (54, "Side(54)"), (40, "OrdType(40)")):
        if tag not in fields:
            raise ApiError(Error.FIX_MISSING_TAG, name)
    body["product_id"] = fields[55]
    side = SIDES.get(fields[54])
    if side is None:
        raise ApiError(Error.FIX_BAD_VALUE, "Side(54)")
    body["side"] = side
    kind = TYPES.get(fields[40])
    if kind is None:
        raise ApiError(Error.FIX_BAD_VALUE, "OrdType(40)")
    body["type"] = kind
    size = _number(fields, 38, "OrderQty(38)")
    funds = _number(fields, 152, "CashOrderQty(152)")
    price = _number(fields, 44, "Price(44)")
    stop = _number(fields, 99, "StopPx(99)")
    if size is not None and funds is not None:
        raise ApiError(Error.FIX_SIZE_AND_CASH)
    if size is None and funds is None:
        raise ApiError(Error.FIX_MISSING_TAG, "OrderQty(38)")
    if kind == "limit" and funds is not None:  # limit-with-funds: not modelled
        raise ApiError(Error.FIX_BAD_VALUE, "CashOrderQty(152)")
    if kind == "limit" and price is None:
        raise ApiError(Error.FIX_MISSING_TAG, "Price(44)")
    for name, value in (("size", size), ("funds", funds), ("price", price)):
        if value is not None:
            body[name] = value
    if fields[40] == "4":
        if stop is None:
            raise ApiError(Error.FIX_MISSING_TAG, "StopPx(99)")
        direction = fields.get(1109)
        if direction not in (None, "U", "D"):
            raise ApiError(Error.FIX_BAD_VALUE, "TriggerPriceDirection(1109)")
        body["stop_price"] = stop
        if direction is not None:
            body["stop"] = "entry" if direction == "U" else "loss"
    elif stop is not None:
        raise ApiError(Error.FIX_BAD_VALUE, "StopPx(99)")
    tif = fields.get(59, "1")
    if kind == "limit":
        if tif not in TIFS:
            raise ApiError(Error.FIX_BAD_VALUE, "TimeInForce(59)")
        if tif != "1":
            body["time_in_force"] = TIFS[tif]
        exec_inst = fields.get(18)
        if exec_inst not in (None, "A"):
            raise ApiError(Error.FIX_BAD_VALUE, "ExecInst(18)")
        if exec_inst == "A":
            body["post_only"] = True
    elif tif not in ("1", "3", "4"):  # a market order runs once whatever it says
        raise ApiError(Error.FIX_BAD_VALUE, "TimeInForce(59)")
    if (126 in fields) != (tif == "6"):  # ExpireTime "required iff 59=6"
        raise ApiError(Error.FIX_BAD_VALUE if 126 in fields else Error.FIX_MISSING_TAG,
                       "ExpireTime(126)")
    stp = fields.get(7928)
    if stp is None:
        stp = "N" if stp_default == "N" else "B" if stp_default == "Q" else "D"
    if stp not in STPS:
        raise ApiError(Error.FIX_BAD_VALUE, "SelfTradeType(7928)")
    if stp != "D":
        body["stp"] = STPS[stp]
    return body
