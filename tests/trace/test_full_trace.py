"""The full trace (docs/testing.md, "Trace"), with real clients against a real server in test
mode: a ccxt order that fills against another user's resting order and the demo's maker shows
its auth, bucket, hold, journal position, match events with the counterparty kinds and what the
feed delivered to a subscribed websockets client; the order's own view adds what touched it
without a request."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from websockets.sync.client import connect

from sandex.testing import TESTING_SCENARIO, LocalServer, Venue
from tests.support.feed_kit import auth_fields

DEMO_MAKER = "d3a10000-0000-4000-8000-00000000a001"
DEMO_TAKER = "d3a10000-0000-4000-8000-00000000a002"
TRADER = "7e570000-0000-4000-8000-000000000001"
OID = "c0ffee00-0000-4000-8000-000000000001"
DEMO = f"""
[[profiles]]
id = "{DEMO_MAKER}"
user_id = "d3a100000000000000000001"
name = "demo-market-maker"
maker_fee_rate = "0"
taker_fee_rate = "0"
balances = {{ USD = "100000000", BTC = "10000" }}

[[profiles]]
id = "{DEMO_TAKER}"
user_id = "d3a100000000000000000002"
name = "demo-taker"
maker_fee_rate = "0"
taker_fee_rate = "0"
balances = {{ USD = "100000000", BTC = "10000" }}

[demo]
enabled = true
seed = 1
tick_seconds = 60.0         # one tick at the start (the ladder); the clock is then frozen
maker_profile_id = "{DEMO_MAKER}"
taker_profile_id = "{DEMO_TAKER}"

[[demo.products]]
id = "BTC-USD"
reference_price = "60000"
levels = 2
spacing = "0.0001"          # asks at 60006 and 60012
size = "0.05"
taker_chance = "0"
taker_size = "0.02"
"""


@pytest.fixture(scope="module")
def demo_venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    """The testing scenario plus the demo market (its ladder placed at start, then the clock
    frozen), journaled to disk so every command waits for a real group commit (fsync)."""
    where = tmp_path_factory.mktemp("trace")
    scenario = where / "scenario.toml"
    scenario.write_text(TESTING_SCENARIO.read_text() + DEMO)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with (where / "sandex.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandex.cli", "serve", "--data-dir", str(where / "data"),
             "--host", "127.0.0.1", "--port", str(port), "--scenario", str(scenario),
             "--seed", "1"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    server = LocalServer(process, port, "", where / "sandex.log")
    server._wait_ready()
    server.admin_token = (where / "data" / "admin.token").read_text().strip()
    venue = Venue(server.url, server.admin_token)
    venue.clock.freeze()  # no demo tick after its first: the book stays as the test made it
    yield venue
    venue.close()
    server.stop()


def signed(venue: Venue) -> dict[str, Any]:
    """A subscribe's signature fields (``full`` needs them), as the counterparty."""
    c = venue.counterparty
    return auth_fields((c.key, c.secret, c.passphrase))


