"""The REST gateway as a raw ASGI application.

One request: read the raw body, route, rate-limit, authenticate (private routes), check the
permission, run the handler, answer JSON. Any failure becomes a ``{"message": ...}`` with
the table's status; an unexpected exception is logged and answered 500 (a bug, never data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandex.api.rest import accounts, market, openapi, orders
from sandex.api.rest.authn import AuthFailure, authenticate, authorize
from sandex.api.rest.http import JSON_TYPE, ApiError, Request, Response, error_response
from sandex.api.rest.ratelimit import RateLimits, RestRateLimiter
from sandex.api.rest.routing import Route, Router
from sandex.errors import Error
from sandex.logs import ACCESS
from sandex.node import Node

log = logging.getLogger("sandex.rest")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

ROUTES: list[Route] = [*market.ROUTES, *accounts.ROUTES, *orders.ROUTES,
                      Route("GET", "/openapi.json", openapi.serve_document)]
_COMMON_HEADERS = [(b"content-type", JSON_TYPE), (b"cache-control", b"no-store"),
                   (b"access-control-allow-origin", b"*"),
                   (b"access-control-expose-headers", b"cb-before, cb-after")]


class RestApp:
    """``node`` is the only state; ``limits`` switch rate limiting (§8) on or off."""

    def __init__(self, node: Node, limits: RateLimits | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.node = node
        self.router = Router(ROUTES)
        self.rate_limiter = RestRateLimiter(limits)
        self.wall_clock = wall_clock  # seconds, for the ±30 s signature window and buckets
        self.websocket: Callable[..., Awaitable[None]] | None = None  # the feed mounts here
        self.admin: Callable[[Request], Awaitable[Response]] | None = None  # /admin/ (local)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            started = time.perf_counter()
            request = await _read_request(scope, receive)
            response = await self.handle(request)
            headers = _COMMON_HEADERS + (response.headers or [])
            await send({"type": "http.response.start", "status": response.status,
                        "headers": [*headers, (b"content-length", str(len(response.body))
                                               .encode())]})
            await send({"type": "http.response.body", "body": response.body})
            if ACCESS.enabled:
                ACCESS.request(request.client, request.method, request.target, response.status,
                               (time.perf_counter() - started) * 1e3)
        elif kind == "websocket" and self.websocket is not None:
            await self.websocket(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ApiError as exc:
            return Response(_error_body(exc.message), exc.status)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.target)
            return Response(_error_body("Internal server error"), 500)

    async def _dispatch(self, request: Request) -> Response:
        route, params = self.router.match(request.method, request.path)
        if route is None:
            if self.admin is not None and request.path.startswith("/admin/"):
                return await self.admin(request)
            return error_response(Error.NOT_FOUND)
        if route.method == "GET" and self.node.in_flight:
            await self.node.synced()  # reads show nothing that is not yet durable
        now = self.wall_clock()
        if route.permission is None:
            limited = self.rate_limiter.check_public(request.client, now)
            if limited is not None:
                return error_response(limited)
            return await route.handler(self, request, **params)
        result = authenticate(request.headers, request.method, request.target, request.body,
                              self.node.keys, now)
        if isinstance(result, AuthFailure):
            return Response(_error_body(result.message), result.status)
        denied = authorize(result, route.permission)
        if denied is not None:
            return error_response(denied)
        limited = self.rate_limiter.check_private(result.profile_id, now,
                                                  fills=route.fills_bucket)
        if limited is not None:
            return error_response(limited)
        request.api_key = result
        return await route.handler(self, request, **params)


def _error_body(message: str) -> bytes:
    from sandex.api.rest.http import encode

    return encode({"message": message})


async def _read_request(scope: dict[str, Any], receive: Receive) -> Request:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path + b"?" + query if query else raw_path
    headers = {name.decode("latin-1").lower(): value.decode("utf-8", "surrogateescape")
               for name, value in scope["headers"]}
    client = scope.get("client")
    return Request(scope["method"], scope["path"], target.decode("utf-8", "surrogateescape"),
                   query.decode("utf-8", "surrogateescape"), headers, body,
                   client[0] if client else "")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
