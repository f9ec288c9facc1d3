"""The REST side of the race controls (``sandex.admin.races``): hold order requests at the
gate or their replies, and inject order requests past the gate.

Only the three order commands are ever held: ``POST /orders`` (``place``), ``DELETE
/orders/{id}`` (``cancel``) and ``DELETE /orders`` (``cancel_all``), after authentication,
permissions and rate limits, before the handler stamps and applies the command. The gateway
calls ``run`` only while a rule is set (``Races.active``); otherwise it pays one attribute read.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import msgspec

from sandex.admin.races import Facts, Held, Races
from sandex.api.http import ApiError, Receive, Request, Response, answer, encode, error_response
from sandex.api.order_request import product_id_of
from sandex.api.rest.orders import _scope, order_ref
from sandex.api.rest.routing import Context, Route
from sandex.api.tracer import CURRENT
from sandex.auth.keys import ApiKey, Permission
from sandex.errors import Error

GATED = {("POST", "/orders"): "place", ("DELETE", "/orders/{order_id}"): "cancel",
         ("DELETE", "/orders"): "cancel_all"}
"""The routes the gate and the reply holds see, by the type a match names."""

INJECT_KEY = "inject"  # the key an injected request is listed under (it has none)


def describe(app: Context, kind: str, request: Request,
             params: dict[str, str]) -> tuple[Facts, str]:
    """The facts a match is checked against, and a one-line summary for listings."""
    key = request.api_key
    assert key is not None
    facts: Facts = {"type": kind, "key": key.key, "profile": key.profile_id, "order_id": None,
                    "client_oid": None, "product_id": None}
    try:
        if kind == "place":
            body = request.json()
            body = body if isinstance(body, dict) else {}
            oid = body.get("client_oid")
            facts["client_oid"] = oid.lower() if isinstance(oid, str) and oid else None
            facts["product_id"] = product_id_of(body.get("product_id"))
            words = [str(body[name]) for name in ("side", "type", "size", "funds")
                     if body.get(name) is not None]
            price = f" @ {body['price']}" if body.get("price") is not None else ""
            return facts, f"place {' '.join(words)} {facts['product_id']}{price}"
        facts["product_id"] = product_id_of(_scope(request, "product_id"))
        if kind == "cancel":
            order_id, client_oid = order_ref(params["order_id"])
            order = app.node.engine.find_order(key.profile_id, order_id, client_oid)
            facts["order_id"] = order.id if order is not None else order_id
            facts["client_oid"] = order.client_oid if order is not None else client_oid
            return facts, f"cancel {params['order_id']}"
    except ApiError:  # a malformed request: held as it is, its handler refuses it later
        pass
    return facts, f"{kind} {params.get('order_id') or facts['product_id'] or ''}".rstrip()


async def run(app: Context, races: Races, kind: str, route: Route, request: Request,
              params: dict[str, str]) -> Response:
    """Handle one order request under the rules: held at the gate before it is applied,
    and/or its reply held after."""
    facts, summary = describe(app, kind, request, params)
    gate = races.gate
    if gate.rules and gate.matches(facts):
        if gate.full():
            return error_response(Error.GATE_FULL, len(gate.held))
        held = gate.admit(request.method, request.path, facts, summary)
        passed = await gate.wait(held, _disconnect(request.receive))
        if (notes := CURRENT.get()) is not None:
            notes.gate = _waited(held)
        if not passed:
            return error_response(Error.GATE_DROPPED)
    replies = races.replies
    if not (replies.rules and replies.matches(facts)) or replies.full():
        return await route.handler(app, request, **params)
    response = await answer(lambda r: route.handler(app, r, **params), request)
    held = replies.admit(request.method, request.path, facts, summary)
    await replies.wait(held, _disconnect(request.receive))
    if (notes := CURRENT.get()) is not None:
        notes.reply_hold = _waited(held)
    return response


def _waited(held: Held) -> dict[str, Any]:
    """A hold as a trace shows it: its id, how long it held the request, how it ended."""
    return {"held_id": held.id, "waited_ms": round((time.monotonic() - held.arrived) * 1000, 3),
            "released": held.how}


def _disconnect(receive: Receive | None) -> Awaitable[None] | None:
    """What returns when the client has gone away (``None``: a request with no connection)."""
    return None if receive is None else _gone(receive)


async def _gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def inject(app: Context, router_match: Any, profile_id: str, kind: str,
                 args: dict[str, Any]) -> tuple[int, Any]:
    """Run one order request as ``profile_id`` through its REST handler, past the gate, the
    reply holds, authentication and rate limits: the same parsing, checks, ids and answer as
    the REST request. ``kind``: ``place`` (``args`` = the ``POST /orders`` body), ``cancel``
    (``order_id`` or ``client:<oid>``, optional ``product_id``), ``cancel_all`` (optional
    ``product_id``). Returns the HTTP status and JSON body REST would have answered."""
    product = args.get("product_id")
    query = f"product_id={product}" if kind != "place" and isinstance(product, str) else ""
    if kind == "place":
        method, path, body = "POST", "/orders", encode(args)
    elif kind == "cancel":
        order_id = args.get("order_id")
        if not isinstance(order_id, str) or not order_id or "/" in order_id:
            raise ValueError("cancel needs order_id (an order id or client:<client_oid>)")
        method, path, body = "DELETE", f"/orders/{order_id}", b""
    else:
        method, path, body = "DELETE", "/orders", b""
    request = Request(method, path, path + ("?" + query if query else ""), query, {}, body,
                      INJECT_KEY)
    request.api_key = ApiKey(key=INJECT_KEY, secret="", secret_bytes=b"", passphrase_hash=b"",
                             salt=b"", permissions=frozenset({Permission.TRADE}),
                             profile_id=profile_id, created_at=0)
    route, params = router_match(method, path)
    response = await answer(lambda r: route.handler(app, r, **params), request)
    return response.status, msgspec.json.decode(response.body)

