"""The feed's protocol over a raw WebSocket: subscribe/unsubscribe replies, every error text
character for character (§9.2, §9.3, §9.6), authentication forms, paths and pings."""

from __future__ import annotations

import time
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.support.feed_kit import Feed, auth_fields, feed, ws_url
from tests.support.rest_kit import ALICE, VIEWER, Server

FAILED = "Failed to subscribe"
AUTH_REASON = ("level2, level3, and full channels now require authentication. "
               "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth")


def error(message: str, reason: str) -> dict[str, str]:
    return {"type": "error", "message": message, "reason": reason}


@pytest.fixture
def ws(server: Server) -> Any:
    with feed(server) as connection:
        yield connection


def test_subscribe_reply_merges_names_objects_and_top_level_ids(ws: Feed) -> None:
    reply = ws.subscribe(["heartbeat", {"name": "ticker", "product_ids": ["BTC-USD", "ETH-USD"]}],
                         product_ids=["ETH-USD", "ETH-BTC"])
    assert reply == {"type": "subscriptions", "channels": [
        {"name": "heartbeat", "product_ids": ["ETH-USD", "ETH-BTC"]},
        {"name": "ticker", "product_ids": ["ETH-USD", "ETH-BTC", "BTC-USD"]}]}


def test_subscriptions_are_cumulative_and_unsubscribe_removes(ws: Feed) -> None:
    ws.subscribe(["heartbeat"], product_ids=["BTC-USD"])
    reply = ws.subscribe(["heartbeat", "level2_50", "ticker_1000", "status"],
                         product_ids=["ETH-USD"])
    assert reply["channels"] == [
        {"name": "heartbeat", "product_ids": ["BTC-USD", "ETH-USD"]},
        {"name": "level2_batch", "product_ids": ["ETH-USD"]},
        {"name": "ticker_batch", "product_ids": ["ETH-USD"]},
        {"name": "status", "product_ids": []}]
    ws.send({"type": "unsubscribe", "product_ids": ["BTC-USD"], "channels": ["heartbeat"]})
    assert ws.until(lambda m: m["type"] == "subscriptions")["channels"][0] == {
        "name": "heartbeat", "product_ids": ["ETH-USD"]}
    ws.send({"type": "unsubscribe", "channels": ["level2_batch", "status"]})
    assert ws.until(lambda m: m["type"] == "subscriptions")["channels"] == [
        {"name": "heartbeat", "product_ids": ["ETH-USD"]},
        {"name": "ticker_batch", "product_ids": ["ETH-USD"]}]
    ws.send({"type": "unsubscribe", "channels": ["heartbeat", "ticker_batch"]})
    assert ws.until(lambda m: m["type"] == "subscriptions") == {"type": "subscriptions",
                                                                "channels": []}


def test_unsubscribed_channel_stops(ws: Feed) -> None:
    ws.subscribe(["heartbeat"], product_ids=["ETH-BTC"])
    assert ws.until(lambda m: m["type"] == "heartbeat")["product_id"] == "ETH-BTC"
    ws.send({"type": "unsubscribe", "channels": ["heartbeat"]})
    ws.until(lambda m: m["type"] == "subscriptions")
    with pytest.raises(TimeoutError):
        ws.until(lambda m: m["type"] == "heartbeat", timeout=1.5)


@pytest.mark.parametrize(("message", "expected"), [
    ({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": []},
     error(FAILED, "No channels provided")),
    ({"type": "unsubscribe", "product_ids": ["BTC-USD"]},
     error("Failed to unsubscribe", "No channels provided")),
    ({"type": "unsubscribe", "channels": []},
     error("Failed to unsubscribe", "No channels provided")),
    ({"type": "subscribe", "product_ids": ["BTC-USD", "FOO-BAR"], "channels": ["ticker"]},
     error(FAILED, "FOO-BAR is not a valid product")),
    ({"type": "subscribe", "product_ids": ["BTC-USD"],
      "channels": [{"name": "ticker", "product_ids": []}]},
     error(FAILED, " is not a valid product")),
    ({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["bogus"]},
     error(FAILED, "bogus is not a valid channel")),
    ({"type": "subscribe", "channels": ["heartbeat"]},
     error(FAILED, "You need to specify at least one product ID for channel heartbeat")),
    ({"type": "subscribe", "product_ids": "BTC-USD", "channels": ["ticker"]},
     error(FAILED, "invalid (un)subscribe msg")),
    ({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": "ticker"},
     error(FAILED, "invalid (un)subscribe msg")),
    ({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": [{"product_ids": []}]},
     error(FAILED, "invalid (un)subscribe msg")),
    ({"type": "hello"}, error(FAILED, "invalid (un)subscribe msg")),
    ("not json", error(FAILED, "invalid (un)subscribe msg")),
    ("[1, 2]", error(FAILED, "invalid (un)subscribe msg")),
])
def test_error_texts(ws: Feed, message: Any, expected: dict[str, str]) -> None:
    ws.send(message)
    assert ws.recv() == expected
    assert ws.subscribe(["status"]) == {"type": "subscriptions",  # nothing else was applied
                                        "channels": [{"name": "status", "product_ids": []}]}


@pytest.mark.parametrize("channel", ["full", "level2", "level3", "user"])
def test_private_channels_need_authentication(ws: Feed, channel: str) -> None:
    assert ws.subscribe([channel, "ticker"], product_ids=["BTC-USD"]) == error(FAILED,
                                                                                AUTH_REASON)


def test_subscribe_without_channels_means_full(ws: Feed) -> None:
    """GUESS (docs/feed.md): no ``channels`` = the legacy default ``full``, so cbpro's
    unchanged OrderBook works; like ``full`` it needs authentication."""
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"]})
    assert ws.recv() == error(FAILED, AUTH_REASON)
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], **auth_fields(ALICE)})
    assert ws.recv() == {"type": "subscriptions",
                         "channels": [{"name": "full", "product_ids": ["BTC-USD"]}]}


