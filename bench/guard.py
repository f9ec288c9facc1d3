"""What the connection guards cost per request: uvicorn's httptools protocol, plain and guarded.

    .venv/bin/python bench/guard.py [--requests N] [--repeats R]

Drives both protocol classes in process (uvloop, an in-memory transport, no sockets) with
the same keep-alive connection: ``N`` signed-order-sized ``POST /orders`` requests (a 150 byte
JSON body, Coinbase's four auth headers), each answered by a minimal ASGI app that reads the
body and answers 200. The best of ``R`` repeats of each is printed in µs per request, and the
difference. On a shared machine, count instructions instead: run it under cachegrind with
``--requests N`` and with ``--requests 0`` (docs/performance.md, "The connection guards").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from sandex.api.guard import HttpLimits, protocols

BODY = (b'{"product_id":"BTC-USD","side":"buy","type":"limit","price":"100.00","size":"0.01",'
        b'"client_oid":"0b7a3c2e-5f1d-4e8a-9c6b-2d4f8e1a7b3c","time_in_force":"GTC"}')
REQUEST = (b"POST /orders HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
           b"CB-ACCESS-KEY: a11ce000000000000000000000000001\r\n"
           b"CB-ACCESS-SIGN: 0aLn3lmZp0k8mY0XxZ0d4rVqT8Gm8cA6m1n7H2Q9p7Y=\r\n"
           b"CB-ACCESS-TIMESTAMP: 1700000000.123\r\nCB-ACCESS-PASSPHRASE: alicepass\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))


class Transport(asyncio.Transport):
    """Swallows what the server writes; counts the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0
        self.closing = False

    def write(self, data: Any) -> None:
        self.answers += bytes(data).count(b"HTTP/1.1 200")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def run(protocol_class: type[HttpToolsProtocol], requests: int) -> float:
    config = uvicorn.Config(app, http="httptools", lifespan="off", log_level="warning",
                            server_header=False, date_header=False)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    started = time.perf_counter()
    for _ in range(requests):
        protocol.data_received(REQUEST)
        while protocol.cycle is not None and not protocol.cycle.response_complete:
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    assert transport.answers == requests, transport.answers
    protocol.connection_lost(None)
    return elapsed / max(requests, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    guarded, _ = protocols(HttpLimits())
    best = {"plain": float("inf"), "guarded": float("inf")}
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for _ in range(args.repeats):  # interleaved, so drift hits both alike
            best["plain"] = min(best["plain"], runner.run(run(HttpToolsProtocol, args.requests)))
            best["guarded"] = min(best["guarded"], runner.run(run(guarded, args.requests)))
    extra = best["guarded"] - best["plain"]
    print(f"plain {best['plain']:.2f} µs/request, guarded {best['guarded']:.2f} µs/request: "
          f"+{extra:.2f} µs ({extra / best['plain']:+.1%} of the protocol alone)")


if __name__ == "__main__":
    main()
