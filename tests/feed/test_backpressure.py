"""A consumer that stops reading, in-process with no socket: the feed's ASGI endpoint is driven
by fake ``receive``/``send`` coroutines, one of which blocks as a full socket would.

Checks §9.6 and the issue's rule: the stalled connection's queue is bounded, it is dropped,
the node never waits for it (each command completes in one step, with no suspension a slow
consumer could cause: counted, not timed, so a loaded machine cannot break it) and the other
subscriber gets every message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from sandex.api.feed import Feed, FeedLimits
from sandex.core import PlaceOrder, Side
from sandex.server import build
from tests.support.rest_kit import ALICE_PROFILE, SCENARIO

SCOPE = {"type": "websocket", "path": "/", "client": ("127.0.0.1", 50000),
         "extensions": {"websocket.http.response": {}}}


class FakeClient:
    """One connection seen from the app; ``send`` blocks for good after ``stall_after``
    frames, as ``send`` does while the server's transport buffer is full."""

    def __init__(self, stall_after: int | None = None) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.stall_after = stall_after
        self.never = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        if self.stall_after is not None and len(self.sent) >= self.stall_after:
            await self.never.wait()
        self.sent.append(message)

    def say(self, message: dict[str, Any]) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]


def in_one_step(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to its end without letting it suspend: a wait would fail."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the command waited (for a consumer?)")


async def _scenario() -> None:
    venue = build(SCENARIO)
    node = venue.node
    feed = Feed(node, FeedLimits(rate_limits=False, queue_max=8, close_grace_s=0.2))
    node.listeners.append(feed.on_events)
    slow, good = FakeClient(stall_after=3), FakeClient()
    tasks = []
    for client in (slow, good):
        client.inbox.put_nowait({"type": "websocket.connect"})
        client.say({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["ticker",
                                                                                  "matches"]})
        tasks.append(asyncio.create_task(feed(SCOPE, client.receive, client.send)))
    await asyncio.sleep(0.05)
    for i in range(40):  # 40 resting asks, then one buy that takes them all
        in_one_step(node.execute(PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(),
                                            profile_id=ALICE_PROFILE, product_id="BTC-USD",
                                            side=Side.SELL, price=(100 + i) * 10**8,
                                            size=10**6)))
        await asyncio.sleep(0)  # as between two requests: the connections' writers run
    for i in range(40):
        await node.execute(PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(),
                                      profile_id="b0b00000-0000-4000-8000-000000000002",
                                      product_id="BTC-USD", side=Side.BUY,
                                      price=(100 + i) * 10**8, size=10**6))
        await asyncio.sleep(0)
    await asyncio.wait_for(tasks[0], 2)  # the stalled connection is gone
    assert not tasks[1].done()
    assert slow.sent[0] == {"type": "websocket.accept"}
    assert len(slow.sent) == 3  # nothing more ever left; the rest was dropped, not buffered
    good_frames = good.frames()
    assert good_frames[0]["type"] == "subscriptions"
    matches = [f for f in good_frames if f["type"] == "match"]
    tickers = [f for f in good_frames if f["type"] == "ticker"]
    assert [m["price"] for m in matches] == [f"{100 + i}.00000000" for i in range(40)]
    assert [m["trade_id"] for m in matches] == list(range(1, 41))
    assert [t["trade_id"] for t in tickers] == list(range(1, 41))
    assert len(feed.hub.index["matches"]["BTC-USD"]) == 1  # only the good one is left
    good.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(tasks[1], 2)
    assert feed.hub.index["matches"] == {} and feed.hub.index["ticker"] == {}
    await node.close()


def test_a_stalled_consumer_is_dropped_and_nobody_waits() -> None:
    asyncio.run(_scenario())
