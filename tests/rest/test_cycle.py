"""sandex's guarded HTTP protocol (``sandex.api.guard``, which rewrites some of uvicorn's
parser callbacks) writes, byte for byte, what uvicorn's own httptools protocol writes for
requests within the limits: the same ASGI app and the same requests (pipelined, chunked,
split across packets, HTTP/1.0, ``Expect: 100-continue``, an app that raises, a client that
leaves mid-body) through both, in memory, compared. Any change to the request cycle under
sandex's protocol must keep this (docs/performance.md, "Eleventh pass")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from sandex.api.guard import HttpLimits, protocols


class Transport(asyncio.Transport):
    """A socket in memory: what is written, and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[bytes] = []
        self.closed = False
        self.protocol: Any = None

    def write(self, data: Any) -> None:
        self.out.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol


SEEN: list[tuple[str, str, bytes]] = []  # what the app read: path, last message, body


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers by path: the body read back, chunks, errors, no answer."""
    if scope["type"] != "http":
        return
    body, more, kind = b"", True, "http.request"
    while more:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"]
    SEEN.append((path, kind, body))
    if kind == "http.disconnect":
        return
    if path == "/raise":
        raise RuntimeError("boom")
    if path == "/raise-late":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        raise RuntimeError("boom")
    if path == "/silent":
        return
    if path == "/chunks":
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"two"})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})
        return
    if path == "/wait":  # answers after other requests' steps (as the group commit)
        await asyncio.sleep(0.01)
    headers = [(b"content-type", b"application/json"), (b"X-Echo", scope["method"].encode()),
               (b"content-length", b"%d" % len(body))]
    if path == "/close":
        headers.append((b"Connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


ORDER = b'{"product_id":"BTC-USD","side":"buy","price":"10.00","size":"0.2"}'
CASES: dict[str, list[bytes]] = {
    "get": [b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"],
    "post in one packet": [b"POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s"
                           % (len(ORDER), ORDER)],
    "post in three packets": [b"POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                              % len(ORDER), ORDER[:10], ORDER[10:]],
    "chunked request": [b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                        b"6\r\n world\r\n0\r\n\r\n"],
    "chunked answer": [b"GET /chunks HTTP/1.1\r\n\r\n"],
    "head": [b"HEAD /chunks HTTP/1.1\r\n\r\n"],
    "204": [b"GET /empty HTTP/1.1\r\n\r\n"],
    "pipelined": [b"GET /wait HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                  b"GET /c?q=1 HTTP/1.1\r\n\r\n"],
    "http/1.0": [b"GET /x HTTP/1.0\r\n\r\n"],
    "the app closes": [b"GET /close HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"],
    "the client closes": [b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n"],
    "500": [b"GET /raise HTTP/1.1\r\n\r\n"],
    "raises after the head": [b"GET /raise-late HTTP/1.1\r\n\r\n"],
    "no answer": [b"GET /silent HTTP/1.1\r\n\r\n"],
    "100-continue": [b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
                     b"ok"],
    "gone mid-body": [b"POST /g HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", None],  # type: ignore[list-item]
}


async def transcript(protocol_class: type[Any], packets: list[bytes | None]) -> tuple[Any, ...]:
    """What a connection of ``protocol_class`` writes for ``packets`` (``None``: the client
    goes away), whether it closed, and what the app read."""
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False,
                            server_header=False, date_header=False, proxy_headers=False)
    config.load()
    transport = Transport()
    SEEN.clear()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport.protocol = protocol
    protocol.connection_made(transport)
    for packet in packets:
        if packet is None:
            protocol.connection_lost(None)
        else:
            protocol.data_received(packet)
        for _ in range(5):
            await asyncio.sleep(0)
    for _ in range(500):  # until every request is answered (a loaded machine is slow)
        await asyncio.sleep(0.01)
        if not protocol.tasks and not protocol.pipeline:
            break
    for _ in range(5):
        await asyncio.sleep(0)
    if protocol.timeout_keep_alive_task is not None:
        protocol.timeout_keep_alive_task.cancel()
    timer = getattr(protocol, "_timer", None)
    if timer is not None:
        timer.cancel()
    return b"".join(transport.out), transport.closed, list(SEEN)


@pytest.mark.parametrize("case", list(CASES))
def test_the_guarded_protocol_writes_what_uvicorns_writes(case: str) -> None:
    sandex_http, _ = protocols(HttpLimits())
    theirs = asyncio.run(transcript(HttpToolsProtocol, CASES[case]))  # type: ignore[arg-type]
    ours = asyncio.run(transcript(sandex_http, CASES[case]))  # type: ignore[arg-type]
    assert theirs[0] or case == "gone mid-body", "nothing written"
    assert theirs[2], "the app saw nothing"
    assert ours == theirs
