"""An in-process REST venue: what ``sandex serve --ephemeral`` assembles, without a socket.

The venue comes from ``sandex.server.build`` with a scenario file (the assembly ``sandex
serve`` uses), and each request goes through its composed ASGI app with an in-memory
``receive``/``send``: the same framing (``http_app``: raw target, JSON headers, errors),
routing, authentication, rate limits and handlers as over the wire. The scope is what
uvicorn's httptools parser makes of a request line: ``raw_path`` as sent, ``path``
percent-decoded, ``query_string`` raw. The gateway's wall clock is the venue's own
``clock``, frozen unless advanced, so signature windows and token buckets are exact.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sandex.server import build
from tests.support.rest_kit import SCENARIO, Reply, SignedClient

CLIENT = ("127.0.0.1", 50000)  # every in-process client has this address (public buckets)


class WallClock:
    """Seconds since the epoch, as ``time.time``, but still until ``advance``d."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InProcessVenue:
    """A venue from ``scenario`` (in memory) and one event loop to run its requests on."""

    def __init__(self, scenario: Path = SCENARIO, **build_args: Any) -> None:
        self.clock = WallClock()
        self.loop = asyncio.new_event_loop()
        self.venue = build(scenario, wall_clock=self.clock, **build_args)

    def client(self, creds: tuple[str, str, str] | None = None) -> InProcessClient:
        return InProcessClient(self, creds)

    def admin(self, command: str, method: str = "POST", **args: Any) -> Reply:
        """``/admin/<command>`` with the venue's token (in process, from the loopback)."""
        body = json.dumps(args).encode() if method == "POST" else b""
        return self.call(method, f"/admin/{command}", body,
                         {"Authorization": f"Bearer {self.venue.admin_token}",
                          "Content-Type": "application/json"})

    def call(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        """One HTTP request through the venue's ASGI app, answered in full."""
        return self.loop.run_until_complete(self._call(method, target, body, headers))

    async def _call(self, method: str, target: str, body: bytes,
                    headers: dict[str, str]) -> Reply:
        raw_path, _, query = target.partition("?")
        sent_headers = {"host": "127.0.0.1", **{k.lower(): v for k, v in headers.items()}}
        if body:
            sent_headers["content-length"] = str(len(body))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "root_path": "",
                 "path": unquote(raw_path) if "%" in raw_path else raw_path,
                 "raw_path": raw_path.encode("ascii"), "query_string": query.encode("ascii"),
                 "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                             for k, v in sent_headers.items()],
                 "client": CLIENT, "server": ("127.0.0.1", 8000)}
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        answer: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            answer.append(message)

        await self.venue.app(scope, receive, send)
        start, *parts = answer
        assert start["type"] == "http.response.start", answer
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]}
        return Reply(start["status"], headers, b"".join(part.get("body", b"") for part in parts))

    def close(self) -> None:
        self.loop.run_until_complete(self.venue.node.close())
        self.loop.close()


class InProcessClient(SignedClient):
    """A signed client whose transport is the venue's app; timestamps from the venue's clock."""

    def __init__(self, venue: InProcessVenue, creds: tuple[str, str, str] | None = None) -> None:
        super().__init__(creds, venue.clock)
        self.venue = venue

    def send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        return self.venue.call(method, target, body, headers)


class SignedParts(InProcessClient):
    """Signs a request and hands back its parts instead of sending it (to send them on the
    venue's loop with ``InProcessVenue._call``, as tasks that race)."""

    def send(self, method: str, target: str, body: bytes,  # type: ignore[override]
             headers: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
        return method, target, body, headers
