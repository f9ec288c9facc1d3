"""Reply and feed holds with real clients (ccxt, a WebSocket on the ``user`` channel): either
side of "REST says done" and "the feed says open" can be made to come first."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.sync.client import connect

from tests.support.feed_kit import auth_fields

pytestmark = pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")

BTC = "BTC/USD"
OID = "c0000000-0000-4000-8000-00000000000c"


def subscribe_user(sandex, ws):
    creds = sandex.credentials
    ws.send(json.dumps({"type": "subscribe", "channels": ["user"], "product_ids": ["BTC-USD"],
                        **auth_fields((creds.key, creds.secret, creds.passphrase))}))
    assert json.loads(ws.recv(timeout=5))["type"] == "subscriptions"


def next_order_message(ws, timeout=5.0):
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] != "heartbeat":
            return message


def test_a_feed_hold_lets_rest_say_done_before_the_feed_says_open(sandex):
    trader = sandex.ccxt()
    with connect(sandex.ws_url, open_timeout=5) as ws:
        subscribe_user(sandex, ws)
        sandex.feed.hold({"key": sandex.credentials.key})
        order = trader.create_order(BTC, "limit", "buy", 0.01, 50000)
        trader.cancel_order(order["id"], BTC)  # REST: 200, the order is done
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)  # the feed has said nothing yet
        [connection] = sandex.feed.held()["held"]
        assert (connection["key"], connection["queued"]) == (sandex.credentials.key, 3)
        sandex.feed.release({"key": sandex.credentials.key})
        kinds = [next_order_message(ws) for _ in range(3)]
    assert [(m["type"], m["order_id"]) for m in kinds] == [
        ("received", order["id"]), ("open", order["id"]), ("done", order["id"])]


def test_a_reply_hold_lets_the_feed_say_open_before_rest_answers(sandex):
    trader = sandex.ccxt()
    with connect(sandex.ws_url, open_timeout=5) as ws, ThreadPoolExecutor(1) as pool:
        subscribe_user(sandex, ws)
        sandex.replies.hold({"type": "place", "client_oid": OID})
        place = pool.submit(trader.create_order, BTC, "limit", "buy", 0.01, 50000,
                            {"client_oid": OID})
        received, opened = next_order_message(ws), next_order_message(ws)
        assert (received["type"], received["client_oid"], opened["type"]) == (
            "received", OID, "open")
        [held] = sandex.replies.wait(1)
        assert held["client_oid"] == OID and not place.done()
        assert sandex.replies.open()["released"] == [held["id"]]
        assert place.result(10)["id"] == opened["order_id"]
