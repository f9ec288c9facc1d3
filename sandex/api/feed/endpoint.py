"""The feed's ASGI endpoint: one WebSocket connection = a reader, a writer and a ``Session``.

Served on the REST server's port (``sandex.server.asgi``), on ``/`` and ``/ws`` (§9.1).

* Handshake: other paths get HTTP 404 ``{"message":"NotFound"}``; more than the per-IP
  connection rate (§8.1: 8/s, burst 20) gets HTTP 429 ``{"message":"Public rate limit
  exceeded"}`` (GUESS: the REST text; old clients saw ``unexpected server response (429)``).
* Reader: each client message is size-checked (``Message too big``), rate-checked per IP
  (``ErrSlowRead``, §9.7) and handed to the hub. A connection with no accepted (un)subscribe
  within ``subscribe_deadline_s`` (§9.1: 5 s) is sent an error and closed.
* Writer: drains the session's queue into the socket; the transport's own backpressure (the
  server pauses ``send`` while its buffer is full) is what fills the queue of a slow reader.
  While a feed hold (``sandex.admin.races``) names the connection, frames stay queued.
* Slow consumers: a queue past ``queue_max`` frames or ``queue_bytes_max`` bytes is cut
  (``Session.cut``): the transport is aborted at once, its buffers dropped; ``ErrSlowConsume``
  goes first only if the socket takes it whole without waiting (nothing of an earlier frame
  still buffered). Nobody waits for the client, and it holds nothing in the server after.
* Closing: the last error frame goes out, then a close frame. A connection that has not
  finished closing within ``close_grace_s`` (a client that stopped reading) is aborted.
  Protocol pings are answered by the server library; the ``heartbeat`` channel is the
  application-level liveness signal.
* Handshake: its request is read by the HTTP server under ``sandex.api.guard``'s limits (the
  head within ``header_timeout_s``, ``idle_timeout_s`` before it); after it, the subscribe
  deadline above applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter
from typing import Any

from sandex.admin.races import FeedHolds, races_of
from sandex.api.clocks import SignatureClock
from sandex.api.feed.faults import ABRUPT, FeedFaults
from sandex.api.feed.flush import Direct, Flusher
from sandex.api.feed.hub import Hub
from sandex.api.feed.limits import FeedLimits
from sandex.api.feed.progress import ReadProbe
from sandex.api.feed.protocol import error
from sandex.api.feed.render import encode
from sandex.api.feed.session import Session
from sandex.api.feed.traced import Deliveries, TracedSession
from sandex.api.http import Receive, Send, drop_connection
from sandex.api.ratelimit import RateLimiter
from sandex.core import Event, Matched
from sandex.errors import Error
from sandex.faults import faults_of
from sandex.node import Node, Restored
from sandex.node.node import NodeStopped

log = logging.getLogger("sandex.feed")

PATHS = frozenset({"/", "/ws", "/ws/"})  # §9.1 (``ws://host:port`` is ``/``)
_MATCHED: type = Matched
_TRADE_ID = attrgetter("trade_id")  # a product's last trade id
_RESTORED: type = Restored
RESTART_CODE = 1012  # RFC 6455 "Service Restart": sent to every connection on a restore


class Feed:
    """The WebSocket feed of one node: an ASGI callable and a node listener."""

    def __init__(self, node: Node, limits: FeedLimits | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 signature_clock: SignatureClock | None = None,
                 tracer: Deliveries | None = None) -> None:
        self.node = node
        self.tracer = tracer  # test mode: connections count each traced command's frames
        self.limits = limits if limits is not None else FeedLimits()
        self.wall_clock = wall_clock  # connection and message limits run on real time
        self.hub = Hub(node, signature_clock if signature_clock is not None else wall_clock,
                       self._subscription_limit())
        self._connections = RateLimiter(self.limits.connections_rate,
                                        self.limits.connections_burst)
        self._messages = RateLimiter(self.limits.messages_rate, self.limits.messages_burst)
        self._timers_started = False
        self.sessions: dict[Session, None] = {}  # every open connection
        self.cuts = 0  # slow consumers cut so far (GET /metrics, as the two below)
        self.refused_connections = 0  # handshakes over the per-IP connection rate
        self.refused_messages = 0  # connections closed with ErrSlowRead
        self._flusher: Flusher | None = None  # made with the first connection (needs a loop)
        self.faults = FeedFaults(faults_of(node), self.sessions)
        self._already_mirrored = 0  # commands to skip after a restart (see ``restart``)
        # With no connection open the hub's mirror is dormant (``on_batch`` does nothing but
        # keep each product's last trade for ``last_match``): woken, rebuilt from the node,
        # by the next connection (``attach``), which waits (``ready``) until the commands
        # the rebuilt mirror holds are durable before it reads or is sent anything.
        self.live = False
        self._ready_at = 0  # the journal position the mirror was rebuilt at (``ready``)
        self._last_matches: dict[str, Matched] = {}  # while dormant: ``last_match``'s
        self._restores_seen = node.restores  # of them, those ``_dormant`` has had
        # each product's last trade id when ``_dormant`` last had seen every trade applied
        self._trades_seen: tuple[int, ...] = () if node.in_flight else tuple(
            map(_TRADE_ID, node.engine.products.values()))
        self._numbers = itertools.count(1)  # connection ids
        self.holds = races_of(node).feed  # connections whose frames wait (admin ``feed.hold``)
        self.holds.wake = self._wake_all
        self.holds.connections = self._connections_json

    def on_events(self, events: list[Event]) -> None:
        """The node listener: one durable command's events, in command order.

        Runs inside the node's commit step, so a bug here is logged, never raised: the feed
        must not be able to stop the venue."""
        try:
            if not self.live:
                self._dormant([events])
            elif self._already_mirrored:  # applied before the hub was rebuilt: in it already
                self._already_mirrored -= 1
                _skipped(self.hub, events)
            elif events and type(events[0]) is Restored:
                self.restart(events[0])
            else:
                self.hub.on_events(events)
        except Exception:
            log.exception("feed listener failed on %d events", len(events))

    def on_batch(self, batches: list[list[Event]]) -> None:
        """``on_events`` for each command of a group commit (``sandex.node.Batched``): one
        call per commit on the way in, and still a failure logged per command."""
        if not self.live:  # no connection: nothing to mirror (one test a commit)
            self._dormant(batches)
            return
        hub = self.hub
        for events in batches:
            try:
                if self._already_mirrored:
                    self._already_mirrored -= 1
                    _skipped(hub, events)
                elif events and type(events[0]) is Restored:
                    self.restart(events[0])
                    hub = self.hub
                else:
                    hub.on_events(events)
            except Exception:
                log.exception("feed listener failed on %d events", len(events))

    def _dormant(self, batches: list[list[Event]]) -> None:
        """What a dormant feed keeps of a group commit: each product's last trade (the
        ``last_match`` a ``matches`` subscriber gets first), forgotten on a restore (a
        restarted hub knows none, ``restart``). A commit is looked through only if some
        product's last trade id or the node's count of restores moved since every trade
        and restore applied was last seen here (a tuple of the products' trade ids made and
        compared in C: the rest of the time, no loop in Python)."""
        node = self.node
        products = node.engine.products
        trades = tuple(map(_TRADE_ID, products.values()))  # one pass in C
        if trades == self._trades_seen and node.restores == self._restores_seen:
            return  # no trade nor restore since the last look: none in this commit
        last = self._last_matches
        self._restores_seen += _note_matches(last, chain.from_iterable(batches))
        if not node.in_flight or all(
                product.trade_id == (matched.trade_id if (matched := last.get(product_id))
                                     is not None else 0)
                for product_id, product in products.items()):
            self._trades_seen = trades  # every trade applied so far is durable and seen

    def attach(self, session: Session) -> None:
        """Count ``session`` among the open connections, waking the mirror if it is
        dormant: a new hub built from the node's state as it stands, which may hold
        commands applied and not yet durable (their events, when durable, are skipped:
        they are in it already, but for their trades' ``last_match``). Until ``ready``
        returns nothing may read it."""
        self.sessions[session] = None
        if self.live:
            return
        node = self.node
        last = self._last_matches
        self.hub = hub = Hub(node, self.hub.signature_clock, self._subscription_limit())
        for product_id, matched in last.items():
            product = hub.state.products.get(product_id)
            if product is not None:
                product.last_match = matched
        last.clear()
        self._already_mirrored = node.position - node.durable_position
        self._ready_at = node.position
        self.live = True

    def detach(self, session: Session) -> None:
        """Forget a closed connection; the last one leaves the mirror dormant."""
        self.sessions.pop(session, None)
        self.hub.remove(session)
        if not self.sessions and self.live:
            self.live = False
            self._already_mirrored = 0  # what is in flight now comes to ``_dormant`` too
            node = self.node
            self._restores_seen = node.restores - sum(
                type(event) is _RESTORED for event in node.pending_events())
            self._trades_seen = ()  # the next commit looks, until it has seen them all
            last = self._last_matches
            for product_id, product in self.hub.state.products.items():
                if product.last_match is not None:
                    last[product_id] = product.last_match

    async def ready(self) -> None:
        """Once the mirror shows only durable commands (at once, unless ``attach`` woke it
        while commands were in flight). Raises ``NodeStopped`` if the node stops first."""
        node = self.node
        while node.durable_position < self._ready_at and node.in_flight:
            await node.synced()

    def restart(self, restored: Restored) -> None:
        """The venue went back to a snapshot, and its sequences with it: close every
        connection with 1012 (Service Restart; clients resubscribe and resync) and start the
        hub afresh on the node's state. That state may already hold commands applied after the
        restore whose events are still to come (their batch is being written): those are
        skipped, being in the new hub's mirror already."""
        for session in self.sessions:
            session.subscriptions.clear()  # the old hub's, forgotten with it
            session.close(code=RESTART_CODE)
        self.hub = Hub(self.node, self.hub.signature_clock, self._subscription_limit())
        self._already_mirrored = self.node.position - restored.position

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        if (await receive())["type"] != "websocket.connect":
            return
        client = (scope.get("client") or ("",))[0]
        if scope.get("path") not in PATHS:
            await _deny(scope, send, Error.NOT_FOUND)
            return
        if self.limits.rate_limits and not self._connections.allow(client, self.wall_clock()):
            self.refused_connections += 1
            await _deny(scope, send, Error.PUBLIC_RATE_LIMIT)
            return
        await send({"type": "websocket.accept"})
        _bound_socket(send, self.limits.socket_send_bytes)
        self._start_timers()
        number, tracer = next(self._numbers), self.tracer
        limits = self.limits
        session = Session(client, limits.queue_max, number, limits.queue_bytes_max) \
            if tracer is None else TracedSession(client, limits.queue_max, number, tracer,
                                                 limits.queue_bytes_max)
        await self._serve(session, receive, send)

    async def _serve(self, session: Session, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        self.attach(session)
        try:
            await self.ready()
        except NodeStopped:
            self.detach(session)
            return
        self.faults.arm(session)
        session.direct = Direct.of(send)
        session.probe = ReadProbe.of(send)
        if session.direct is not None:
            if self._flusher is None:
                self._flusher = Flusher(loop, self.holds, self.limits.flush_gap_max_s)
            session.flusher = self._flusher
        writer = loop.create_task(_write(session, send, self.holds))
        reader = loop.create_task(self._read(session, receive))
        transport, conn = _transport_of(send)

        def too_late() -> None:  # still closing after the grace: the client does not read
            writer.cancel()
            if transport is not None:
                abort(transport, conn, None)

        def cut() -> None:
            self.cuts += 1
            if transport is not None:
                abort(transport, conn, _SLOW_CONSUME)

        session.on_close = lambda: loop.call_later(self.limits.close_grace_s, too_late)
        if transport is not None:
            session.on_cut = cut
        deadline = loop.call_later(self.limits.subscribe_deadline_s, self._deadline, session)
        try:
            await asyncio.wait((reader, writer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
            self.detach(session)
            session.closing = True
            reader.cancel()
            writer.cancel()

    async def _read(self, session: Session, receive: Receive) -> None:
        limits = self.limits
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return
            if kind != "websocket.receive" or session.closing:
                continue
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if len(data) > limits.message_bytes_max:
                session.close(Error.FEED_MESSAGE_TOO_BIG, Error.FEED_TOO_BIG_REASON.format())
            elif limits.rate_limits and not self._messages.allow(session.client,
                                                                 self.wall_clock()):
                self.refused_messages += 1
                session.close(Error.FEED_SLOW_READ, Error.FEED_SLOW_READ_REASON.format())
            elif not self.faults.refuse_subscribe(session, data, self.hub.state.products):
                self.hub.handle(session, data)

    def _deadline(self, session: Session) -> None:
        if not session.accepted:
            seconds = f"{self.limits.subscribe_deadline_s:g}"
            session.close(Error.FEED_SUBSCRIBE_REQUIRED, Error.FEED_DEADLINE.format(seconds))

    def _subscription_limit(self) -> int | None:
        limits = self.limits
        return limits.subscriptions_per_product if limits.rate_limits else None

    def _check_reads(self) -> None:
        """Ping each connection sent frames since its last pong; cut one that has left a ping
        unanswered for ``read_lag_max_s`` (``sandex.api.feed.progress``)."""
        now, lag_max = asyncio.get_running_loop().time(), self.limits.read_lag_max_s
        lagging = [s for s in self.sessions if s.probe is not None and not s.closing
                   and s.probe.lagging(s.written, now, lag_max)]
        for session in lagging:
            session.cut()

    # -- figures (GET /metrics) ---------------------------------------------------------------
    def connection_count(self) -> int:
        return len(self.sessions)

    def subscription_counts(self) -> dict[str, int]:
        """Subscriptions (a connection to a product; ``status``: to the channel) per channel."""
        return {channel: sum(len(subs) for subs in products.values())
                for channel, products in self.hub.index.items()}

    # -- feed holds ------------------------------------------------------------------------------
    def _wake_all(self) -> None:
        for session in self.sessions:
            session.wake.set()

    def _connections_json(self) -> list[dict[str, Any]]:
        return [{"connection": s.id, "client": s.client,
                 "key": s.identity.key if s.identity else None,
                 "profile": s.identity.profile_id if s.identity else None,
                 "queued": len(s.queue)} for s in self.sessions]

    # -- timers --------------------------------------------------------------------------------
    def _start_timers(self) -> None:
        """Start the periodic messages with the first connection (a loop is running then)."""
        if self._timers_started:
            return
        self._timers_started = True
        limits, node = self.limits, self.node  # ``self.hub``: a restore replaces it
        self._every(limits.heartbeat_interval_s, lambda: self.hub.heartbeats(node.now()))
        self._every(limits.level2_batch_interval_s, lambda: self.hub.flush_level2_batch())
        self._every(limits.ticker_batch_interval_s, lambda: self.hub.flush_ticker_batch())
        self._every(limits.status_interval_s, lambda: self.hub.send_status())
        self._every(limits.balance_interval_s, lambda: self.hub.flush_balances())
        self._every(limits.read_check_interval_s, self._check_reads)

    def _every(self, interval: float, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def run() -> None:
            try:
                action()
            except Exception:  # a bug in one tick must not stop the next ones
                log.exception("feed timer failed")
            loop.call_later(interval, run)

        loop.call_later(interval, run)


def _note_matches(last: dict[str, Matched], events: Iterable[Event]) -> int:
    """Each product's last ``Matched`` of ``events`` kept in ``last``, all forgotten at a
    ``Restored`` (a restored venue's last trade is unknown to a restarted hub); how many
    of those there were."""
    restores = 0
    for event in events:
        kind = type(event)
        if kind is _MATCHED:
            last[event.product_id] = event  # type: ignore[attr-defined,assignment]
        elif kind is _RESTORED:
            last.clear()
            restores += 1
    return restores


def _skipped(hub: Hub, events: list[Event]) -> None:
    """A command skipped, its effects in ``hub`` already (applied before the hub was
    built): only its trades move ``last_match`` (a hub built from the node's state knows
    none), and a restore forgets them all."""
    products = hub.state.products
    for event in events:
        kind = type(event)
        if kind is _MATCHED:
            product = products.get(event.product_id)  # type: ignore[attr-defined]
            if product is not None:
                product.last_match = event  # type: ignore[assignment]
        elif kind is _RESTORED:
            for product in products.values():
                product.last_match = None


async def _write(session: Session, send: Send, holds: FeedHolds) -> None:
    """Send queued frames in order; after ``close``, a close frame, then return. While a feed
    hold names the connection its frames stay queued (a closing connection flushes).

    On uvicorn's connection with no extension negotiated, everything queued when the writer
    wakes leaves in one ``transport.write`` (``Direct``); elsewhere one ``send`` per frame.
    (With ``Direct`` most frames leave from the ``Flusher`` without waking the writer.)"""
    queue, wake = session.queue, session.wake
    direct = session.direct
    try:
        while True:
            while queue and not (holds.rules and not session.closing and _held(holds, session)):
                if direct is not None and not holds.rules:
                    await direct.writable.wait()  # frames pile up (and count) meanwhile
                    batch = list(queue)
                    queue.clear()
                    session.written += session.queued_bytes
                    session.queued_bytes = 0
                    direct.write(batch)
                    continue
                frame = queue.popleft()
                session.queued_bytes -= len(frame)
                session.written += len(frame)
                await send({"type": "websocket.send", "text": frame})
            if session.closing:
                if session.close_code == ABRUPT:  # a fault: no close frame, the TCP link cut
                    await drop_connection(send)
                else:
                    await send({"type": "websocket.close", "code": session.close_code})
                return
            wake.clear()
            await wake.wait()
    except Exception:  # the client went away (the server raises ClientDisconnected/OSError)
        return


_SLOW_CONSUME = encode(error(Error.FEED_SLOW_CONSUME, Error.FEED_SLOW_CONSUME_REASON.format()))


def _transport_of(send: Send) -> tuple[asyncio.Transport | None, Any]:
    """The connection's transport and websockets protocol object, reached through ``send``
    (uvicorn's is a method of the connection's protocol); ``None`` in-process."""
    protocol = getattr(send, "__self__", None)
    return getattr(protocol, "transport", None), getattr(protocol, "conn", None)


def _bound_socket(send: Send, send_bytes: int) -> None:
    """Fix the connection's kernel send buffer at ``send_bytes`` (no autotuning)."""
    transport, _ = _transport_of(send)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_bytes)


def abort(transport: asyncio.Transport, conn: Any, frame: str | None) -> None:
    """Drop the connection now, its buffers with it. ``frame`` (a text frame for ``conn``,
    websockets' sans-I/O connection) is handed to the kernel first if nothing of an earlier
    frame is still buffered, and only as far as the socket takes it without waiting."""
    if transport.is_closing():
        return
    if frame is not None and conn is not None and not transport.get_write_buffer_size():
        with contextlib.suppress(Exception):  # a closed conn, a full or gone socket
            conn.send_text(frame.encode())
            os.write(transport.get_extra_info("socket").fileno(),
                     b"".join(conn.data_to_send()))
    transport.abort()


def _held(holds: FeedHolds, session: Session) -> bool:
    who = session.identity
    return holds.holds(session.id, who.key if who else None, who.profile_id if who else None)


async def _deny(scope: dict[str, Any], send: Send, error: Error) -> None:
    """Refuse the handshake with an HTTP error (or a bare 403 if the server cannot)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = encode({"message": error.format()}).encode()
        await send({"type": "websocket.http.response.start", "status": error.status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
