"""One HTTP request's ASGI cycle, leaner than uvicorn's: what a request holds while it waits.

uvicorn's ``RequestResponseCycle`` (0.55) as ``sandex.api.guard``'s protocol runs it, with the
same ``send`` and ``receive`` (the bytes written are the same: status line, headers in order,
``content-length`` or chunks, ``connection: close``), in one object of fixed slots instead of an
instance with a dictionary, and without its ``asyncio.Event`` (an object and a ``deque`` a
request): the cycle is its own signal (``set``; ``message_event`` is the cycle itself, for the
protocol's code that sets it), and ``receive`` makes a future only when it must wait for a body
not yet arrived, never for a request read whole in one packet. The order path holds its cycle
across the group commit's wait (docs/performance.md, "Eleventh pass").

Code from uvicorn (BSD-3-Clause, Copyright © 2017-present, Encode OSS Ltd.), adapted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from uvicorn._types import HTTPScope
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

__all__ = ["LeanCycle"]


def _nothing() -> None:
    """A finished cycle's ``on_response``."""


class LeanCycle:
    """uvicorn's ``RequestResponseCycle``, slotted, its own event (module docstring)."""

    __slots__ = (
        "_flagged",
        "_waiters",
        "access_log",
        "access_logger",
        "body",
        "chunked_encoding",
        "default_headers",
        "disconnected",
        "expected_content_length",
        "flow",
        "keep_alive",
        "logger",
        "more_body",
        "on_response",
        "response_complete",
        "response_started",
        "scope",
        "transport",
        "waiting_for_100_continue",
    )

    def __init__(self, scope: HTTPScope, transport: asyncio.Transport, flow: FlowControl,
                 logger: logging.Logger, access_logger: logging.Logger, access_log: bool,
                 default_headers: list[tuple[bytes, bytes]], expect_100_continue: bool,
                 keep_alive: bool, on_response: Callable[[], None]) -> None:
        self.scope = scope
        self.transport = transport
        self.flow = flow
        self.logger = logger
        self.access_logger = access_logger
        self.access_log = access_log
        self.default_headers = default_headers
        self.on_response = on_response
        self.disconnected = False
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.body = bytearray()
        self.more_body = True
        self.response_started = False
        self.response_complete = False
        self.chunked_encoding: bool | None = None
        self.expected_content_length = 0
        self._flagged = False  # the event's flag: a body part, the end, or a disconnect came
        self._waiters: list[asyncio.Future[None]] | None = None  # ``receive``s waiting

    # -- the event (uvicorn's ``message_event``) --------------------------------------------
    @property
    def message_event(self) -> LeanCycle:
        """The cycle itself: ``cycle.message_event.set()`` is ``cycle.set()``."""
        return self

    def set(self) -> None:
        """What uvicorn's ``message_event.set()`` does: wake whatever ``receive`` waits."""
        self._flagged = True
        waiters = self._waiters
        if waiters is not None:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _wait(self) -> None:
        """``message_event.wait()`` then ``clear()``: a future of its own for each waiter,
        as ``asyncio.Event`` (one cancelled leaves the others waiting)."""
        if not self._flagged:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiters = self._waiters
            if waiters is None:
                waiters = self._waiters = []
            waiters.append(waiter)
            try:
                await waiter
            finally:
                waiters.remove(waiter)
        self._flagged = False

    # -- uvicorn's, unchanged but for the event ---------------------------------------------
    async def run_asgi(self, app: Any) -> None:
        try:
            result = await app(self.scope, self.receive, self.send)
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started:
                await self.send_500_response()
            else:
                self.transport.close()
        else:
            if result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.",
                                  result)
                self.transport.close()
            elif not self.response_started and not self.disconnected:
                self.logger.error("ASGI callable returned without starting response.")
                await self.send_500_response()
            elif not self.response_complete and not self.disconnected:
                self.logger.error("ASGI callable returned without completing response.")
                self.transport.close()
        finally:
            self.on_response = _nothing

    async def send_500_response(self) -> None:
        await self.send({"type": "http.response.start", "status": 500,
                         "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                     (b"content-length", b"21"), (b"connection", b"close")]})
        await self.send({"type": "http.response.body", "body": b"Internal Server Error",
                         "more_body": False})

    async def send(self, message: dict[str, Any]) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError("Expected ASGI message 'http.response.start', but got "
                                   f"'{message['type']}'.")
            self.response_started = True
            self.waiting_for_100_continue = False
            status_code = message["status"]
            headers = self.default_headers + list(message.get("headers", []))
            if self.access_log:
                self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(self.scope),
                                        self.scope["method"],
                                        get_path_with_query_string(self.scope),
                                        self.scope["http_version"], status_code)
            content = [STATUS_LINE[status_code]]
            has_connection_close = False
            for name, value in headers:
                if HEADER_RE.search(name):
                    raise RuntimeError("Invalid HTTP header name.")
                if HEADER_VALUE_RE.search(value):
                    raise RuntimeError("Invalid HTTP header value.")
                name = name.lower()
                if name == b"content-length" and self.chunked_encoding is None:
                    self.expected_content_length = int(value.decode())
                    self.chunked_encoding = False
                elif name == b"transfer-encoding" and value.lower() == b"chunked":
                    self.expected_content_length = 0
                    self.chunked_encoding = True
                elif name == b"connection":
                    connection = [token.lower().strip() for token in value.split(b",")]
                    if b"close" in connection:
                        self.keep_alive = False
                        has_connection_close = True
                content.extend([name, b": ", value, b"\r\n"])
            if not self.keep_alive and not has_connection_close:
                content.append(b"connection: close\r\n")
            if self.chunked_encoding is None and self.scope["method"] != "HEAD" and \
                    status_code not in (204, 304):
                self.chunked_encoding = True
                content.append(b"transfer-encoding: chunked\r\n")
            content.append(b"\r\n")
            self.transport.write(b"".join(content))
        elif not self.response_complete:
            if message["type"] != "http.response.body":
                raise RuntimeError("Expected ASGI message 'http.response.body', but got "
                                   f"'{message['type']}'.")
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if self.scope["method"] == "HEAD":
                self.expected_content_length = 0
            elif self.chunked_encoding:
                chunks = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
                if not more_body:
                    chunks.append(b"0\r\n\r\n")
                self.transport.write(b"".join(chunks))
            else:
                num_bytes = len(body)
                if num_bytes > self.expected_content_length:
                    raise RuntimeError("Response content longer than Content-Length")
                self.expected_content_length -= num_bytes
                self.transport.write(body)
            if not more_body:
                if self.expected_content_length != 0:
                    raise RuntimeError("Response content shorter than Content-Length")
                self.response_complete = True
                self.set()
                if not self.keep_alive:
                    self.transport.close()
                self.on_response()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message['type']}' sent, after "
                               "response already completed.")

    async def receive(self) -> dict[str, Any]:
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.waiting_for_100_continue = False
        if not self.disconnected and not self.response_complete:
            self.flow.resume_reading()
            if self._flagged:  # the whole request is here: no coroutine, no wait
                self._flagged = False
            else:
                await self._wait()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        message = {"type": "http.request", "body": bytes(self.body), "more_body": self.more_body}
        self.body = bytearray()
        return message
