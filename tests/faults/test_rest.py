"""REST fault actions seen by real clients (ccxt, cbpro, requests) against a running venue."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import cbpro
import ccxt
import pytest
import requests

from sandex.testing import LocalServer, Venue, VenueError


def cbpro_client(venue: Venue) -> cbpro.AuthenticatedClient:
    creds = venue.credentials
    return cbpro.AuthenticatedClient(creds.key, creds.secret, creds.passphrase,
                                     api_url=venue.rest_url)


def order_by_oid(venue: Venue, oid: str) -> dict:
    return cbpro_client(venue).get_order(f"client:{oid}")  # type: ignore[no-any-return]


def test_ccxt_sees_rate_limit_exceeded_exactly_on_the_nth_requests(venue: Venue) -> None:
    venue.faults.add({"id": "burst429", "layer": "rest",
                      "match": {"method": "GET", "path": "/accounts",
                                "key": venue.credentials.key},
                      "when": {"nth": [2, 3]},
                      "action": {"kind": "status", "status": 429}})
    exchange = venue.ccxt()
    outcomes = []
    for _ in range(5):
        try:
            exchange.fetch_balance()
            outcomes.append("ok")
        except ccxt.RateLimitExceeded as exc:
            assert "Private rate limit exceeded" in str(exc)
            outcomes.append("429")
    assert outcomes == ["ok", "429", "429", "ok", "ok"]
    assert [(e["rule"], e["request"]["path"]) for e in venue.faults.log()] == [
        ("burst429", "/accounts")] * 2


def test_accept_then_timeout_close_ccxt_errors_and_the_order_is_there(venue: Venue) -> None:
    venue.faults.add({"id": "lost-reply", "layer": "rest",
                      "match": {"method": "POST", "path": "/orders"}, "when": {"nth": [1]},
                      "action": {"kind": "accept_then_timeout", "then": "close"}})
    oid = str(uuid.uuid4())
    with pytest.raises(ccxt.NetworkError):
        venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1000, {"client_oid": oid})
    order = order_by_oid(venue, oid)
    assert (order["status"], order["price"], order["size"]) == ("open", "1000.00000000",
                                                                 "0.01000000")
    assert venue.faults.log()[0]["detail"] == "applied: 200"


def test_accept_then_timeout_504_cbpro_gets_the_gateway_text_and_the_order_is_there(
        venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"method": "POST", "path": "/orders"},
                      "action": {"kind": "accept_then_timeout", "then": "504",
                                 "hold_ms": 50}, "max_fires": 1})
    oid = str(uuid.uuid4())
    started = time.monotonic()
    answer = cbpro_client(venue).place_limit_order("BTC-USD", "buy", price="1001", size="0.02",
                                                    client_oid=oid)
    assert answer == {"message": "Gateway Timeout"}
    assert time.monotonic() - started >= 0.05
    assert order_by_oid(venue, oid)["size"] == "0.02000000"
    retried = cbpro_client(venue).place_limit_order("BTC-USD", "buy", price="1001",
                                                     size="0.02", client_oid=str(uuid.uuid4()))
    assert retried["status"] == "pending"  # max_fires 1: the next one is answered


def test_accept_then_timeout_502_html_is_a_load_balancer_page(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"method": "POST", "path": "/orders"},
                      "action": {"kind": "accept_then_timeout", "then": "502-html"}})
    oid = str(uuid.uuid4())
    with pytest.raises(ccxt.ExchangeNotAvailable):
        venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1002, {"client_oid": oid})
    reply = requests.post(f"{venue.rest_url}/orders", data="{}", timeout=5)
    assert reply.status_code == 502 and reply.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in reply.text
    assert order_by_oid(venue, oid)["status"] == "open"


def test_accept_then_error_applies_then_answers_the_5xx(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"method": "POST", "path": "/orders"},
                      "action": {"kind": "accept_then_error", "status": 503}})
    oid = str(uuid.uuid4())
    answer = cbpro_client(venue).place_limit_order("BTC-USD", "buy", price="1003", size="0.01",
                                                    client_oid=oid)
    assert answer == {"message": "Service Unavailable"}
    assert order_by_oid(venue, oid)["status"] == "open"


def test_reject_before_accept_applies_nothing(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"method": "POST", "path": "/orders"},
                      "action": {"kind": "reject_before_accept", "status": 500,
                                 "message": "Internal server error"}})
    oid = str(uuid.uuid4())
    with pytest.raises(ccxt.ExchangeNotAvailable, match="Internal server error"):
        venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1004, {"client_oid": oid})
    assert order_by_oid(venue, oid) == {"message": "NotFound"}


def test_reset_cuts_the_connection(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"path": "/time"}, "when": {"nth": [1]},
                      "action": {"kind": "reset"}})
    with pytest.raises(requests.ConnectionError) as cut:
        requests.get(f"{venue.rest_url}/time", timeout=5)
    assert "Connection reset by peer" in str(cut.value)
    assert requests.get(f"{venue.rest_url}/time", timeout=5).status_code == 200


def test_delay_waits_real_time(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "match": {"path": "/products"},
                      "action": {"kind": "delay", "ms": 200}})
    started = time.monotonic()
    assert len(venue.ccxt().fetch_markets()) == 4
    assert time.monotonic() - started >= 0.2


def test_stale_read_shows_an_order_still_open_after_its_fill(venue: Venue) -> None:
    trader = venue.ccxt()
    order = trader.create_order("BTC/USD", "limit", "sell", 0.01, 60000)
    venue.faults.add({"id": "stale", "layer": "rest",
                      "match": {"method": "GET", "path": "/orders/{id}"},
                      "when": {"nth": [2]}, "action": {"kind": "stale_read"}})
    assert trader.fetch_order(order["id"])["status"] == "open"
    venue.ccxt(venue.counterparty).create_order("BTC/USD", "limit", "buy", 0.01, 60000)
    assert trader.fetch_order(order["id"])["status"] == "open"  # the older view
    assert trader.fetch_order(order["id"])["status"] == "closed"  # and the truth again
    assert [e["rule"] for e in venue.faults.log()] == ["stale"]


def test_bad_rules_are_refused_and_change_nothing(venue: Venue) -> None:
    venue.faults.add({"id": "kept", "layer": "rest", "action": {"kind": "delay", "ms": 1},
                      "match": {"path": "/nowhere"}})
    before = venue.faults.list()
    for bad, text in (
            ({"layer": "rest", "action": {"kind": "explode"}}, "'explode' is not a rest action"),
            ({"layer": "feed", "when": {"from": "soon"}, "action": {"kind": "drop"}},
             "when.from: 'soon' is neither"),
            ({"layer": "rest", "when": {"probability": 1.01},
              "action": {"kind": "reset"}}, "probability must be a number from 0 to 1"),
            ({"layer": "engine", "when": {"for": "1m"},
              "action": {"kind": "halt_matching", "ms": 5}}, "unknown field(s) ms"),
    ):
        with pytest.raises(VenueError) as refused:
            venue.faults.add(bad)
        assert refused.value.status == 400 and text in refused.value.message
    assert venue.faults.list() == before


def test_reset_takes_the_rules_away(venue: Venue) -> None:
    venue.faults.add({"layer": "rest", "action": {"kind": "status", "status": 503}})
    venue.reset()
    assert venue.faults.list() == [] and venue.faults.log() == []
    assert venue.ccxt().fetch_time() > 0


def test_the_cli_door(venue: Venue, local: LocalServer) -> None:
    def sandex(*args: str) -> object:
        done = subprocess.run([sys.executable, "-m", "sandex.cli", *args, "--url", local.url,
                               "--token", local.admin_token],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    rule = {"id": "cli", "layer": "rest", "match": {"path": "/time"},
            "action": {"kind": "status", "status": 503}}
    assert sandex("fault", "add", json.dumps(rule))["id"] == "cli"  # type: ignore[index]
    assert requests.get(f"{venue.rest_url}/time", timeout=5).json() == {
        "message": "Service Unavailable"}
    assert [r["id"] for r in sandex("fault", "list")] == ["cli"]  # type: ignore[union-attr]
    assert sandex("fault", "log")[0]["rule"] == "cli"  # type: ignore[index]
    assert sandex("fault", "clear", "cli") == {"cleared": ["cli"]}
    installed = sandex("fault", "preset", "timeouts-accepted", "--seed", "7")
    assert [r["seed"] for r in installed] == [7, 7]  # type: ignore[union-attr]
    refused = subprocess.run([sys.executable, "-m", "sandex.cli", "fault", "preset",
                              "bad-week", "--url", local.url,
                              "--token", local.admin_token], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("sandex: preset: 'bad-week' is not one of rate-limit-storm")
