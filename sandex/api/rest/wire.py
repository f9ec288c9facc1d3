"""Wire shapes of REST objects: exact field names and Coinbase's number formats (§12.1).

Prices, sizes and filled sizes print with 8 decimals; funds, fees, executed value, balances
and holds with 16; ``available`` unpadded (as observed, §5.1). Times are ISO 8601 with
microseconds. Integers (``trade_id``, ``sequence``) stay JSON numbers.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from sandex.core import (
    Account,
    LedgerEntry,
    Order,
    OrderType,
    PendingTransfer,
    PlaceOrder,
    Side,
    Status,
)
from sandex.timefmt import iso
from sandex.units import AMOUNT_DECIMALS, amount_text, format_trimmed, price_text
from sandex.views import Fill

_ACCOUNT_NAMESPACE = uuid.UUID("6f1d3b0a-0c3e-4a57-9a52-5e0a5d1c7b10")
_account_ids: dict[tuple[str, str], str] = {}


def account_id(profile_id: str, currency: str) -> str:
    """A stable UUID per (profile, currency): the core names accounts by that pair."""
    key = (profile_id, currency)
    found = _account_ids.get(key)
    if found is None:
        found = _account_ids[key] = str(uuid.uuid5(_ACCOUNT_NAMESPACE, f"{profile_id}:{currency}"))
    return found


def order(o: Order) -> dict[str, Any]:
    """An order as ``GET /orders/{id}`` shows it (§4.2)."""
    out: dict[str, Any] = {"id": o.id}
    if o.price is not None and o.type is OrderType.LIMIT:
        out["price"] = price_text(o.price)
    if o.size is not None:
        out["size"] = price_text(o.size)
    out["product_id"] = o.product_id
    out["profile_id"] = o.profile_id
    out["side"] = o.side.value
    if o.funds is not None:
        out["funds"] = amount_text(o.funds)
    if o.specified_funds is not None:
        out["specified_funds"] = amount_text(o.specified_funds)
    out["type"] = o.type.value
    if o.type is OrderType.LIMIT:
        out["time_in_force"] = o.time_in_force.value
        if o.expire_time is not None:
            out["expire_time"] = iso(o.expire_time)
    out["post_only"] = o.post_only
    out["stp"] = o.stp.value
    out["created_at"] = iso(o.created_at)
    if o.done_at is not None:
        out["done_at"] = iso(o.done_at)
        out["done_reason"] = o.done_reason.value  # type: ignore[union-attr]
    out["fill_fees"] = amount_text(o.fill_fees)
    out["filled_size"] = price_text(o.filled_size)
    out["executed_value"] = amount_text(o.executed_value)
    out["status"] = o.status.value
    out["settled"] = o.status is Status.DONE
    if o.stop is not None:
        out["stop"] = o.stop.value
        out["stop_price"] = price_text(o.stop_price)  # type: ignore[arg-type]
    if o.client_oid is not None:
        out["client_oid"] = o.client_oid
    return out


def new_order(cmd: PlaceOrder, echo: dict[str, str], funds: int | None) -> dict[str, Any]:
    """The ``POST /orders`` answer: ``pending``, numbers echoed as sent (§4.1 OBSERVED).

    Built from the command, not the order: the order may already be done (and purged), but
    Coinbase answers before matching, so the reply never shows fills. ``funds`` is the
    spendable funds the core reserved for a market buy (``specified_funds`` is what was sent).
    """
    market = cmd.type is OrderType.MARKET
    out: dict[str, Any] = {"id": cmd.order_id}
    for name in ("price", "size"):
        if name in echo:
            out[name] = echo[name]
    out["product_id"] = cmd.product_id
    out["profile_id"] = cmd.profile_id
    out["side"] = cmd.side
    out["stp"] = cmd.stp
    if market and cmd.side is Side.BUY and cmd.funds is not None and funds is not None:
        out["funds"] = amount_text(funds)
        out["specified_funds"] = amount_text(cmd.funds)
    elif "funds" in echo:
        out["funds"] = echo["funds"]
    out["type"] = cmd.type
    if not market:
        out["time_in_force"] = cmd.time_in_force
        if cmd.cancel_after is not None:
            out["expire_time"] = iso(cmd.time + cmd.cancel_after.seconds * 1_000_000)
    out["post_only"] = cmd.post_only
    out["created_at"] = iso(cmd.time)
    out["fill_fees"] = "0"
    out["filled_size"] = "0"
    out["executed_value"] = "0"
    out["status"] = "active" if cmd.stop is not None else "pending"
    out["settled"] = False
    if cmd.stop is not None:
        out["stop"] = cmd.stop.value
        out["stop_price"] = echo["stop_price"]
    return out


class _NewLimitOrder(msgspec.Struct, gc=False):
    """``new_order``'s reply for a limit order (its price and size echoed) as msgspec
    encodes it from fixed slots: the field names encoded once, not a dict's keys on every
    reply; the same bytes, field for field in the same order (``tests/api/test_fast_paths``)."""

    id: str
    price: str
    size: str
    product_id: str
    profile_id: str
    side: Any
    stp: Any
    type: Any
    time_in_force: Any
    post_only: bool
    created_at: str
    fill_fees: str = "0"
    filled_size: str = "0"
    executed_value: str = "0"
    status: str = "pending"
    settled: bool = False


_encode = msgspec.json.encode

_PLAIN: set[str] = set()
"""Texts msgspec encodes as themselves between quotes (nothing escaped): the echoed price
and size, the product and profile ids a limit order's reply template takes as they are."""
_PLAIN_MAX = 4096
_TAIL = ('","fill_fees":"0","filled_size":"0","executed_value":"0","status":"pending",'
         '"settled":false}')