def test_a_fill_against_a_user_and_the_demo_is_traced_whole(demo_venue: Venue) -> None:
    venue = demo_venue
    book = venue.book("BTC-USD", level=3)
    demo_ask = book["asks"][0]
    assert demo_ask[:2] == ["60006", "0.05"]  # the demo maker's best ask
    bot, other = venue.ccxt(), venue.ccxt(venue.counterparty)
    with connect(venue.ws_url) as ws:
        ws.send(json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"],
                            "channels": ["full", "matches"], **signed(venue)}))
        assert json.loads(ws.recv(5))["type"] == "subscriptions"
        resting = other.create_order("BTC/USD", "limit", "sell", 0.01, 60003)
        placed = bot.create_order("BTC/USD", "limit", "buy", 0.02, 60006, {"client_oid": OID})
        frames = [json.loads(ws.recv(5)) for _ in range(2 + 7)]  # the resting order's 2
    assert [(f["type"], f.get("price") and str(Decimal(f["price"]).normalize()))
            for f in frames[2:]] == [
        ("received", "60006"), ("match", "60003"), ("match", "60003"), ("done", "60003"),
        ("match", "60006"), ("match", "60006"), ("done", "60006")]
    [trace] = venue.trace(client_oid=f"client:{OID}")
    assert (trace["method"], trace["target"], trace["status"], trace["order_id"]) == (
        "POST", "/orders", 200, placed["id"])
    assert trace["auth"] == {"result": "ok", "rule": None, "profile_id": TRADER,
                             "kind": "user", "permissions": ["trade", "transfer", "view"]}
    assert trace["rate_limit"] == {"bucket": "private", "refused": False,
                                   "tokens_left": 29.0}  # burst 30, one taken, clock frozen
    [command] = trace["commands"]
    assert command["command"] == "PlaceOrder" and command["position"] == trace["position"]
    [before] = venue.trace(order_id=resting["id"])[:1]
    assert command["position"] == before["commands"][0]["position"] + 1
    assert command["commit_wait_ms"] > 0  # its reply waited for the group commit's fsync
    assert command["hold"] == {"currency": "USD", "amount": "1207.32072",  # 0.02 x 60006 x 1.006
                               "left": "0"}
    assert [(e["type"], e.get("order_id"), e["price"]) for e in command["events"]] == [
        ("received", placed["id"], "60006"), ("match", None, "60003"),
        ("done", resting["id"], "60003"), ("match", None, "60006"),
        ("done", placed["id"], "60006")]
    matches = [e for e in command["events"] if e["type"] == "match"]
    assert [(m["maker_order_id"], m["size"], m["maker_kind"], m["taker_kind"])
            for m in matches] == [(resting["id"], "0.01", "user", "user"),
                                  (demo_ask[2], "0.01", "demo", "user")]
    assert [(f["counterparty_order_id"], f["counterparty_kind"], f["liquidity"], f["price"])
            for f in command["fills"]] == [(resting["id"], "user", "taker", "60003"),
                                           (demo_ask[2], "demo", "taker", "60006")]
    assert command["feed"] == [  # one websockets client on full and matches
        {"channel": "full", "type": "received", "sent": 1, "withheld": 0},
        {"channel": "full", "type": "match", "sent": 2, "withheld": 0},
        {"channel": "matches", "type": "match", "sent": 2, "withheld": 0},
        {"channel": "full", "type": "done", "sent": 2, "withheld": 0}]
    assert command["events_more"] == 0 and trace["faults"] == [] and trace["gate"] is None
    # the resting order's own view: its place, then the request that filled it
    view = venue.trace(order_id=resting["id"])
    assert [(t["request_id"], t["key"]) for t in view] == [
        (before["request_id"], venue.counterparty.key),
        (trace["request_id"], venue.credentials.key)]


def test_a_feed_drop_shows_in_the_trace_of_the_command_whose_frame_it_dropped(
        demo_venue: Venue) -> None:
    venue = demo_venue
    venue.faults.add({"id": "lose-received", "layer": "feed",
                      "match": {"channel": "full", "type": "received"}, "when": {"nth": [1]},
                      "action": {"kind": "drop"}})
    try:
        with connect(venue.ws_url) as ws:
            ws.send(json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"],
                                "channels": ["full"], **signed(venue)}))
            assert json.loads(ws.recv(5))["type"] == "subscriptions"
            placed = venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 50000)
            first = json.loads(ws.recv(5))
        assert (first["type"], first["order_id"]) == ("open", placed["id"])  # received: lost
        [trace] = venue.trace(order_id=placed["id"])
        [command] = trace["commands"]
        assert command["feed"] == [
            {"channel": "full", "type": "received", "sent": 0, "withheld": 1},
            {"channel": "full", "type": "open", "sent": 1, "withheld": 0}]
        assert command["feed_faults"] == [{"rule": "lose-received", "action": "drop",
                                           "connection": command["feed_faults"][0][
                                               "connection"], "channel": "full"}]
    finally:
        venue.faults.clear()


def test_an_expiry_joins_the_order_s_view_with_no_request(demo_venue: Venue) -> None:
    venue = demo_venue
    placed = venue.ccxt().create_order("BTC/USD", "limit", "sell", 0.01, 70000,
                                       {"time_in_force": "GTT", "cancel_after": "min"})
    venue.clock.advance("61s")  # past its minute (the demo requotes too: not this order)
    view = venue.trace(order_id=placed["id"])
    assert [t["request_id"] is None for t in view] == [False, True]
    [expiry] = view[1]["commands"]
    assert [(e["type"], e["order_id"], e["reason"], e["kind"]) for e in expiry["events"]
            if e["order_id"] == placed["id"]] == [("done", placed["id"], "canceled", "user")]
    assert expiry["position"] > view[0]["position"]
