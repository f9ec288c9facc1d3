"""The REST gateway: route, rate-limit, authenticate (private routes), authorize, handle.

Any failure becomes a ``{"message": ...}`` with the table's status; an unexpected exception is
logged and answered 500 (a bug, never data). ``handle`` is the in-process entry; the ASGI
framing is ``sandex.api.http.respond``, and which gateway answers what on the shared port is
decided in one place (``sandex.server.asgi``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from functools import cached_property
from typing import Any

from sandex.admin.races import races_of
from sandex.api.clocks import SignatureClock
from sandex.api.http import (
    ApiError,
    Handle,
    Request,
    Response,
    answer,
    encode,
    error_response,
    message_response,
)
from sandex.api.rest import explain, openapi, races
from sandex.api.rest.account_config import AccountConfig
from sandex.api.rest.faults import RestFaults
from sandex.api.rest.ratelimit import RateLimits, RestRateLimiter
from sandex.api.rest.routes import ROUTES
from sandex.api.rest.routing import Router, authorize
from sandex.api.rest.trace import Traces, bucket_state
from sandex.api.tracer import CURRENT, RequestNotes, Tracer
from sandex.auth.verify import AuthFailure, authenticate, verify_found
from sandex.core import Event
from sandex.errors import Error
from sandex.faults import faults_of
from sandex.node import Node, Restored, RestoreWatch

__all__ = ["RestApp"]


class RestApp:
    """``node`` is the only state; ``limits`` switch rate limiting (§8) on or off. The buckets
    run on venue time (a frozen clock refills nothing); ``signature_clock`` is the time the
    ±30 s signature window is checked against (``sandex.api.clocks``)."""

    def __init__(self, node: Node, limits: RateLimits | None = None,
                 signature_clock: SignatureClock = time.time,
                 admin_paths: dict[str, dict[str, Any]] | None = None,
                 request_ids: bool = False, tracer: Tracer | None = None,
                 account: AccountConfig | None = None) -> None:
        self.node = node
        self._restores = RestoreWatch(node)
        self.account = account if account is not None else AccountConfig()
        self.admin_paths = admin_paths  # the admin endpoint's part of ``/openapi.json``
        self.router = Router(ROUTES)
        self.rate_limiter = RestRateLimiter(limits)
        self.signature_clock = signature_clock
        self.faults = RestFaults(faults_of(node), self._answer)
        self._fault_rules = self.faults.rules  # empty unless a ``rest`` rule is installed
        # the last requests (``POST /admin/trace``), in test mode (``[testing] request_ids``)
        if request_ids and tracer is None:
            tracer = Tracer(node)
        self.traces = Traces(tracer) if tracer is not None else None
        self.races = races_of(node)  # the gate and reply holds (``docs/testing.md``)
        self.races.inject = self.inject
        self.current: Handle = self.handler()  # ``handler()``, kept as the fault rules change
        self.faults.faults.listeners.append(self._rules_changed)

    def explain(self, args: dict[str, Any]) -> dict[str, Any]:
        """``POST /admin/explain {"key", "request"}``: what ``POST /orders`` would answer."""
        return explain.explain(self.node, self.rate_limiter, args.get("key"), args.get("request"))

    def on_events(self, events: list[Event]) -> None:
        """The node listener: a restore empties every bucket (they ran on the venue time the
        restore moved)."""
        if events and type(events[0]) is Restored:
            self.rate_limiter = RestRateLimiter(self.rate_limiter.limits)
            self.faults.stale.clear()  # older views of another epoch
            if self.traces is not None:
                self.traces.clear()  # the restored venue hands out the same order ids again

    def on_batch(self, batches: list[list[Event]]) -> None:
        """``on_events`` for a whole group commit (``sandex.node.Batched``): only a restore
        concerns the gateway (one test per commit that holds none)."""
        for events in self._restores.restores(batches):
            self.on_events(events)

    @cached_property
    def openapi(self) -> bytes:
        """The OpenAPI document of the routes, encoded once (``GET /openapi.json``)."""
        return encode(openapi.document(self.router.routes, self.admin_paths))

    def handler(self) -> Handle:
        """What serves the next request for a caller that answers exceptions itself as
        ``answer`` does (the ASGI framing, ``respond``): ``handle``, or outside test mode and
        with no fault rule the dispatch itself, with no wrapper on the way to the node."""
        if self.traces is None and not self._fault_rules:
            return self._dispatch
        return self.handle

    def _rules_changed(self) -> None:
        """A fault rule was added or cleared: ``handler()`` may now be another."""
        self.current = self.handler()

    async def handle(self, request: Request) -> Response:
        """The answer to ``request``, errors included (never raises); a fault rule may
        change it (``sandex.api.rest.faults``); traced (``sandex.api.rest.trace``)."""
        traces = self.traces
        if traces is None:  # not in test mode: nothing to keep
            if self._fault_rules:
                return await self.faults.handle(request)
            return await answer(self._dispatch, request)
        started = time.perf_counter()
        request_id = traces.next_id()
        notes = RequestNotes()
        token = CURRENT.set(notes)  # the commands, firings and holds of this request
        try:
            if self._fault_rules:
                response = await self.faults.handle(request)
            else:
                response = await answer(self._dispatch, request)
        finally:
            CURRENT.reset(token)
        node = self.node
        detail = None
        if request.command is not None and response.status >= 400:  # an order refused
            figures = explain.DETAILS.get(request.error or "")
            detail = figures(node.engine, request.command) if figures is not None else None
        traces.record(request_id, request, response, node.now(), node.position, started,
                      detail, notes, self._access(request))
        return response

    def _access(self, request: Request) -> tuple[Any, Any]:
        """A traced request's authentication and rate-limit bucket, kept as small tuples
        (``sandex.api.rest.trace`` renders them when asked)."""
        route, _ = self.router.match(request.method, request.path)
        if route is None:
            return None, None
        error, limiter = request.error, self.rate_limiter
        if route.permission is None:
            return None, bucket_state(limiter, "public", request.client, error)
        key = request.api_key
        if key is None or (error == Error.FORBIDDEN.name
                           and authorize(key, route.permission) is not None):
            return (key, error), None
        bucket = "fills" if route.fills_bucket else "private"
        return (key, None), bucket_state(limiter, bucket, key.profile_id, error)

    def trace(self, args: dict[str, Any]) -> Any:
        """``POST /admin/trace {"request_id" | "order_id" | "client_oid" | "after" [,
        "refused"]}``, or ``{"newest": true}``: the latest request's id."""
        if self.traces is None:
            raise ValueError("this venue keeps no traces: start it from a scenario with "
                             "[testing] request_ids = true (the plugin's does)")
        if args.get("newest") is True:
            return {"request_id": self.traces.newest()}
        return self.traces.find(args.get("request_id"), args.get("order_id"),
                                args.get("client_oid"), args.get("after"),
                                args.get("refused") is True)

    async def _answer(self, request: Request) -> Response:
        return await answer(self._dispatch, request)

    async def _synced(self, request: Request) -> Response:
        """``_dispatch`` of a read made while commands are in flight: read at once, answered
        once every command applied before it is durable. (Waiting first and reading then
        would let in what was applied between the wake-up and the read, not yet durable.)"""
        node = self.node
        try:
            result = self._dispatch(request, True)
            response = result if isinstance(result, Response) else await result
        except ApiError:
            await node.synced()  # a refusal too tells only what is durable
            raise
        await node.synced()
        return response

    def _dispatch(self, request: Request, synced: bool = False) -> Response | Awaitable[Response]:
        """The answer to ``request``: a refusal at once, else the route's handler's awaitable,
        not awaited here (no coroutine frame of the dispatch's own on the way to the node and
        back); may raise ``ApiError`` (the caller answers it, as ``answer`` does)."""
        route, params = self.router.match(request.method, request.path)
        if route is None:
            return error_response(Error.NOT_FOUND)
        request.route = route.pattern
        node = self.node
        if route.method == "GET" and not synced and node.in_flight:
            return self._synced(request)  # reads show nothing that is not yet durable
        limiter = self.rate_limiter
        limits = limiter.limits.enabled  # off: no bucket to check, no time to read
        now = node.now() / 1_000_000 if limits else 0.0
        if route.permission is None:
            if limits and (limited := limiter.check_public(request.client, now)) is not None:
                request.error = limited.name
                return error_response(limited)
            return route.handler(self, request, **params)
        if limits and (blocked := limiter.check_auth(request.client, now)) is not None:
            request.error = blocked.name  # too many failed authentications: not even checked
            return error_response(blocked)
        found = request.access_headers()  # the four values alone, not the whole dict
        result = verify_found(found, request.method, request.target, request.body,
                              node.keys, self.signature_clock()) if found is not None \
            else authenticate(request.headers, request.method, request.target, request.body,
                              node.keys, self.signature_clock())
        if isinstance(result, AuthFailure):
            if limits:
                limiter.auth_failed(request.client, now)
            request.error = result.error.name
            return message_response(result.message, result.status)
        request.api_key = result
        profile = node.engine.profiles.get(result.profile_id)
        needed = route.permission
        active = profile is None or profile.active
        if not (active and needed and not result.permissions.isdisjoint(needed)):
            # ``authorize`` for all but an active profile's key that holds the permission
            denied = authorize(result, needed, active)
            if denied is not None:
                request.error = denied.name
                return error_response(denied)
        if limits and (limited := limiter.check_private(
                result.profile_id, now, fills=route.fills_bucket)) is not None:
            request.error = limited.name
            return error_response(limited)
        if self.races.active and (kind := races.GATED.get((route.method, route.pattern))):
            return races.run(self, self.races, kind, route, request, params)
        if params:
            return route.handler(self, request, **params)
        return route.handler(self, request)

    async def inject(self, profile_id: str, kind: str, args: dict[str, Any]) -> tuple[int, Any]:
        """One order request as ``profile_id``, past the gate (``races.inject``)."""
        return await races.inject(self, self.router.match, profile_id, kind, args)
