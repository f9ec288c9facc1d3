"""``read_request``: header names and values, target and query as text, as sent."""

from __future__ import annotations

import asyncio
from typing import Any

from sandex.api.http import read_request


def _read(headers: list[tuple[bytes, bytes]], raw_path: bytes, query: bytes = b"") -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": raw_path.decode("latin-1"),
             "raw_path": raw_path, "query_string": query, "headers": headers,
             "client": ("127.0.0.1", 5000)}
    return asyncio.run(read_request(scope, receive))


def test_headers_are_decoded_the_same_whether_their_values_are_utf8_or_not() -> None:
    utf8 = [(b"cb-access-key", b"k\xc3\xa9y"), (b"host", b"127.0.0.1"), (b"x-caf\xe9", b"1")]
    request = _read(utf8, b"/orders")
    assert request.headers == {"cb-access-key": "k\u00e9y", "host": "127.0.0.1",
                               "x-caf\u00e9": "1"}
    raw = [(b"cb-access-key", b"k\xe9y"), (b"host", b"127.0.0.1")]  # not UTF-8: kept raw
    request = _read(raw, b"/orders")
    assert request.headers == {"cb-access-key": "k\udce9y", "host": "127.0.0.1"}
    assert request.headers["cb-access-key"].encode("utf-8", "surrogateescape") == b"k\xe9y"


def test_the_target_keeps_the_bytes_sent_utf8_or_not() -> None:
    assert _read([], b"/orders/caf\xc3\xa9").target == "/orders/caf\u00e9"
    assert _read([], b"/orders/caf\xe9").target == "/orders/caf\udce9"
    request = _read([], b"/orders", b"a=caf\xe9")
    assert (request.target, request.query_string) == ("/orders?a=caf\udce9", "a=caf\udce9")
