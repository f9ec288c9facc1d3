"""The small HTTP vocabulary of the HTTP gateways (REST, admin): requests, responses, errors.

Every response is JSON (``application/json; charset=utf-8``, as Coinbase sends, §1.2); every
error is ``{"message": ...}`` with its status from ``sandex.errors`` and nothing else in it.
``http_app`` is the ASGI framing both gateways share: read the raw request, run a handler,
turn an ``ApiError`` or a bug into its JSON error, send the answer, write the access line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from sandex.auth.keys import ApiKey
from sandex.auth.verify import HEADER_KEY, HEADER_PASSPHRASE, HEADER_SIGN, HEADER_TIMESTAMP
from sandex.errors import Error
from sandex.logs import AccessLog
from sandex.node.node import NodeStopped, NodeUnavailable

log = logging.getLogger("sandex.rest")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON_TYPE = b"application/json; charset=utf-8"
DROP_WAIT_S = 1.0  # how long a dropped connection may take to be seen as closed
_decoder = msgspec.json.Decoder(float_hook=Decimal)  # JSON numbers stay exact
encode = msgspec.json.encode


class ApiError(Exception):
    """Raised anywhere in a handler to answer with one row of the error table."""

    def __init__(self, error: Error, *args: object, message: str | None = None) -> None:
        super().__init__(error.name)
        self.error = error
        self.message = message if message is not None else error.format(*args)

    @classmethod
    def rejected(cls, event: Any) -> ApiError:
        """The answer for a core ``Rejected`` event, whose message is already exact."""
        return cls(event.error, message=event.message)

    @property
    def status(self) -> int:
        return self.error.status


class Request:
    """One HTTP request, with the raw target and body kept for signature checks (§2.3)."""

    __slots__ = ("_headers", "_json", "_query", "api_key", "body", "client", "command", "error",
                 "method", "order_ref", "path", "query_string", "raw_headers", "receive",
                 "route", "target")

    def __init__(self, method: str, path: str, target: str, query_string: str,
                 headers: dict[str, str] | None, body: bytes, client: str,
                 raw_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.method = method
        self.path = path  # percent-decoded, for routing
        self.error: str | None = None  # the error-table name it was refused with (traces)
        self.route: str | None = None  # the route pattern it matched (GET /metrics)
        self.order_ref: tuple[str | None, str | None] | None = None  # (order id, client_oid)
        self.command: Any = None  # the order command a handler built (explained if refused)
        self.target = target  # raw path + "?" + raw query, for signing
        self.query_string = query_string
        self._headers = headers  # lower-case names; ``None``: decoded from ``raw_headers``
        # as the ASGI server gave them (names lower-cased): its own list, no copy held while
        # the request waits for the group commit
        self.raw_headers = raw_headers
        self.body = body
        self.client = client
        self.api_key: ApiKey | None = None
        self._query: dict[str, list[str]] | None = None
        self._json: Any = None
        self.receive: Receive | None = None  # the connection's, to see a client go away

    @property
    def headers(self) -> dict[str, str]:
        """The headers by (lower-case) name, values decoded as UTF-8 (bytes that are not
        kept as surrogates); decoded on first use: the order path reads only the four
        ``CB-ACCESS-*`` values (``access_headers``)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _headers(self.raw_headers or ())
        return headers

    def access_headers(self) -> tuple[str | None, str | None, str | None, str | None] | None:
        """The ``CB-ACCESS-KEY``, ``-SIGN``, ``-TIMESTAMP`` and ``-PASSPHRASE`` values
        (``None`` for one absent), decoded as ``headers`` decodes them; ``None`` if none of
        the four is there (``sandex.auth.verify.authenticate`` then looks at every name)."""
        if self.raw_headers is None:
            headers = self.headers
            found = (headers.get(HEADER_KEY), headers.get(HEADER_SIGN),
                     headers.get(HEADER_TIMESTAMP), headers.get(HEADER_PASSPHRASE))
            return None if found == _NONE_FOUND else found
        # by name in one C call (a repeated name: the last, as ``_headers`` keeps); the dict
        # is freed here, while still in the caches, not held until the request is answered;
        # the four values by one ``itemgetter`` (a ``KeyError`` when one is absent: the
        # mixed cases below), each decoded by its method (no ``map``, no tuples compared
        # with ``None``: the nineteenth pass; no bound ``get`` and four calls of it: the
        # twentieth)
        raw = dict(self.raw_headers)
        try:  # strict UTF-8, the fast path of what the whole dict would hold
            try:
                key, sign, stamp, phrase = _access_values(raw)
            except KeyError:
                get = raw.get
                values = (get(_KEY), get(_SIGN), get(_TIMESTAMP), get(_PASSPHRASE))
                if values == _NONE_FOUND:
                    return None
                return tuple(None if value is None else value.decode()  # type: ignore[return-value]
                             for value in values)
            return key.decode(), sign.decode(), stamp.decode(), phrase.decode()
        except UnicodeDecodeError:
            headers = self.headers
            return (headers.get(HEADER_KEY), headers.get(HEADER_SIGN),
                    headers.get(HEADER_TIMESTAMP), headers.get(HEADER_PASSPHRASE))

    @property
    def profile_id(self) -> str:
        assert self.api_key is not None, "private route without a key"
        return self.api_key.profile_id

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters; a repeated name keeps every value (``status=open&status=done``)."""
        if self._query is None:
            query: dict[str, list[str]] = {}
            if not self.query_string:
                self._query = query
                return query
            for name, value in parse_qsl(self.query_string, keep_blank_values=True):
                query.setdefault(name, []).append(value)
            self._query = query
        return self._query

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        """The body as JSON (decimals as ``Decimal``); ``{}`` when there is none."""
        if self._json is None:
            self._json = self._decoded()
        return self._json

    def _decoded(self) -> Any:
        body = self.body.strip()
        if not body:
            return {}
        try:
            return _decoder.decode(body)
        except (msgspec.DecodeError, ValueError):
            raise ApiError(Error.INVALID_JSON) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(Error.INVALID_JSON)
        return data

    def json_once(self) -> dict[str, Any]:
        """``json_object`` not kept on the request, for a handler that reads its body once
        (``POST /orders``): the dict is freed as soon as it is read, while it is still in the
        caches, not when the request is answered after the group commit (another read
        decodes the body again)."""
        data = self._json if self._json is not None else self._decoded()
        if not isinstance(data, dict):
            raise ApiError(Error.INVALID_JSON)
        return data


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, body: bytes, status: int = 200,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.body = body
        self.status = status
        self.headers = headers


def ok_response(body: bytes) -> Response:
    """``Response(body)`` (200, the common headers) without the type's call of a Python
    ``__init__`` (the order replies: ~500 instructions less; ``tests/api/test_request_of.py``
    holds it to ``Response(body)``'s slots)."""
    response = _new_response(Response)
    response.body = body
    response.status = 200
    response.headers = None
    return response


_new_response = object.__new__


class Abort(Response):
    """No answer: the connection is closed (``reset``: abruptly, a TCP RST) instead."""

    __slots__ = ("reset",)

    def __init__(self, reset: bool) -> None:
        super().__init__(b"", 0)
        self.reset = reset


class HtmlResponse(Response):
    """An HTML page (what a load balancer answers), not JSON."""

    __slots__ = ()


class FileResponse(Response):
    """A file (the web page's, ``sandex.api.ui``; a report's): its own type and the headers
    given, nothing of the API's (no ``no-store``, no CORS) unless given."""

    __slots__ = ("content_type",)

    def __init__(self, body: bytes, content_type: bytes, status: int = 200,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(body, status, headers)
        self.content_type = content_type


class TextResponse(Response):
    """A body of another type than JSON (``GET /metrics``): ``content_type`` says which."""

    __slots__ = ("content_type",)

    def __init__(self, body: bytes, content_type: bytes, status: int = 200) -> None:
        super().__init__(body, status)
        self.content_type = content_type


def json_response(data: Any, status: int = 200,
                  headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    return Response(encode(data), status, headers)


def message_response(message: str, status: int) -> Response:
    """``{"message": message}`` with ``status``: every error answer has this shape."""
    return Response(encode({"message": message}), status)


def error_response(error: Error, *args: object) -> Response:
    return message_response(error.format(*args), error.status)


Handle = Callable[["Request"], Awaitable[Response] | Response]
"""A gateway's request handler; it may raise ``ApiError``. It may answer at once (a plain
``Response``, no coroutine: the REST dispatch's refusals) or with an awaitable of one (a
route's handler, which the dispatch hands back without awaiting it in a frame of its own)."""

_COMMON_HEADERS = [(b"content-type", JSON_TYPE), (b"cache-control", b"no-store"),
                   (b"access-control-allow-origin", b"*"),
                   (b"access-control-expose-headers", b"cb-before, cb-after")]


async def answer(handle: Handle, request: Request) -> Response:
    """``handle(request)``, with an ``ApiError`` as its error and any other exception as 500."""
    try:
        result = handle(request)
        return result if isinstance(result, Response) else await result
    except Exception as exc:
        return failed(request, exc)


def failed(request: Request, exc: Exception) -> Response:
    """The answer to a handler that raised ``exc``: its ``ApiError``'s, else 500 (logged)."""
    if isinstance(exc, ApiError):
        request.error = exc.error.name
        return message_response(exc.message, exc.status)
    if isinstance(exc, NodeUnavailable):  # a cluster's follower, or a deposed leader: 503
        request.error = exc.error.name
        return error_response(exc.error, *exc.fill())
    if isinstance(exc, NodeStopped):  # the node logged why, once; the server is on its way out
        log.warning("refused %s %s: the node has stopped", request.method, request.target)
    else:
        log.error("unhandled error on %s %s", request.method, request.target, exc_info=exc)
    return error_response(Error.INTERNAL_ERROR)


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_LENGTHS_MAX = 4096
_LENGTHS: list[tuple[bytes, bytes] | None] = [None] * _LENGTHS_MAX
"""``(b"content-length", text)`` by body size below ``_LENGTHS_MAX``, made when a size is
first answered (an order's replies are a few sizes: their pairs stay in the caches)."""


def http_app(pick: Callable[[str], Handle], access: AccessLog | None, meter: Any = None,
             websocket: ASGIApp | None = None) -> ASGIApp:
    """The ASGI app that serves each ``http`` request with the handler ``pick`` chooses for
    its path (as ``answer`` does: an exception becomes its error answer) and hands a
    ``websocket`` scope to ``websocket``; ``access`` logs each request if enabled, ``meter``
    (a ``sandex.api.metrics.RequestMeter``) counts it. The framing and the choice are one
    coroutine: a frame less between the server and the node, on every request and on
    every resume after a group commit."""

    # the meter's lookup and bounds taken once (a method and a class attribute of a
    # ``dict`` subclass looked up on every request cost ~250 instructions)
    meter_get: Any = meter.get if meter is not None else None
    bounds = meter.bounds if meter is not None else ()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket" and websocket is not None:
                await websocket(scope, receive, send)
            return
        started = time.perf_counter()
        message = await receive()  # ``read_request`` written out: a coroutine less
        if message.get("more_body", False) or message.get("type") == "http.disconnect":
            try:
                request = request_of(scope, await rest_of_body(message, receive))
            except Disconnected:  # nothing to answer, nothing done
                return
        else:
            request = request_of(scope, message.get("body", b""))
        del message  # freed now, in the caches, not after the wait for the group commit
        request.receive = receive
        try:  # ``answer`` written out
            result = pick(request.path)(request)
            response = result if isinstance(result, Response) else await result
        except Exception as exc:
            response = failed(request, exc)
        headers = _COMMON_HEADERS
        if type(response) is not Response:  # a fault's answer (sandex.api.rest.faults)
            if isinstance(response, Abort):
                await drop_connection(send, receive, reset=response.reset)
                if meter is not None:
                    meter.observe(request.method, request.route, 0,
                                  time.perf_counter() - started, request.error)
                if access is not None and access.enabled:
                    access.request(request.client, request.method, request.target, 0,
                                   (time.perf_counter() - started) * 1e3)
                return
            if isinstance(response, HtmlResponse):
                headers = [(b"content-type", b"text/html"), *_COMMON_HEADERS[1:]]
            elif isinstance(response, FileResponse):
                headers = [(b"content-type", response.content_type)]
            elif isinstance(response, TextResponse):
                headers = [(b"content-type", response.content_type), *_COMMON_HEADERS[1:]]
        body = response.body
        size = len(body)  # the header's pair made once a size (``b"%d" %`` costs ~900)
        length = _LENGTHS[size] if size < _LENGTHS_MAX else None
        if length is None:
            length = (b"content-length", b"%d" % size)
            if size < _LENGTHS_MAX:
                _LENGTHS[size] = length
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [*headers, *response.headers, length] if response.headers
                    else [*headers, length]})
        await send({"type": "http.response.body", "body": body})
        if meter is not None:  # RequestMeter.observe written out: the call would cost as much
            seconds = time.perf_counter() - started
            figures = meter_get((request.method, request.route)) or \
                meter.figures(request.method, request.route)
            status = response.status
            statuses = figures.statuses
            statuses[status] = statuses.get(status, 0) + 1
            figures.counts[bisect_left(bounds, seconds)] += 1
            figures.total += seconds
            if status == 429:
                meter.refused(request.error)
        if access is not None and access.enabled:
            access.request(request.client, request.method, request.target, response.status,
                           (time.perf_counter() - started) * 1e3)

    return app


async def drop_connection(send: Send, receive: Receive | None = None, *,
                          reset: bool = False) -> None:
    """Close the client's connection with no answer and no close frame: gracefully (FIN), or
    with ``reset`` abruptly (``SO_LINGER`` 0: the peer gets a TCP RST). Reaches the
    server's transport through its ``send`` (uvicorn's is a method of the connection's
    protocol object); then waits for the server to see the disconnect (``receive``), so it
    does not answer 500 in the app's place. Does nothing where there is no transport."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    if receive is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(DROP_WAIT_S):
                while (await receive())["type"] != "http.disconnect":
                    pass


_HEADER_NAMES: dict[bytes, str] = {}  # header names seen, decoded once
_HEADER_NAMES_MAX = 512
_NONE_FOUND = (None, None, None, None)
_ACCESS_NAMES = tuple(name.encode() for name in (HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP,
                                                  HEADER_PASSPHRASE))
_KEY, _SIGN, _TIMESTAMP, _PASSPHRASE = _ACCESS_NAMES
_access_values = itemgetter(*_ACCESS_NAMES)  # the four values of the raw dict, or KeyError


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's headers by name (ASGI servers lower-case the names: uvicorn does, and
    so does sandex's guard); values decoded as UTF-8, bytes that are not kept as surrogates.

    The same as decoding each name as Latin-1 and each value as UTF-8 with
    ``surrogateescape``, for less: a name seen before is looked up, and values are decoded
    strictly (the fast path) unless one is not UTF-8."""
    names = _HEADER_NAMES
    headers: dict[str, str] = {}
    try:
        for name, value in raw:
            text = names.get(name)
            if text is None:
                text = name.decode("latin-1")
                if len(names) < _HEADER_NAMES_MAX:
                    names[bytes(name)] = text
            headers[text] = value.decode()
    except UnicodeDecodeError:  # a value that is not UTF-8: keep its bytes as surrogates
        return {name.decode("latin-1"): value.decode("utf-8", "surrogateescape")
                for name, value in raw}
    return headers


class Disconnected(Exception):
    """The client went away (or the HTTP layer refused the request) before its body ended."""


async def read_request(scope: Scope, receive: Receive) -> Request:
    """The request of an ASGI ``http`` scope, raw target and body kept for signatures.

    Raises ``Disconnected`` if the body never ends: a request cut short is never handled.
    """
    message = await receive()
    if message.get("more_body", False) or message.get("type") == "http.disconnect":
        return request_of(scope, await rest_of_body(message, receive))
    return request_of(scope, message.get("body", b""))


async def rest_of_body(message: dict[str, Any], receive: Receive) -> bytes:
    """The whole body of a request whose first message is ``message`` and that is not all of
    it (``more_body``), or ``Disconnected`` (the client left before the end)."""
    body: bytes = message.get("body", b"")
    if message.get("more_body", False):
        parts = [body]
        while message.get("more_body", False):
            message = await receive()
            parts.append(message.get("body", b""))
        body = b"".join(parts)
    if message.get("type") == "http.disconnect":
        raise Disconnected
    return body


def request_of(scope: Scope, body: bytes) -> Request:
    """The request of an ASGI ``http`` scope whose whole ``body`` was read."""
    path: str = scope["path"]
    raw_path: bytes = scope.get("raw_path") or path.encode()
    query: bytes = scope.get("query_string", b"")
    if query:
        target = (raw_path + b"?" + query).decode("utf-8", "surrogateescape")
        query_string = query.decode("utf-8", "surrogateescape")
    else:
        try:
            target = raw_path.decode()  # strict UTF-8: the fast path of the same text
        except UnicodeDecodeError:
            target = raw_path.decode("utf-8", "surrogateescape")
        query_string = ""
    client = scope.get("client")
    # ``Request(...)`` written out: the type's call of a Python ``__init__`` (no frame of its
    # own in 3.11's eval loop, eight arguments) costs more than the sixteen stores; the
    # stores are ``__init__``'s, in its order (``tests/api/test_request_of.py`` holds the
    # two to the same slots and values)
    request = _new_request(Request)
    request.method = scope["method"]
    request.path = path
    request.error = None
    request.route = None
    request.order_ref = None
    request.command = None
    request.target = target
    request.query_string = query_string
    request._headers = None  # decoded on use from the server's own list
    request.raw_headers = scope["headers"]
    request.body = body
    request.client = client[0] if client else ""
    request.api_key = None
    request._query = None
    request._json = None
    request.receive = None
    return request


_new_request = object.__new__
