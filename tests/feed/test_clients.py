"""Real feed clients against a running sandex: cbpro's WebsocketClient and OrderBook,
ccxt.pro's watch_* methods, and copra's websocket client; each checked on concrete content."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any

import cbpro
import ccxt.pro
from copra.websocket import Channel
from copra.websocket import Client as CopraFeed

from tests.support.feed_kit import book, cancel, place, ws_url
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, BOB_PROFILE, RawClient, Server

ALICE_USER = "a11ce0000000000000000001"


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- cbpro -----------------------------------------------------------------------------------------

class Recorder(cbpro.WebsocketClient):
    def on_open(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def on_message(self, msg: dict[str, Any]) -> None:
        self.messages.append(msg)


def test_cbpro_websocket_client(server: Server, alice: RawClient, bob: RawClient) -> None:
    client = Recorder(url=ws_url(server), products=["BTC-USD"],
                      channels=["matches", "user", "heartbeat"],
                      auth=True, api_key=ALICE[0], api_secret=ALICE[1],
                      api_passphrase=ALICE[2], should_print=False)
    client.start()
    wait_for(lambda: client.messages)
    maker = place(bob, product_id="BTC-USD", side="buy", price="11000", size="0.5")
    taker = place(alice, product_id="BTC-USD", side="sell", price="11000", size="0.2")
    wait_for(lambda: sum(m["type"] == "match" for m in client.messages) == 2)
    cancel(bob, maker["id"])
    wait_for(lambda: any(m["type"] == "done" for m in client.messages))
    client.close()  # returns once the next heartbeat wakes its blocking recv()
    assert client.error is None and not client.thread.is_alive()
    assert client.messages[0] == {"type": "subscriptions", "channels": [
        {"name": "matches", "product_ids": ["BTC-USD"]},
        {"name": "user", "product_ids": ["BTC-USD"]},
        {"name": "heartbeat", "product_ids": ["BTC-USD"]}]}
    kinds = [m["type"] for m in client.messages[1:] if m["type"] not in ("last_match",
                                                                          "heartbeat")]
    assert kinds == ["received", "match", "match", "done"]  # bob's orders are not on "user"
    own_match = [m for m in client.messages if m["type"] == "match"]
    assert own_match[0] == own_match[1]  # the same copy on "matches" and "user"
    assert own_match[0]["taker_order_id"] == taker["id"]
    assert own_match[0]["maker_order_id"] == maker["id"]
    assert (own_match[0]["size"], own_match[0]["price"], own_match[0]["side"]) == (
        "0.20000000", "11000.00000000", "buy")
    assert (own_match[0]["taker_profile_id"], own_match[0]["taker_user_id"],
            own_match[0]["taker_fee_rate"]) == (ALICE_PROFILE, ALICE_USER, "0.006")


def _random_stream(alice: RawClient, bob: RawClient, rng: random.Random, count: int) -> None:
    """Limit orders around 0.05 from two profiles, crossing sometimes (fills, STP changes),
    market orders and cancels, on ETH-BTC."""
    live: list[tuple[RawClient, str]] = []
    for _ in range(count):
        who = rng.choice((alice, bob))
        roll = rng.random()
        if roll < 0.2 and live:
            client, order_id = live.pop(rng.randrange(len(live)))
            client.delete(f"/orders/{order_id}")  # may already be done: that is fine
        elif roll < 0.28:
            place(who, product_id="ETH-BTC", side=rng.choice(("buy", "sell")), type="market",
                  size=f"{rng.randint(1, 40) / 100:.2f}")
        else:
            side = rng.choice(("buy", "sell"))
            tick = rng.randint(-6, 6) + (3 if side == "sell" else -3)
            order = place(who, product_id="ETH-BTC", side=side, price=f"{0.05 + tick / 1e4:.5f}",
                          size=f"{rng.randint(1, 30) / 100:.2f}")
            live.append((who, order["id"]))


def test_cbpro_order_book_equals_rest_level3(server: Server, alice: RawClient,
                                             bob: RawClient) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    _random_stream(alice, bob, rng, 40)  # a book exists before the OrderBook starts
    ob = cbpro.OrderBook(product_id="ETH-BTC")
    ob.url = ws_url(server)
    ob._client = cbpro.PublicClient(api_url=server.url)
    ob.auth, ob.api_key, ob.api_secret, ob.api_passphrase = True, *ALICE
    ob.start()
    try:
        wait_for(lambda: ob._sequence != -1)
        _random_stream(alice, bob, rng, 120)
        rest = book(alice, "ETH-BTC", 3)
        wait_for(lambda: ob._sequence == rest["sequence"])
        mine = ob.get_current_book()
        assert ob.error is None, seed
        assert _levels(mine["bids"]) == _levels(rest["bids"]), seed
        assert _levels(mine["asks"]) == _levels(rest["asks"]), seed
        assert rest["bids"] and rest["asks"], seed
    finally:
        ob.stop = True
        place(alice, product_id="ETH-BTC", side="buy", price="0.001", size="1")  # wakes it
        ob.thread.join(5)
        assert not ob.thread.is_alive()
        for client in (alice, bob):
            assert client.delete("/orders?product_id=ETH-BTC").status == 200


def _levels(rows: list[list[Any]]) -> dict[Decimal, list[tuple[Decimal, str]]]:
    """Orders per price in queue order: the OrderBook lists bids low to high, REST high to low."""
    out: dict[Decimal, list[tuple[Decimal, str]]] = {}
    for price, size, order_id in rows:
        out.setdefault(Decimal(price), []).append((Decimal(size), order_id))
    return out


# -- ccxt.pro --------------------------------------------------------------------------------------

def _ccxt_pro(server: Server, creds: tuple[str, str, str]) -> Any:
    key, secret, passphrase = creds
    exchange = ccxt.pro.coinbaseexchange({"apiKey": key, "secret": secret,
                                          "password": passphrase, "enableRateLimit": False})
    exchange.urls["api"] = {"public": server.url, "private": server.url, "ws": ws_url(server)}
    return exchange


async def _ccxt_scenario(server: Server) -> None:
    ex, other = _ccxt_pro(server, ALICE), _ccxt_pro(server, BOB)
    try:
        await ex.load_markets()
        await other.load_markets()
        resting = await other.create_order("ETH/USD", "limit", "sell", 0.5, 2500)
        order_book = await asyncio.wait_for(ex.watch_order_book("ETH/USD"), 5)
        rest = book(RawClient(server.port), "ETH-USD", 2)
        assert order_book["asks"][0] == [2500.0, 0.5]
        assert order_book["asks"] == [[float(p), float(s)] for p, s, _ in rest["asks"]]
        assert order_book["bids"] == [[float(p), float(s)] for p, s, _ in rest["bids"]]
        trades = asyncio.create_task(ex.watch_trades("ETH/USD"))
        orders = asyncio.create_task(ex.watch_orders("ETH/USD"))
        mine = asyncio.create_task(ex.watch_my_trades("ETH/USD"))
        await asyncio.sleep(0.5)  # the three subscriptions are in place
        bought = await ex.create_order("ETH/USD", "limit", "buy", 0.2, 2500)
        (public,), my_orders, (my_trade,) = await asyncio.wait_for(
            asyncio.gather(trades, orders, mine), 5)
        assert (public["side"], public["price"], public["amount"], public["order"]) == (
            "buy", 2500.0, 0.2, bought["id"])  # ccxt: the taker's side and order
        assert public["info"]["maker_order_id"] == resting["id"]
        assert (my_trade["order"], my_trade["side"], my_trade["takerOrMaker"],
                my_trade["price"], my_trade["amount"]) == (bought["id"], "buy", "taker",
                                                           2500.0, 0.2)
        assert my_trade["fee"]["rate"] == 0.006
        assert my_orders[-1]["id"] == bought["id"]
        book_update = asyncio.create_task(ex.watch_order_book("ETH/USD"))
        order_update = asyncio.create_task(ex.watch_orders("ETH/USD"))
        await asyncio.sleep(0.1)
        placed = await ex.create_order("ETH/USD", "limit", "buy", 0.1, 2000)
        order_book = await asyncio.wait_for(book_update, 5)
        assert (order_book["asks"][0], order_book["bids"][0]) == ([2500.0, 0.3], [2000.0, 0.1])
        seen = await asyncio.wait_for(order_update, 5)
        assert (seen[-1]["id"], seen[-1]["status"], seen[-1]["amount"], seen[-1]["price"]) == (
            placed["id"], "open", 0.1, 2000.0)
        order_update = asyncio.create_task(ex.watch_orders("ETH/USD"))
        await asyncio.sleep(0.1)
        await ex.cancel_order(placed["id"])
        seen = await asyncio.wait_for(order_update, 5)
        assert (seen[-1]["id"], seen[-1]["status"]) == (placed["id"], "canceled")
        await other.cancel_order(resting["id"])
    finally:
        await ex.close()
        await other.close()


def test_ccxt_pro_watch_methods(server: Server) -> None:
    asyncio.run(_ccxt_scenario(server))


# -- copra -----------------------------------------------------------------------------------------

class CopraRecorder(CopraFeed):
    def on_message(self, message: dict[str, Any]) -> None:
        self.received.append(message)

    def on_error(self, message: str, reason: str = "") -> None:
        self.errors.append((message, reason))


async def _copra_scenario(server: Server, alice: RawClient, bob: RawClient) -> None:
    loop = asyncio.get_running_loop()
    CopraRecorder.received, CopraRecorder.errors = [], []
    client = CopraRecorder(loop, [Channel("matches", "BTC-USD"), Channel("heartbeat", "BTC-USD"),
                                  Channel("user", "BTC-USD")],
                           feed_url=ws_url(server), auth=True, key=BOB[0], secret=BOB[1],
                           passphrase=BOB[2], auto_reconnect=False)
    await client.connected.wait()
    while not client.received:
        await asyncio.sleep(0.02)
    maker = await asyncio.to_thread(place, alice, product_id="BTC-USD", side="sell",
                                    price="12000", size="0.5")
    taker = await asyncio.to_thread(place, bob, product_id="BTC-USD", side="buy",
                                    price="12000", size="0.5")
    for _ in range(250):
        if sum(m["type"] == "match" for m in client.received) == 2 and any(
                m["type"] == "heartbeat" for m in client.received):
            break
        await asyncio.sleep(0.02)
    await client.close()
    assert client.errors == []
    subscribed = client.received[0]
    assert subscribed["type"] == "subscriptions"
    assert sorted(c["name"] for c in subscribed["channels"]) == ["heartbeat", "matches", "user"]
    matches = [m for m in client.received if m["type"] == "match"]
    assert matches[0] == matches[1]
    assert {k: matches[0][k] for k in ("maker_order_id", "taker_order_id", "size", "price",
                                       "side", "taker_profile_id", "taker_fee_rate")} == {
        "maker_order_id": maker["id"], "taker_order_id": taker["id"], "size": "0.50000000",
        "price": "12000.00000000", "side": "sell", "taker_profile_id": BOB_PROFILE,
        "taker_fee_rate": "0.006"}
    assert any(m["type"] == "heartbeat" and m["product_id"] == "BTC-USD"
               for m in client.received)


def test_copra_websocket_client(server: Server, alice: RawClient, bob: RawClient) -> None:
    asyncio.run(_copra_scenario(server, alice, bob))

