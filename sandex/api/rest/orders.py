"""Orders and fills: place, list, look up, cancel one, cancel all (§4.1-§4.7, §6.1).

Cancel follows the seed page exactly: by exchange id or ``client:<client_oid>``, with
``product_id``/``profile_id`` in the query or (as ccxt sends them) in a signed JSON body;
200 with a bare JSON string; ``Order already done``/``order not found``/``Invalid order id``.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from sandex.api.fee_tiers import apply_fee_tier
from sandex.api.http import ApiError, Request, Response, encode, json_response, ok_response
from sandex.api.order_request import order_fields, parse_fields, parse_order, product_id_of
from sandex.api.rest import wire
from sandex.api.rest.pagination import by_created_at, by_trade_id, page, parse_limit
from sandex.api.rest.routing import TRADE, VIEW_OR_TRADE, Context, Route
from sandex.core import (
    Activated,
    CancelAll,
    CancelOrder,
    Done,
    Duplicate,
    Received,
    Rejected,
)
from sandex.errors import Error
from sandex.node.ids import is_uuid
from sandex.timefmt import iso, parse_iso

DEFAULT_STATUSES = frozenset({"open", "pending", "active"})  # §4.4
KNOWN_STATUSES = frozenset({"open", "pending", "active", "done", "received", "rejected", "all"})
SORT_KEYS = {
    "created_at": lambda o: o.created_at,
    "price": lambda o: o.price or 0,
    "size": lambda o: o.size or 0,
    "order_id": lambda o: o.id,
    "side": lambda o: o.side.value,
    "type": lambda o: o.type.value,
}


def order_ref(text: str, held: Container[str] = ()) -> tuple[str | None, str | None]:
    """``(order_id, client_oid)`` from a path segment; ``Invalid order id`` if malformed.

    ``held``: the engine's orders by id (``Engine.orders_on_record``: the open orders and the done
    ones kept). An id it holds is answered as it is, unchecked: every order a gateway places
    has an id minted by the node (``Ids.uuid``: the lower-case 8-4-4-4-12 form the check
    below accepts), so the check could only pass; the probe hashes the text once, and the
    engine's own probe of the same text after it reuses that hash. Any other text is
    checked as before. (A replay's orders keep their recording's ids, which its source need
    not give as UUIDs: such an id, held, is looked up, and being the replay's, not found,
    where a text the venue does not hold is refused as malformed.)"""
    if text in held:
        return text, None
    if text.startswith("client:"):
        client_oid = text[len("client:"):]
        if not client_oid:
            raise ApiError(Error.INVALID_ORDER_ID)
        return None, client_oid.lower()
    if len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text):
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    lower = text.lower()  # once: ``is_uuid`` of the text would lower it again (~530 less)
    if not is_uuid(lower, lower=True):
        raise ApiError(Error.INVALID_ORDER_ID)
    return lower, None


def _scope(request: Request, name: str) -> str | None:
    """A scoping parameter from the query, else from a JSON body (ccxt's DELETE)."""
    value = request.param(name)
    if value is None and request.body:
        body = request.json()
        if isinstance(body, dict) and isinstance(body.get(name), str):
            value = body[name]
    return value or None


_FUNDED = (Received, Activated)  # built once: ``A | B`` would make a union per request


def _raise_if_rejected(events: list[Any]) -> None:
    if len(events) == 1 and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])


async def place_order(app: Context, request: Request) -> Response:
    node = app.node
    key = request.api_key  # ``request.profile_id`` without the property's call
    assert key is not None, "private route without a key"
    profile_id = key.profile_id
    if app.account.fee_tiers:  # the tier's rates first (nothing to do without tiers)
        await apply_fee_tier(node, app.account.fee_tiers, profile_id)
    fields = order_fields(request.body)  # one decode, no dict (``parse_fields``)
    if fields is None:  # not a JSON object: ``parse_order`` says what is wrong
        command, echo = parse_order(request.json_once(), node.engine, profile_id,
                                    node.ids.uuid(), node.stamp())
    else:  # the id and the stamp taken as ``parse_order``'s call takes them: after the body
        order_id, time = node.ids.uuid(), node.stamp()
        parsed = parse_fields(fields, node.engine, profile_id, order_id, time)
        command, echo = parsed if parsed is not None else parse_order(
            request.json_once(), node.engine, profile_id, order_id, time)
    request.order_ref = (command.order_id, command.client_oid)
    request.command = command
    events, durable = node.submit(command)  # ``node.execute`` without its coroutine
    if durable is not None:
        await durable
    first = events[0]
    if type(first) is Rejected:
        raise ApiError.rejected(first)
    if type(first) is Duplicate:  # a retry of an order on record: answer with that order
        prior = node.engine.orders.get(first.order_id)
        if prior is None:  # canceled and purged while the retry waited for durability
            raise ApiError(Error.NOT_FOUND)
        return json_response(wire.order(prior))
    funds = first.funds if isinstance(first, _FUNDED) else None
    return ok_response(wire.new_order_body(command, echo, funds))


async def get_order(app: Context, request: Request, order_id: str) -> Response:
    oid, client_oid = request.order_ref = order_ref(order_id, app.node.engine.orders_on_record)
    order = app.node.engine.find_order(request.profile_id, oid, client_oid)
    if order is None:
        raise ApiError(Error.NOT_FOUND)
    return json_response(wire.order(order))


