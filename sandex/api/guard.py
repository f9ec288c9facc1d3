"""The HTTP connection's guards: size limits, timeouts and a per-address connection cap.

uvicorn's httptools protocol, subclassed (``protocols``), so that abuse is refused at the
socket before the ASGI app sees a request (docs/cli.md, "Limits and timeouts"):

- a request head (request line and headers) over ``header_bytes_max`` is answered 431, a
  body over ``body_bytes_max`` 413, announced by ``Content-Length`` (refused before any of
  it is read) or sent chunked (refused as soon as the count passes the limit);
- a request whose head does not arrive within ``header_timeout_s`` of its first byte, or
  whose body does not arrive within ``body_timeout_s`` of its head, is closed with no
  answer; so is a connection idle for ``idle_timeout_s`` (new, or between requests);
- a client address with ``connections_per_address`` connections open (HTTP and WebSocket)
  has its next one answered 429 and closed;
- a request the parser cannot read (bad request line, unknown method, malformed
  ``Content-Length``, a path that is not ASCII), or a WebSocket handshake websockets
  cannot read, is answered 400.

Every answer is ``{"message": ...}`` from ``sandex.errors`` with ``Connection: close``, and
the connection is closed after it; after a body or head refused while the client may still be
sending it, our side closes at once and the rest is read and dropped for ``LINGER_S`` before
the connection closes, so the answer is not lost to a reset. A request refused mid-body has
its ASGI cycle marked disconnected: the app reads ``http.disconnect`` and answers nothing
(``read_request``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from sandex.api.http import encode
from sandex.errors import Error

__all__ = ["HttpLimits", "protocols"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpLimits:
    """The limits of every HTTP connection, overridable in a scenario's ``[http]`` table."""

    body_bytes_max: int = 1_048_576
    """1 MiB. The largest request sandex takes is an order or an admin command, under 1 KB
    (an order body is about 150 bytes); Coinbase documents no limit (GUESS: 1 MiB is
    nginx's default ``client_max_body_size``, and leaves room for a large admin scenario)."""
    header_bytes_max: int = 32_768
    """32 KiB for the request line and headers together (GUESS: Cloudflare, in front of
    Coinbase, takes 32 KB of request headers). A signed request's head is under 1 KB."""
    idle_timeout_s: float = 5.0
    """A connection with no request under way (just opened, or kept alive after an answer) is
    closed after this long (uvicorn's default keep-alive)."""
    header_timeout_s: float = 10.0
    """From a request's first byte to the end of its headers (slowloris)."""
    body_timeout_s: float = 10.0
    """From the end of the headers to the end of the body: with the 1 MiB limit a body must
    arrive at 100 KiB/s or faster (an order body takes one packet)."""
    connections_per_address: int = 128
    """Connections open at once from one client address, REST and feed together."""

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> HttpLimits:
        """Limits from a ``[http]`` TOML table; ``ValueError`` names a bad or unknown key."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in table.items():
            spec = known.get(name)
            if spec is None:
                raise ValueError(f"[http]: unknown setting {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"[http]: {name} must be a number")
            if spec.type == "int" and not isinstance(value, int):
                raise ValueError(f"[http]: {name} must be an integer")
            if value <= 0:
                raise ValueError(f"[http]: {name} must be positive")
            values[name] = value if spec.type == "int" else float(value)
        return replace(cls(), **values)


def answer_bytes(error: Error) -> bytes:
    """A whole HTTP/1.1 answer of ``error`` that closes the connection."""
    body = encode({"message": error.template})
    status = error.status
    reason = {400: b"Bad Request", 413: b"Content Too Large", 429: b"Too Many Requests",
              431: b"Request Header Fields Too Large"}[status]
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json; charset=utf-8\r\n"
            b"cache-control: no-store\r\naccess-control-allow-origin: *\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(body), body))


_ANSWERS = {error: answer_bytes(error) for error in (
    Error.BAD_REQUEST, Error.BODY_TOO_LARGE, Error.HEADERS_TOO_LARGE, Error.TOO_MANY_CONNECTIONS)}


class _Slots:
    """Connections open per client address (one table per server)."""

    __slots__ = ("counts", "most")

    def __init__(self, most: int) -> None:
        self.counts: dict[str, int] = {}
        self.most = most

    def take(self, address: str) -> bool:
        count = self.counts.get(address, 0)
        if count >= self.most:
            return False
        self.counts[address] = count + 1
        return True

    def release(self, address: str) -> None:
        count = self.counts.get(address, 0) - 1
        if count > 0:
            self.counts[address] = count
        else:
            self.counts.pop(address, None)


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of ``HttpLimits`` (module docstring)."""

    limits: HttpLimits = HttpLimits()
    slots: _Slots = _Slots(HttpLimits().connections_per_address)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.idle_timeout_s  # type: ignore[assignment]
        self._slot: str | None = None  # the address whose slot this connection holds
        self._timer: asyncio.TimerHandle | None = None  # checks the head's or body's deadline
        self._phase = _IDLE  # _HEAD, _BODY: what is under way, since ``_since`` (loop time)
        self._since = 0.0
        self._announced = b""  # the request's Content-Length, as sent
        self._digits = len(str(self.limits.body_bytes_max))  # a longer length may be over
        self._head_bytes = 0  # bytes received since the last request ended (its head)
        self._body_bytes = 0
        self._refused = False
        self._lingering = False

    # -- connection ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else ""
        if not self.slots.take(address):
            self._refuse(Error.TOO_MANY_CONNECTIONS)
            return
        self._slot = address
        self.timeout_keep_alive_task = self.loop.call_later(  # idle from the start
            self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._slot is not None:
            self.slots.release(self._slot)
            self._slot = None
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        """The WebSocket protocol that takes the connection over keeps its slot."""
        self._cancel_timer()
        slot, self._slot = self._slot, None
        super().handle_websocket_upgrade()
        protocol = self.transport.get_protocol()
        if isinstance(protocol, GuardedWebSocket):
            protocol.slot = slot
        elif slot is not None:
            self.slots.release(slot)

    def data_received(self, data: bytes) -> None:
        if self._lingering:  # refused: what the client still sends is read and dropped
            return
        self._unset_keepalive_if_required()
        if self._phase != _BODY:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self._refused:  # not our own refusal from a callback: unreadable
                self._refuse(Error.BAD_REQUEST)
            return
        if self._phase != _BODY and self._head_bytes > self.limits.header_bytes_max:
            self._refuse(Error.HEADERS_TOO_LARGE)  # the head is still incomplete

    def send_400_response(self, msg: str) -> None:
        self._refuse(Error.BAD_REQUEST)

    # -- parser callbacks (uvicorn's methods called directly: this is the hot path) -------
    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._phase = _HEAD
        self._since = self.loop.time()
        self._announced = b""
        if self._timer is None:  # one timer per connection, re-armed only when it fires
            self._timer = self.loop.call_at(self._since + self.limits.header_timeout_s,
                                            self._check_deadline)

    def on_header(self, name: bytes, value: bytes) -> None:
        """uvicorn's, which also keeps ``Content-Length`` aside."""
        name = name.lower()
        value = value.rstrip(b" \t")  # RFC 9110 §5.5: no trailing whitespace in a value
        if name == b"content-length":
            self._announced = value
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        limits = self.limits
        if self._head_bytes > limits.header_bytes_max and self._head_size() > \
                limits.header_bytes_max:  # the bytes counted may hold part of the body too
            self._refuse(Error.HEADERS_TOO_LARGE)
            raise _Refused
        announced = self._announced
        if len(announced) >= self._digits and announced.isdigit() and \
                int(announced) > limits.body_bytes_max:
            self._refuse(Error.BODY_TOO_LARGE)  # before a byte of it is read
            raise _Refused
        self._head_bytes = self._body_bytes = 0
        HttpToolsProtocol.on_headers_complete(self)
        self._phase = _BODY
        self._since = self.loop.time()

    def on_body(self, body: bytes) -> None:
        """uvicorn's (0.55), counting the body against its limit."""
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        self._body_bytes += len(body)
        if self._body_bytes > self.limits.body_bytes_max:  # chunked, past the limit
            self._refuse(Error.BODY_TOO_LARGE)
            raise _Refused
        cycle.body += body
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()

    def on_message_complete(self) -> None:
        """uvicorn's (0.55), ending the request's deadline."""
        self._phase = _IDLE
        self._head_bytes = 0
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        cycle.more_body = False
        cycle.message_event.set()

    def _head_size(self) -> int:
        """The request line and headers as parsed, in bytes (near enough: separators)."""
        return len(self.url) + 16 + sum(len(name) + len(value) + 4
                                        for name, value in self.headers)

    # -- refusals --------------------------------------------------------------------------
    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _drop_cycle(self) -> None:
        """A request under way is over: its app reads ``http.disconnect``, answers nothing."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()

    def _refuse(self, error: Error) -> None:
        """Answer ``error`` (unless an answer is already being sent) and close."""
        self._refused = True
        self._cancel_timer()
        self._unset_keepalive_if_required()
        transport = self.transport
        if transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self._drop_cycle()
            transport.write(_ANSWERS[error])
            if error in _LINGER_AFTER and transport.can_write_eof():
                self._linger(transport)
                return
        transport.close()

    def _linger(self, transport: asyncio.Transport) -> None:
        """Close our side after the answer, then read and drop what the client is still
        sending for ``LINGER_S`` before closing: closing at once, with its upload unread,
        makes the kernel reset the connection, and a reset can destroy the answer before
        the client reads it (the "lingering close" of HTTP servers)."""
        self._lingering = True
        transport.write_eof()
        self.flow.resume_reading()  # a body refused past the high-water mark paused it
        self.loop.call_later(LINGER_S, transport.close)

    def _check_deadline(self) -> None:
        """The timer: close the connection if the head or the body under way is late, else
        wait for its deadline (idle connections are uvicorn's keep-alive timer's)."""
        self._timer = None
        phase = self._phase
        if phase == _IDLE:
            return
        limits = self.limits
        deadline = self._since + (limits.header_timeout_s if phase == _HEAD
                                  else limits.body_timeout_s)
        if self.loop.time() < deadline:
            self._timer = self.loop.call_at(deadline, self._check_deadline)
            return
        self._too_slow()

    def _too_slow(self) -> None:
        """The head or the body did not arrive in time: close with no answer."""
        self._refused = True
        self._drop_cycle()
        if not self.transport.is_closing():
            self.transport.close()


_IDLE, _HEAD, _BODY = 0, 1, 2  # GuardedHttp._phase

LINGER_S = 2.0
"""How long a connection refused mid-upload keeps reading (and dropping) before it closes."""
_LINGER_AFTER = frozenset({Error.BODY_TOO_LARGE, Error.HEADERS_TOO_LARGE})


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request already refused."""


class GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, giving back its connection's slot when it closes."""

    slots: _Slots = GuardedHttp.slots
    slot: str | None = None
    on_pong: Callable[[bytes], None] | None = None  # the feed's read probe (feed/progress.py)

    def handle_pong(self, event: Any) -> None:
        """Pongs to the feed's own pings go to its read probe, the rest to uvicorn."""
        if self.on_pong is not None:
            self.on_pong(bytes(event.data))
        super().handle_pong(event)

    def handle_handshake_exception(self) -> None:
        """A handshake websockets cannot read (no ``Sec-WebSocket-Key``, a bad version):
        answered like any unreadable request, ``{"message": ...}`` 400, not plain text."""
        self.handshake_complete = True
        self.close_sent = True
        self.transport.write(_ANSWERS[Error.BAD_REQUEST])
        self.transport.close()

    def handle_connect(self, event: Any) -> None:
        """A handshake websockets refuses (no ``Sec-WebSocket-Key``, a bad version) is
        answered ``{"message": ...}`` 400, not websockets' plain-text page."""
        response = self.conn.accept(event)
        if response.status_code != 101:
            self.request = event
            self.handshake_initiated = self.handshake_complete = self.close_sent = True
            self.transport.write(_ANSWERS[Error.BAD_REQUEST])
            self.transport.close()
            return
        self.conn.accept = lambda request: response  # type: ignore[method-assign]
        try:  # uvicorn's, which asks websockets for the same response again
            super().handle_connect(event)
        finally:
            del self.conn.accept

    def connection_lost(self, exc: Exception | None) -> None:
        if self.slot is not None:
            self.slots.release(self.slot)
            self.slot = None
        super().connection_lost(exc)


def protocols(limits: HttpLimits) -> tuple[type[GuardedHttp], type[GuardedWebSocket]]:
    """The HTTP and WebSocket protocol classes of one server, sharing one slot table."""
    shared = _Slots(limits.connections_per_address)
    http = type("SandexHttp", (GuardedHttp,), {"limits": limits, "slots": shared})
    ws = type("SandexWebSocket", (GuardedWebSocket,), {"slots": shared})
    return http, ws
