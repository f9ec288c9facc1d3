"""The gate's bound, in process through the ASGI app: past ``HELD_MAX`` held requests a
matching request is answered 503 at once, unapplied; the held ones go on when opened."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from sandex.admin import races
from sandex.server import build
from sandex.testing import TESTING_SCENARIO
from sandex.testing.setup import default_keys
from tests.support.rest_kit import auth_headers


async def post_order(app: Any, creds: tuple[str, str, str], price: str) -> tuple[int, Any]:
    body = json.dumps({"product_id": "BTC-USD", "side": "buy", "price": price,
                       "size": "0.01"}).encode()
    headers = auth_headers(creds, "POST", "/orders", body, timestamp=str(time.time()))
    scope = {"type": "http", "method": "POST", "path": "/orders", "raw_path": b"/orders",
             "query_string": b"", "client": ("127.0.0.1", 1),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        message = next(messages, None)
        if message is None:
            await asyncio.Event().wait()  # the client stays connected
        return message  # type: ignore[return-value]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_past_the_bound_the_gate_answers_503_and_applies_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(races, "HELD_MAX", 2)
    venue = build(TESTING_SCENARIO, seed=1)
    trader = default_keys()[0]
    creds = (trader.key, trader.secret, trader.passphrase)
    gate = races.races_of(venue.node).gate
    gate.close({"type": "place"})

    async def main() -> list[tuple[int, Any]]:
        held = [asyncio.create_task(post_order(venue.app, creds, p)) for p in ("100", "101")]
        while len(gate.held) < 2:
            await asyncio.sleep(0)
        position = venue.node.position
        refused = await post_order(venue.app, creds, "102")
        assert venue.node.position == position and len(gate.held) == 2
        gate.open()
        return [refused, *[await task for task in held]]

    (status, body), *placed = asyncio.run(main())
    assert (status, body) == (503, {"message": "sandex gate: 2 requests are held already; "
                                               "release some first"})
    assert [(s, b["price"]) for s, b in placed] == [(200, "100"), (200, "101")]
