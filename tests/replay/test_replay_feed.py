"""The feed during a full-speed replay: a client that subscribes while batches are in flight
(the core ahead of the journal) gets a snapshot of the durable book, and the updates after
it rebuild the book exactly; its ``full`` copy carries every sequence number and its
``matches`` every trade from there on; the hub's mirror ends equal to the core's book."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sandex.api.feed import Feed
from sandex.api.feed.limits import FeedLimits
from sandex.api.feed.session import Session
from sandex.api.feed.state import MirrorBook
from sandex.replay import replay_of
from sandex.server import build
from sandex.units import PRICE_DECIMALS
from tests.support.feed_kit import auth_fields
from tests.support.recordings_kit import framed, full_messages, write
from tests.support.rest_kit import ALICE

SCENARIO = Path(__file__).resolve().parent.parent / "scenario.toml"
UNIT = 10**PRICE_DECIMALS


def _units(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * UNIT + int(fraction.ljust(PRICE_DECIMALS, "0")[:PRICE_DECIMALS])


def test_a_client_joining_a_full_speed_replay_sees_a_consistent_feed(tmp_path: Path) -> None:
    path = write(tmp_path / "full.jsonl.gz", framed(full_messages(12_000)), "gzip")
    venue = build(SCENARIO, demo=False, data_dir=tmp_path / "data")
    node = venue.node
    feed = Feed(node, FeedLimits(rate_limits=False))
    node.listeners.append(feed.on_events)
    session = Session("127.0.0.1", 10**7)
    feed.attach(session)  # connected from the start (the mirror is kept), subscribed late
    in_flight_when_joined: list[bool] = []

    async def main() -> dict[str, Any]:
        controller = replay_of(node)
        await controller.load({"source": str(path), "format": "coinbase-full",
                               "speed": "max"})
        controller.start()
        deadline = asyncio.get_running_loop().time() + 120
        product = node.engine.products["BTC-USD"]
        while not (node.in_flight and product.sequence >= 4_000):
            await asyncio.sleep(0)  # until the replay is well on, with a batch in flight
            if asyncio.get_running_loop().time() > deadline:
                break
        in_flight_when_joined.append(node.in_flight)
        feed.hub.handle(session, json.dumps({
            "type": "subscribe", "product_ids": ["BTC-USD"],
            "channels": ["level2", "full", "matches"], **auth_fields(ALICE)}))
        status = await controller.wait(300)
        await node.synced()
        return status

    status = asyncio.run(main())
    assert status["state"] == "finished" and status["events"] >= 12_000
    assert in_flight_when_joined == [True]  # joined while the core was ahead of the disk
    frames = [json.loads(frame) for frame in session.queue]
    assert frames[0]["type"] == "subscriptions"
    book: dict[str, dict[int, int]] = {"buy": {}, "sell": {}}
    sequences: list[int] = []
    trade_ids: list[int] = []
    for frame in frames[1:]:
        if frame["type"] == "snapshot":
            assert not sequences  # before any order message
            book["buy"] = {_units(p): _units(s) for p, s in frame["bids"]}
            book["sell"] = {_units(p): _units(s) for p, s in frame["asks"]}
        elif frame["type"] == "l2update":
            for side, price, size in frame["changes"]:
                if _units(size):
                    book[side][_units(price)] = _units(size)
                else:
                    book[side].pop(_units(price), None)
        elif frame["type"] == "match" and "user_id" not in frame:
            sequences.append(frame["sequence"])
            if not trade_ids or trade_ids[-1] != frame["trade_id"]:
                trade_ids.append(frame["trade_id"])  # ``full`` and ``matches`` both send it
        elif "sequence" in frame and frame["type"] != "last_match":
            sequences.append(frame["sequence"])
    engine_book = node.engine.products["BTC-USD"].book
    assert book == {
        "buy": {p: level.size for p, level in engine_book.bids.items() if level.count},
        "sell": {p: level.size for p, level in engine_book.asks.items() if level.count}}
    assert len(book["buy"]) > 10 and len(book["sell"]) > 10
    unique = sorted(set(sequences))
    assert unique == list(range(unique[0], node.engine.products["BTC-USD"].sequence + 1))
    assert unique[0] > 1_000  # it joined late: thousands of messages before it
    last_trade = node.market.last_trade("BTC-USD")
    assert last_trade is not None and trade_ids[-1] == last_trade.trade_id
    assert trade_ids == sorted(trade_ids) and len(trade_ids) > 100
    mirror = feed.hub.state.products["BTC-USD"].book
    truth = MirrorBook.of(engine_book)
    assert (mirror.orders, mirror.bids, mirror.asks) == (truth.orders, truth.bids, truth.asks)
