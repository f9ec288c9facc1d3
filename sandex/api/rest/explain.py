"""Explain an order before it is sent: what ``POST /orders`` would answer for a key and a
body, and why (``POST /admin/explain``).

A dry run that changes nothing: the key is checked as REST checks it (known, allowed to
trade), the body is parsed by the REST parser (``sandex.api.order_request.parse_order``), and the
command is applied to a scratch copy of the engine, so the verdict is the engine's own, to
the character. A refusal comes back with the message clients would get and a ``rule`` (the
error table's name for it) with the figures behind it; an acceptance with what the order
would do: the fills it would take (price, size, whose order), where it would rest and how
much is queued ahead of it, and what it would hold (while its product's matching is halted:
no fills, queued ``pending``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from sandex.api.http import ApiError
from sandex.api.order_request import parse_order
from sandex.api.rest.ratelimit import RestRateLimiter
from sandex.auth.keys import ApiKey, Permission
from sandex.core import (
    Duplicate,
    Engine,
    Matched,
    Opened,
    OrderType,
    PlaceOrder,
    ProductStatus,
    Rejected,
    Side,
    Status,
)
from sandex.core.holds import hold_rate, limit_buy_hold
from sandex.core.limits import open_orders_per_product_max
from sandex.core.model import Profile
from sandex.core.product import Product
from sandex.errors import Error
from sandex.node import Node
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, SIZE_TO_AMOUNT, format_trimmed

SCRATCH_ID = "00000000-0000-4000-8000-00000000e591"  # the dry run's order id
TRADE = frozenset({Permission.TRADE})

Detail = Callable[[Engine, PlaceOrder], dict[str, Any]]


def explain(node: Node, limiter: RestRateLimiter, key: object, body: object) -> dict[str, Any]:
    """The verdict on ``body`` sent by API key ``key`` (see the module); never raises for bad
    input, which is itself explained."""
    api_key = node.keys.get(key) if isinstance(key, str) else None
    if api_key is None:
        return _refusal(Error.INVALID_API_KEY, {"key": key})
    if api_key.permissions.isdisjoint(TRADE):
        return _refusal(Error.FORBIDDEN,
                        {"permissions": sorted(p.value for p in api_key.permissions),
                         "needed": "trade"})
    verdict = _dry_run(node, api_key, body)
    tokens = limiter.private_tokens(api_key.profile_id)
    if tokens is not None:
        verdict["rate_limit"] = {"bucket": "private", "tokens_left": round(tokens, 3)}
    return verdict


def _dry_run(node: Node, api_key: ApiKey, body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        return _refusal(Error.INVALID_JSON, {})
    try:
        command, _ = parse_order(body, node.engine, api_key.profile_id, SCRATCH_ID, node.now())
    except ApiError as exc:
        return {"would": "reject", "status": exc.status, "message": exc.message,
                "rule": exc.error.name, "detail": {"where": "request"}}
    scratch: Engine = pickle.loads(pickle.dumps(node.engine, protocol=5))
    events = scratch.apply(command)
    first = events[0]
    if type(first) is Rejected:
        detail = DETAILS.get(first.reason)
        return {"would": "reject", "status": first.error.status, "message": first.message,
                "rule": first.reason,
                "detail": detail(node.engine, command) if detail is not None else {}}
    if type(first) is Duplicate:
        return {"would": "answer_existing", "status": 200, "order_id": first.order_id,
                "rule": "client_oid.exactly_once",
                "detail": {"client_oid": command.client_oid}}
    return _acceptance(node.engine, scratch, command, events)


def _acceptance(engine: Engine, scratch: Engine, command: PlaceOrder,
                events: list[Any]) -> dict[str, Any]:
    fills = [{"price": _price(m.price), "size": _price(m.size),
              "maker_order_id": m.maker_order_id,
              "yours": engine.orders[m.maker_order_id].profile_id == command.profile_id
              if m.maker_order_id in engine.orders else False}
             for m in events if type(m) is Matched]
    opened = next((e for e in events if type(e) is Opened), None)
    rests = None
    if opened is not None:
        level = (engine.products[command.product_id].book.bids if opened.side is Side.BUY
                 else engine.products[command.product_id].book.asks).get(opened.price)
        ahead = level.live() if level is not None else []
        rests = {"price": _price(opened.price), "size": _price(opened.remaining_size),
                 "queue_position": len(ahead) + 1,
                 "size_ahead": _price(sum(o.remaining or 0 for o in ahead))}
    order = scratch.orders.get(SCRATCH_ID)
    hold = None
    if order is not None and order.hold:
        hold = {"currency": order.hold_account.currency, "amount": _amount(order.hold)}
    if order is not None and order.status is Status.PENDING:  # its product's matching halted
        liquidity = "none yet: queued until matching resumes"
    else:
        liquidity = ("maker" if not fills else "taker" if rests is None
                     else "taker, then maker")
    return {"would": "accept", "status": 200, "rule": "accepted",
            "detail": {"liquidity": liquidity, "fills": fills, "rests": rests, "hold": hold,
                       "status": order.status.value if order is not None else "done"}}


def _refusal(error: Error, detail: dict[str, Any]) -> dict[str, Any]:
    return {"would": "reject", "status": error.status, "message": error.format(),
            "rule": error.name, "detail": detail}


def _price(units: int) -> str:
    return format_trimmed(units, PRICE_DECIMALS)


def _amount(units: int) -> str:
    return format_trimmed(units, AMOUNT_DECIMALS)


# -- the figures behind each refusal --------------------------------------------------------------
def _funds(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    product, profile = engine.products[cmd.product_id], engine.profiles[cmd.profile_id]
    buy = cmd.side is Side.BUY
    currency = product.quote_currency if buy else product.base_currency
    account = profile.accounts.get(currency)
    available = account.balance - account.hold if account is not None else 0
    detail: dict[str, Any] = {"available": f"{_amount(available)} {currency}"}
    required = _required(product, profile, cmd)
    if required is not None:
        detail["required"] = f"{_amount(required)} {currency}"
        if buy and cmd.type is OrderType.LIMIT:
            detail["formula"] = "price * size * (1 + max(maker_fee_rate, taker_fee_rate))"
    return detail


def _required(product: Product, profile: Profile, cmd: PlaceOrder) -> int | None:
    """What the order would hold, where that does not depend on the book."""
    if cmd.side is Side.SELL:
        return cmd.size * SIZE_TO_AMOUNT if cmd.size is not None else None
    if cmd.type is OrderType.LIMIT and cmd.size is not None and cmd.price is not None:
        return limit_buy_hold(cmd.size, cmd.price,
                              hold_rate(profile.maker_rate, profile.taker_rate))
    return cmd.funds


def _increments(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    product = engine.products[cmd.product_id]
    return {"base_increment": _price(product.base_increment),
            "quote_increment": _price(product.quote_increment),
            "min_market_funds": _amount(product.min_market_funds),
            "size": None if cmd.size is None else _price(cmd.size),
            "price": None if cmd.price is None else _price(cmd.price)}


def _crossing(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    product = engine.products[cmd.product_id]
    buy = cmd.side is Side.BUY
    best = product.book.best_ask() if buy else product.book.best_bid()
    return {"product_status": product.status.value,
            "post_only": cmd.post_only or product.status is ProductStatus.POST_ONLY,
            "best_ask" if buy else "best_bid": None if best is None else _price(best),
            "price": None if cmd.price is None else _price(cmd.price)}


def _mode(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    return {"product_status": engine.products[cmd.product_id].status.value}


def _open_orders(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    profile = engine.profiles[cmd.profile_id]
    return {"open_orders": profile.open_count.get(cmd.product_id, 0),
            "max": open_orders_per_product_max}


def _product(engine: Engine, cmd: PlaceOrder) -> dict[str, Any]:
    return {"product_id": cmd.product_id, "products": sorted(engine.products)}


DETAILS: dict[str, Detail] = {
    Error.INSUFFICIENT_FUNDS.name: _funds,
    Error.POST_ONLY_MODE.name: _crossing,
    Error.TOO_MANY_OPEN_ORDERS.name: _open_orders,
    Error.PRODUCT_NOT_FOUND.name: _product,
    **{error.name: _mode for error in (Error.TRADING_DISABLED, Error.CANCEL_ONLY_MODE,
                                       Error.LIMIT_ONLY_MODE)},
    **{error.name: _increments for error in (
        Error.SIZE_TOO_SMALL, Error.SIZE_TOO_ACCURATE, Error.PRICE_TOO_SMALL,
        Error.PRICE_TOO_ACCURATE, Error.STOP_PRICE_TOO_ACCURATE, Error.FUNDS_TOO_SMALL,
        Error.FUNDS_TOO_ACCURATE, Error.NOTIONAL_TOO_SMALL)},
}
