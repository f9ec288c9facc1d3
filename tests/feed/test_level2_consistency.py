"""A level-2 book built from the feed equals REST level 2 at the same sequence, under a random
order stream (limit, market, crossing, self-trade, cancels) from two profiles.

The connection follows BTC-USD on ``level2`` and ``full`` (for the sequence) and ETH-USD on
``full`` for markers: at each checkpoint the REST book is read, then a marker order is placed;
every feed message before the marker's ``received`` belongs to the commands before the REST
read (one FIFO queue per connection), so the two books must be equal there.
"""

from __future__ import annotations

import random
from typing import Any

from tests.support.feed_kit import Feed, book, feed, place
from tests.support.rest_kit import ALICE, BOB, RawClient, Server

Book = dict[str, dict[str, str]]


def _stream(clients: list[RawClient], rng: random.Random, count: int,
            live: list[tuple[RawClient, str]]) -> None:
    for _ in range(count):
        who = rng.choice(clients)
        roll = rng.random()
        if roll < 0.25 and live:
            client, order_id = live.pop(rng.randrange(len(live)))
            client.delete(f"/orders/{order_id}")
        elif roll < 0.33:
            side = rng.choice(("buy", "sell"))
            extra = {"funds": f"{rng.randint(10, 900)}"} if side == "buy" and rng.random() < .5 \
                else {"size": f"{rng.randint(1, 50) / 1000:.3f}"}
            place(who, product_id="BTC-USD", side=side, type="market", **extra)
        else:
            side = rng.choice(("buy", "sell"))
            tick = rng.randint(-8, 8) + (2 if side == "sell" else -2)
            order = place(who, product_id="BTC-USD", side=side, price=f"{30000 + tick * 5}",
                          size=f"{rng.randint(1, 60) / 1000:.3f}",
                          stp=rng.choice(("dc", "co", "cn", "cb")))
            live.append((who, order["id"]))


def _apply(ws: Feed, ours: Book, marker: str) -> int:
    """Apply feed messages until the marker's ``received``; the last BTC-USD sequence."""
    sequence = -1
    while True:
        message: dict[str, Any] = ws.recv()
        kind = message["type"]
        if kind == "snapshot":
            ours["buy"] = dict(message["bids"])
            ours["sell"] = dict(message["asks"])
        elif kind == "l2update":
            for side, price, size in message["changes"]:
                if size == "0":
                    ours[side].pop(price, None)
                else:
                    ours[side][price] = size
        elif message.get("product_id") == "BTC-USD" and "sequence" in message:
            assert message["sequence"] == sequence + 1 or sequence == -1  # no gaps
            sequence = message["sequence"]
        elif message.get("order_id") == marker and kind == "received":
            return sequence


def test_level2_from_the_feed_equals_rest(server: Server) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
    live: list[tuple[RawClient, str]] = []
    _stream([alice, bob], rng, 40, live)  # the snapshot is not empty
    with feed(server) as ws:
        ws.subscribe(["full"], ["ETH-USD"], creds=ALICE)
        ws.send({"type": "subscribe", "channels": [{"name": "level2", "product_ids": ["BTC-USD"]},
                                                   {"name": "full", "product_ids": ["BTC-USD"]}]})
        ours: Book = {"buy": {}, "sell": {}}
        last = book(alice, "BTC-USD", 2)["sequence"]
        for checkpoint in range(4):
            _stream([alice, bob], rng, 60, live)
            rest = book(alice, "BTC-USD", 2)
            marker = place(alice, product_id="ETH-USD", side="buy", price="1", size="1")
            sequence = _apply(ws, ours, marker["id"])
            assert sequence == rest["sequence"] > last, (seed, checkpoint)
            assert ours["buy"] == {p: s for p, s, _ in rest["bids"]}, (seed, checkpoint)
            assert ours["sell"] == {p: s for p, s, _ in rest["asks"]}, (seed, checkpoint)
            last = sequence
        assert rest["bids"] and rest["asks"], seed