async def cancel_order(app: Context, request: Request, order_id: str) -> Response:
    oid, client_oid = request.order_ref = order_ref(order_id, app.node.engine.orders_on_record)
    key = request.api_key  # ``request.profile_id`` without the property's call
    assert key is not None, "private route without a key"
    mine = key.profile_id
    product_id = None
    if request.query_string or request.body:  # else neither scope is given: no lookups
        profile_id = _scope(request, "profile_id")
        if profile_id is not None and profile_id != mine:
            raise ApiError(Error.ORDER_NOT_FOUND)
        product_id = product_id_of(_scope(request, "product_id"))
    node = app.node
    events, durable = node.submit(CancelOrder(  # ``node.execute`` without its coroutine
        time=node.stamp(), profile_id=mine, order_id=oid, client_oid=client_oid,
        product_id=product_id))
    if durable is not None:
        await durable
    if len(events) == 1 and type(events[0]) is Rejected:  # ``_raise_if_rejected``, a call less
        raise ApiError.rejected(events[0])
    return ok_response(encode(order_id[len("client:"):] if client_oid else oid))


async def cancel_all(app: Context, request: Request) -> Response:
    profile_id = _scope(request, "profile_id")
    if profile_id is not None and profile_id != request.profile_id:
        raise ApiError(Error.FORBIDDEN)
    product_id = product_id_of(_scope(request, "product_id"))
    node = app.node
    events = await node.execute(CancelAll(time=node.stamp(), profile_id=request.profile_id,
                                          product_id=product_id))
    _raise_if_rejected(events)
    return json_response([e.order_id for e in events if type(e) is Done])


def _date_range(request: Request) -> tuple[int | None, int | None]:
    bounds: list[int | None] = []
    for name in ("start_date", "end_date"):
        text = request.param(name)
        if text:
            value = parse_iso(text)
            if value is None:
                raise ApiError(Error.INVALID_FIELD, name)
            bounds.append(value)
        else:
            bounds.append(None)
    return bounds[0], bounds[1]


def _statuses(request: Request) -> frozenset[str] | None:
    """The statuses asked for; ``None`` means every status (``status=all``)."""
    asked = request.query.get("status") or request.query.get("status[]")
    if not asked:
        return DEFAULT_STATUSES
    values = {v for item in asked for v in item.split(",") if v}
    if not values <= KNOWN_STATUSES:
        raise ApiError(Error.INVALID_FIELD, "status")
    return None if "all" in values else frozenset(values)


async def list_orders(app: Context, request: Request) -> Response:
    requested_profile = request.param("profile_id")
    if requested_profile and requested_profile != request.profile_id:
        raise ApiError(Error.FORBIDDEN)
    statuses = _statuses(request)
    product_id = product_id_of(request.param("product_id"))
    start, end = _date_range(request)
    sorted_by = request.param("sortedBy") or "created_at"
    sorting = (request.param("sorting") or "desc").lower()
    if sorted_by not in SORT_KEYS:
        raise ApiError(Error.INVALID_FIELD, "sortedBy")
    if sorting not in ("asc", "desc"):
        raise ApiError(Error.INVALID_FIELD, "sorting")
    profile = app.node.engine.profiles[request.profile_id]
    source = (profile.live if statuses is not None and "done" not in statuses
              else app.node.orders.for_profile(request.profile_id))
    orders = [o for o in source.values() if (statuses is None or o.status.value in statuses)
              and (product_id is None or o.product_id == product_id)
              and (start is None or o.created_at >= start)
              and (end is None or o.created_at <= end)]
    if sorted_by != "created_at":
        orders.sort(key=SORT_KEYS[sorted_by], reverse=sorting == "desc")
        return json_response([wire.order(o) for o in orders[:parse_limit(request)]])
    chunk, headers = page(orders, by_created_at, request, parse=parse_iso, render=iso)
    if sorting == "asc":
        chunk.reverse()
    return json_response([wire.order(o) for o in chunk], headers=headers)


async def list_fills(app: Context, request: Request) -> Response:
    order_id, product_id = request.param("order_id"), request.param("product_id")
    if not order_id and not product_id:
        raise ApiError(Error.FILLS_QUERY)
    node = app.node
    mine = request.profile_id
    if order_id:
        fills = [f for f in node.fills.for_order(order_id.lower()) if f.profile_id == mine]
        if product_id:
            fills = [f for f in fills if f.product_id == product_id_of(product_id)]
    else:
        fills = list(node.fills.for_product(mine, product_id_of(product_id) or ""))
    start, end = _date_range(request)
    if start is not None or end is not None:
        fills = [f for f in fills if (start is None or f.created_at >= start)
                 and (end is None or f.created_at <= end)]
    chunk, headers = page(fills, by_trade_id, request)
    user_id = node.engine.profiles[mine].user_id
    products = node.engine.products
    return json_response([wire.fill(f, user_id, products[f.product_id].quote_currency)
                          for f in chunk], headers=headers)


ROUTES = [
    Route("POST", "/orders", place_order, TRADE),
    Route("GET", "/orders", list_orders, VIEW_OR_TRADE),
    Route("DELETE", "/orders", cancel_all, TRADE),
    Route("GET", "/orders/{order_id}", get_order, VIEW_OR_TRADE),
    Route("DELETE", "/orders/{order_id}", cancel_order, TRADE),
    Route("GET", "/fills", list_fills, VIEW_OR_TRADE, fills_bucket=True),
]
