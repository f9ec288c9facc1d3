"""Helpers for the feed tests: a raw WebSocket client, signed subscribes, orders over REST.

The raw client (``websockets``' sync client) sends exactly the JSON it is given, so every
protocol edge can be written down; ``recv`` returns decoded messages and ``until`` skips the
ones a test does not look at (heartbeats, other channels).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support.rest_kit import SCENARIO, RawClient, Server

Creds = tuple[str, str, str]
Message = dict[str, Any]


def ws_url(server: Server, path: str = "/") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def auth_fields(creds: Creds, timestamp: str | int | None = None) -> dict[str, Any]:
    """The §9.3 fields, signed over ``timestamp + "GET/users/self/verify"``."""
    key, secret, passphrase = creds
    ts = timestamp if timestamp is not None else str(time.time())
    digest = hmac.new(base64.b64decode(secret), f"{ts}GET/users/self/verify".encode(),
                      hashlib.sha256).digest()
    return {"signature": base64.b64encode(digest).decode(), "key": key,
            "passphrase": passphrase, "timestamp": ts}


class Feed:
    """One raw connection; ``recv``/``until`` decode JSON text frames."""

    def __init__(self, connection: ClientConnection) -> None:
        self.ws = connection

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    def subscribe(self, channels: list[Any], product_ids: list[str] | None = None,
                  creds: Creds | None = None, **extra: Any) -> Message:
        """Send a subscribe and return the answer (``subscriptions`` or ``error``)."""
        body: dict[str, Any] = {"type": "subscribe", "channels": channels}
        if product_ids is not None:
            body["product_ids"] = product_ids
        if creds is not None:
            body.update(auth_fields(creds))
        body.update(extra)
        self.send(body)
        return self.until(lambda m: m["type"] in ("subscriptions", "error"))

    def recv(self, timeout: float = 5.0) -> Message:
        message: Message = json.loads(self.ws.recv(timeout=timeout))
        return message

    def until(self, wanted: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """The next message ``wanted`` accepts, skipping the others."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if wanted(message):
                return message

    def take(self, count: int, wanted: Callable[[Message], bool] = lambda m: True,
             timeout: float = 5.0) -> list[Message]:
        """The next ``count`` messages ``wanted`` accepts."""
        return [self.until(wanted, timeout) for _ in range(count)]

    def close(self) -> None:
        self.ws.close()


@contextmanager
def feed(server: Server, path: str = "/", **kw: Any) -> Iterator[Feed]:
    with connect(ws_url(server, path), open_timeout=5, close_timeout=2, **kw) as connection:
        yield Feed(connection)


def not_heartbeat(message: Message) -> bool:
    return bool(message["type"] != "heartbeat")


def of_type(*kinds: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] in kinds


def place(client: RawClient, **fields: Any) -> Message:
    """``POST /orders`` that must succeed; returns the order."""
    reply = client.post("/orders", fields)
    assert reply.status == 200, reply.body
    body: Message = reply.json()
    return body


def cancel(client: RawClient, order_id: str) -> None:
    reply = client.delete(f"/orders/{order_id}")
    assert reply.status == 200, reply.body


def book(client: RawClient, product_id: str, level: int) -> Message:
    reply = client.get(f"/products/{product_id}/book?level={level}")
    assert reply.status == 200, reply.body
    body: Message = reply.json()
    return body


def scenario_with(tmp: Path, feed_table: str, rate_limits: bool = False) -> Path:
    """tests/scenario.toml with a ``[feed]`` table (and rate limits switched as asked)."""
    text = SCENARIO.read_text()
    assert "rate_limits = false" in text
    text = text.replace("rate_limits = false", f"rate_limits = {str(rate_limits).lower()}")
    path = tmp / "scenario.toml"
    path.write_text(f"{text}\n[feed]\n{feed_table}\n")
    return path
