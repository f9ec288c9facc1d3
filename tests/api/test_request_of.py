"""``request_of`` writes the ``Request``'s slots itself, ``ok_response`` the ``Response``'s
(the twentieth REST pass: no ``__init__`` call): each must set every slot the class's
constructor sets, to the same values."""

from __future__ import annotations

from typing import Any

import pytest

from sandex.api.http import Request, Response, ok_response, request_of


def _slots(request: Request) -> dict[str, Any]:
    return {name: getattr(request, name) for name in Request.__slots__}


def _scope(**changes: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/orders",
                             "raw_path": b"/orders", "query_string": b"",
                             "headers": [(b"cb-access-key", b"k")],
                             "client": ("10.0.0.1", 5555)}
    scope.update(changes)
    return {name: value for name, value in scope.items() if value is not None}


@pytest.mark.parametrize("scope", [
    _scope(),
    _scope(method="DELETE", path="/orders/abc", raw_path=b"/orders/abc"),
    _scope(method="GET", query_string=b"status=open&status=done"),
    _scope(raw_path=None),  # no raw_path: the path's own bytes
    _scope(raw_path=b""),  # an empty raw_path: the same
    _scope(path="/orders/\u00e9", raw_path=b"/orders/%C3%A9"),
    _scope(path="/orders/x", raw_path=b"/orders/\xff"),  # not UTF-8: surrogateescape
    _scope(query_string=b"a=\xff"),
    _scope(client=None),  # no client: ""
    _scope(headers=[]),
], ids=lambda scope: repr(sorted(scope.items()))[:60])
def test_request_of_sets_every_slot_as_request_init_does(scope: dict[str, Any]) -> None:
    body = b'{"size": "1"}'
    made = request_of(scope, body)
    path = scope["path"]
    raw_path = scope.get("raw_path") or path.encode()
    query = scope.get("query_string", b"")
    target = (raw_path + b"?" + query if query else raw_path).decode("utf-8",
                                                                      "surrogateescape")
    client = scope.get("client")
    expected = Request(scope["method"], path, target,
                       query.decode("utf-8", "surrogateescape"), None, body,
                       client[0] if client else "", scope["headers"])
    assert _slots(made) == _slots(expected)
    assert made.raw_headers is scope["headers"]  # the server's own list, no copy
    assert made.headers == expected.headers
    assert made.access_headers() == expected.access_headers()


@pytest.mark.parametrize("body", [b"", b"{}", b'"0b7a3c2e-5f1d-4e8a-9c6b-2d4f8e1a7b3c"'])
def test_ok_response_is_response_of_its_body(body: bytes) -> None:
    made, expected = ok_response(body), Response(body)
    assert type(made) is Response
    assert {name: getattr(made, name) for name in Response.__slots__} == \
        {name: getattr(expected, name) for name in Response.__slots__}


def test_content_length_is_each_body_size_in_decimal() -> None:
    """``http_app`` takes the ``content-length`` pair from ``_LENGTHS`` by size (made on a
    size's first answer): every size below the table's end, its end and past it, each twice
    (made, then remembered), answers its own decimal size, after the common headers."""
    import asyncio

    from sandex.api import http

    sizes = [*range(0, 1100), 4094, 4095, 4096, 4097, 65_536, 1_000_001]
    answered: list[list[tuple[bytes, bytes]]] = []

    def pick(path: str) -> Any:
        return lambda request: Response(b"x" * int(path[1:]))

    async def run() -> None:
        app = http.http_app(pick, None)
        for size in sizes * 2:
            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    answered.append(message["headers"])

            scope = {"type": "http", "method": "GET", "path": f"/{size}", "headers": []}
            await app(scope, receive, send)

    asyncio.run(run())
    assert len(answered) == 2 * len(sizes)
    for size, headers in zip(sizes * 2, answered, strict=True):
        assert headers[-1] == (b"content-length", str(size).encode())
        assert headers[:-1] == http._COMMON_HEADERS
