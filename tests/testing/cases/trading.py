"""Run by tests/testing/test_plugin.py in a pytester session: a bot's tests through the
plugin's ``sandex`` fixture, with ccxt, cbpro and a raw WebSocket, on the default scenario.
The tests run in file order: the second reset test checks what the first one left."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import cbpro
import ccxt
import pytest
from websockets.sync.client import connect

from sandex.testing import VenueError

BASELINE = {"USD": "100000", "EUR": "100000", "BTC": "10", "ETH": "100"}
seen = {}


def cbpro_client(venue, creds):
    return cbpro.AuthenticatedClient(creds.key, creds.secret, creds.passphrase,
                                     api_url=venue.rest_url)


def subscribe_full(ws, creds, product):
    ts = str(time.time())
    digest = hmac.new(base64.b64decode(creds.secret), f"{ts}GET/users/self/verify".encode(),
                      hashlib.sha256).digest()
    ws.send(json.dumps({"type": "subscribe", "channels": ["full"], "product_ids": [product],
                        "key": creds.key, "passphrase": creds.passphrase, "timestamp": ts,
                        "signature": base64.b64encode(digest).decode()}))
    assert json.loads(ws.recv(timeout=5))["type"] == "subscriptions"


def next_done(ws, order_id):
    while True:
        message = json.loads(ws.recv(timeout=5))
        if message["type"] == "done" and message["order_id"] == order_id:
            return message


def balances(venue, creds):
    exchange = venue.ccxt(creds)
    return {c: format(exchange.fetch_balance()["total"][c], "g") for c in BASELINE}


def test_a_gtt_order_expires_exactly_at_its_time_under_advance(sandex):
    sandex.clock.freeze()
    trader = cbpro_client(sandex, sandex.credentials)
    with connect(sandex.ws_url, open_timeout=5) as ws:
        subscribe_full(ws, sandex.credentials, "BTC-USD")
        placed = trader.place_limit_order("BTC-USD", "buy", price="1000", size="0.02",
                                          time_in_force="GTT", cancel_after="min")
        sandex.ccxt(sandex.counterparty).create_order("BTC/USD", "limit", "sell", 0.01, 1000)
        expires = placed["expire_time"]
        assert sandex.clock.get()["next_due"] == {"kind": "expiry", "at": expires}
        moved = sandex.clock.advance("2h")
        assert moved["fired"] == {"expiries": 1, "demo_ticks": 0}
        done = next_done(ws, placed["id"])
    assert (done["order_id"], done["time"], done["reason"]) == (placed["id"], expires,
                                                                "canceled")
    order = trader.get_order(placed["id"])  # partly filled: kept, not purged
    assert (order["status"], order["done_reason"], order["done_at"]) == ("done", "canceled",
                                                                         expires)
    assert order["filled_size"] == "0.01000000"


def test_a_frozen_clock_gives_exactly_the_burst_then_429_until_it_moves(sandex):
    sandex.clock.freeze()
    exchange = sandex.ccxt()
    exchange.load_markets()  # public requests: their own bucket
    for _ in range(30):  # the private burst
        exchange.fetch_balance()
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_balance()
    sandex.clock.advance(timedelta(seconds=1))  # 15 tokens a second
    for _ in range(15):
        exchange.fetch_balance()
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_balance()


def test_reset_part_1_changes_everything(sandex):
    seen["hash"] = sandex.state_hash()
    assert balances(sandex, sandex.credentials) == BASELINE
    sandex.fund("USD", "2500.5")
    exchange = sandex.ccxt()
    exchange.create_order("BTC/USD", "limit", "buy", 0.5, 900)
    sandex.ccxt(sandex.counterparty).create_order("BTC/USD", "limit", "sell", 0.1, 900)
    assert len(exchange.fetch_open_orders("BTC/USD")) == 1
    assert sandex.book("BTC-USD")["sequence"] > 0
    assert sandex.state_hash() != seen["hash"]


def test_reset_part_2_finds_the_starting_state_again(sandex):
    assert sandex.state_hash() == seen["hash"]
    assert balances(sandex, sandex.credentials) == BASELINE
    assert balances(sandex, sandex.counterparty) == BASELINE
    assert sandex.ccxt().fetch_open_orders("BTC/USD") == []
    book = sandex.book("BTC-USD")
    assert (book["bids"], book["asks"], book["sequence"]) == ([], [], 0)


def test_a_snapshot_restores_the_same_state_hash(sandex):
    exchange = sandex.ccxt()
    order = exchange.create_order("ETH/USD", "limit", "buy", 1, 2000)
    saved = sandex.snapshot("one-order")
    assert saved["name"] == "one-order" and saved["state_hash"] == sandex.state_hash()
    exchange.cancel_order(order["id"], "ETH/USD")
    sandex.fund("ETH", 5, profile=sandex.counterparty)
    sandex.clock.advance("1d")
    assert sandex.state_hash() != saved["state_hash"]
    restored = sandex.restore("one-order")
    assert restored["state_hash"] == saved["state_hash"] == sandex.state_hash()
    assert [o["id"] for o in exchange.fetch_open_orders("ETH/USD")] == [order["id"]]
    assert "one-order" in [s["name"] for s in sandex.snapshots()]


def test_explain_says_why_before_the_order_is_sent(sandex):
    body = {"product_id": "BTC-USD", "side": "buy", "price": "60000.00", "size": "2"}
    before = sandex.state_hash()
    verdict = sandex.explain(body)
    assert (verdict["would"], verdict["message"], verdict["rule"]) == (
        "reject", "Insufficient funds", "INSUFFICIENT_FUNDS")
    assert verdict["detail"]["available"] == "100000 USD"
    assert verdict["detail"]["required"] == "120720 USD"  # 60000 * 2 * (1 + 0.6 %)
    assert sandex.state_hash() == before
    with pytest.raises(ccxt.InsufficientFunds):
        sandex.ccxt().create_order("BTC/USD", "limit", "buy", 2, 60000)


def test_the_trace_of_an_order_and_of_a_request(sandex):
    exchange = sandex.ccxt()
    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.01, 59000)
    exchange.cancel_order(placed["id"], "BTC/USD")
    traced = sandex.trace(order_id=placed["id"])  # ccxt may look the order up in between
    assert (traced[0]["method"], traced[-1]["method"]) == ("POST", "DELETE")
    assert {(t["status"], t["key"]) for t in traced} == {(200, sandex.credentials.key)}
    again = sandex.trace(request_id=traced[-1]["request_id"])
    assert again == [traced[-1]]


@pytest.mark.parametrize(("move", "message"), [
    (lambda v: v.clock.advance("-90s"), "Clock cannot move backwards"),
    (lambda v: v.clock.advance(timedelta(seconds=-1)), "Clock cannot move backwards"),
    (lambda v: v.clock.advance("401d"), "at most 400 days"),
    (lambda v: v.clock.rate(-1), "must be between 0 (frozen) and"),
    (lambda v: v.restore("no-such-snapshot"), "no-such-snapshot not found"),
])
def test_bad_input_is_a_clear_400_and_changes_nothing(sandex, move, message):
    sandex.clock.freeze()
    before = sandex.state()
    with pytest.raises(VenueError) as refused:
        move(sandex)
    assert refused.value.status == 400 and message in refused.value.message
    assert sandex.state() == before