def _plain(text: str) -> bool:
    """Whether msgspec encodes ``text`` as itself between quotes; remembered if so."""
    if _encode(text) != b'"' + text.encode() + b'"':
        return False
    if len(_PLAIN) >= _PLAIN_MAX:
        _PLAIN.clear()
    _PLAIN.add(text)
    return True


def new_order_body(cmd: PlaceOrder, echo: dict[str, str], funds: int | None) -> bytes:
    """``new_order`` encoded (the ``POST /orders`` reply's bytes). A limit order's from a
    template when its texts need no escaping (``_PLAIN``): the constant parts as they are,
    the four enums' values (``StrEnum``s: ``str.join`` takes their text without a call),
    the time's text; else from a ``Struct`` (about half the work of the dict's). The same
    bytes every way (``tests/api/test_fast_paths``, ``tests/api/test_reply_template``)."""
    if cmd.type is not OrderType.MARKET and cmd.stop is None and cmd.cancel_after is None \
            and len(echo) == 2 and "funds" not in echo:  # a limit order's price and size
        price, size, product_id, profile_id = \
            echo["price"], echo["size"], cmd.product_id, cmd.profile_id
        plain = _PLAIN
        if (price in plain or _plain(price)) and (size in plain or _plain(size)) and \
                (product_id in plain or _plain(product_id)) and \
                (profile_id in plain or _plain(profile_id)):
            return "".join((
                '{"id":"', cmd.order_id, '","price":"', price, '","size":"', size,
                '","product_id":"', product_id, '","profile_id":"', profile_id,
                '","side":"', cmd.side, '","stp":"', cmd.stp, '","type":"', cmd.type,
                '","time_in_force":"', cmd.time_in_force,
                '","post_only":true,"created_at":"' if cmd.post_only
                else '","post_only":false,"created_at":"', iso(cmd.time), _TAIL)).encode()
        return _encode(_NewLimitOrder(
            cmd.order_id, price, size, product_id, profile_id,
            cmd.side, cmd.stp, cmd.type, cmd.time_in_force, cmd.post_only, iso(cmd.time)))
    return _encode(new_order(cmd, echo, funds))


def account(a: Account) -> dict[str, Any]:
    return {
        "id": account_id(a.profile_id, a.currency),
        "currency": a.currency,
        "balance": amount_text(a.balance),
        "hold": amount_text(a.hold),
        "available": format_trimmed(a.balance - a.hold, AMOUNT_DECIMALS),
        "profile_id": a.profile_id,
        "trading_enabled": True,
    }


def fill(f: Fill, user_id: str, quote_currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created_at": iso(f.created_at),
        "trade_id": f.trade_id,
        "product_id": f.product_id,
        "order_id": f.order_id,
        "user_id": user_id,
        "profile_id": f.profile_id,
        "liquidity": f.liquidity,
        "price": price_text(f.price),
        "size": price_text(f.size),
        "fee": amount_text(f.fee),
        "side": f.side.value,
        "settled": True,
    }
    if quote_currency == "USD":
        out["usd_volume"] = amount_text(f.price * f.size)
    return out


def ledger_entry(e: LedgerEntry) -> dict[str, Any]:
    details: dict[str, str] = {}
    if e.order_id is not None:
        details = {"order_id": e.order_id, "trade_id": str(e.trade_id),
                   "product_id": e.product_id or ""}
    elif e.transfer_id is not None:
        details = {"transfer_id": e.transfer_id,
                   "transfer_type": "deposit" if e.amount > 0 else "withdraw"}
    return {
        "id": str(e.entry_id),
        "created_at": iso(e.time),
        "amount": amount_text(e.amount),
        "balance": amount_text(e.balance),
        "type": e.kind.value,
        "details": details,
    }


def hold(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "account_id": account_id(o.profile_id, o.hold_account.currency),
        "created_at": iso(o.created_at),
        "updated_at": iso(o.created_at),
        "amount": amount_text(o.hold),
        "type": "order",
        "ref": o.id,
    }


def transfer_hold(t: PendingTransfer) -> dict[str, Any]:
    """The hold of a pending withdrawal (type ``transfer``, ref the transfer)."""
    return {
        "id": t.transfer_id,
        "account_id": account_id(t.profile_id, t.currency),
        "created_at": iso(t.created_at),
        "updated_at": iso(t.created_at),
        "amount": amount_text(t.amount),
        "type": "transfer",
        "ref": t.transfer_id,
    }