@pytest.mark.parametrize("timestamp", ["string", "float-string", "int", "float"])
def test_authenticated_subscribe_timestamp_forms(ws: Feed, timestamp: str) -> None:
    now = time.time()
    value: Any = {"string": str(int(now)), "float-string": str(now), "int": int(now),
                  "float": round(now, 3)}[timestamp]
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["level2"],
             **auth_fields(ALICE, value)})
    assert ws.recv() == {"type": "subscriptions",
                         "channels": [{"name": "level2", "product_ids": ["BTC-USD"]}]}


def _auth_error(reason: str) -> dict[str, str]:
    return error("Authentication Failed", '{"message":"' + reason + '"}')


@pytest.mark.parametrize(("change", "reason"), [
    ({"key": "0" * 32}, "Invalid API Key"),
    ({"signature": "AAAA"}, "invalid signature"),
    ({"passphrase": "wrong"}, "Invalid Passphrase"),
    ({"timestamp": "1000000000"}, "request timestamp expired"),
    ({"timestamp": "NaN"}, "request timestamp expired"),
    ({"timestamp": "1515261195,2098"}, "invalid timestamp"),
    ({"signature": None}, "CB-ACCESS-SIGN header is required"),
    ({"key": None}, "CB-ACCESS-KEY header is required"),
])
def test_authentication_failures(ws: Feed, change: dict[str, Any], reason: str) -> None:
    fields = {**auth_fields(ALICE), **change}
    fields = {k: v for k, v in fields.items() if v is not None}
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["user"], **fields})
    assert ws.recv() == _auth_error(reason)


def test_signature_over_another_path_is_refused(ws: Feed) -> None:
    fields = auth_fields(ALICE)
    ts = str(int(time.time()))
    other = auth_fields(ALICE, ts)
    other["signature"] = auth_fields(ALICE, ts + "0")["signature"]  # signed a different text
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["user"], **other})
    assert ws.recv() == _auth_error("invalid signature")
    ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["user"], **fields})
    assert ws.recv()["type"] == "subscriptions"


def test_view_only_key_may_subscribe_to_user(ws: Feed) -> None:
    assert ws.subscribe(["user"], product_ids=["ETH-BTC"], creds=VIEWER) == {
        "type": "subscriptions", "channels": [{"name": "user", "product_ids": ["ETH-BTC"]}]}


def test_user_without_products_means_all(ws: Feed) -> None:
    """GUESS: ccxt's watch_orders() without a symbol sends ``product_ids: []``."""
    reply = ws.subscribe(["user"], product_ids=[], creds=ALICE)
    assert reply["channels"] == [{"name": "user", "product_ids": [
        "BTC-USD", "ETH-USD", "ETH-BTC", "LTC-USD", "SOL-USD", "ADA-USD", "DOT-USD"]}]


@pytest.mark.parametrize("path", ["/", "/ws", "/?"])
def test_paths(server: Server, path: str) -> None:
    with feed(server, path) as ws:
        assert ws.subscribe(["heartbeat"], product_ids=["BTC-USD"])["type"] == "subscriptions"


def test_other_paths_are_not_found(server: Server) -> None:
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as caught:
        connect(ws_url(server, "/feed"), open_timeout=5)
    assert caught.value.response.status_code == 404
    assert caught.value.response.body == b'{"message":"NotFound"}'


def test_protocol_ping_is_answered(ws: Feed) -> None:
    assert ws.ws.ping(b"keepalive").wait(5)


def test_status_lists_products_and_currencies(ws: Feed) -> None:
    ws.subscribe(["status"])
    status = ws.until(lambda m: m["type"] == "status")
    assert [p["id"] for p in status["products"]] == [
        "BTC-USD", "ETH-USD", "ETH-BTC", "LTC-USD", "SOL-USD", "ADA-USD", "DOT-USD"]
    assert status["products"][0] == {
        "id": "BTC-USD", "base_currency": "BTC", "quote_currency": "USD",
        "base_increment": "0.00000001", "quote_increment": "0.01000000",
        "display_name": "BTC-USD", "status": "online", "status_message": None,
        "min_market_funds": "1", "post_only": False, "limit_only": False, "cancel_only": False,
        "fx_stablecoin": False}
    modes = {p["id"]: (p["status"], p["post_only"], p["limit_only"], p["cancel_only"])
             for p in status["products"]}
    assert modes["LTC-USD"] == ("online", False, True, False)
    assert modes["SOL-USD"] == ("online", True, False, False)
    assert modes["ADA-USD"] == ("online", False, False, True)
    assert modes["DOT-USD"] == ("offline", False, False, False)
    assert status["currencies"][0] == {
        "id": "USD", "name": "United States Dollar", "display_name": "USD",
        "min_size": "0.01000000", "status": "online", "status_message": None,
        "max_precision": "0.01", "convertible_to": [], "details": {}, "default_network": "",
        "supported_networks": []}
    assert [c["id"] for c in status["currencies"]] == [
        "USD", "BTC", "ETH", "LTC", "SOL", "ADA", "DOT"]
