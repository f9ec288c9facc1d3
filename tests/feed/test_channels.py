"""Every channel's messages, field for field (§9.5), against a running server.

Orders go in over REST; the expected messages are written out with the ids and times the
REST answers give (``created_at`` is the command's time, which is the event time). Each test
works on its own price band and leaves the book as it found it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.feed_kit import Feed, book, cancel, feed, not_heartbeat, of_type, place
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, BOB_PROFILE, RawClient, Server

ALICE_USER = "a11ce0000000000000000001"
BOB_USER = "b0b000000000000000000002"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def a(server: Server) -> Iterator[Feed]:
    with feed(server) as connection:
        yield connection


@pytest.fixture
def b(server: Server) -> Iterator[Feed]:
    with feed(server) as connection:
        yield connection


def _last_trade_id(client: RawClient, product_id: str) -> int:
    trades = client.get(f"/products/{product_id}/trades").json()
    return trades[0]["trade_id"] if trades else 0


def alice_own(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "user_id": ALICE_USER, "profile_id": ALICE_PROFILE}


def bob_own(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "user_id": BOB_USER, "profile_id": BOB_PROFILE}


def test_full_channel_public_and_own_copies(alice: RawClient, bob: RawClient, a: Feed,
                                            b: Feed) -> None:
    base = book(alice, "ETH-USD", 3)["sequence"]
    trade_id = _last_trade_id(alice, "ETH-USD") + 1
    a.subscribe(["full"], ["ETH-USD"], creds=ALICE)
    b.subscribe(["full"], ["ETH-USD"], creds=BOB)
    oid = "11111111-1111-4111-8111-111111111111"
    sell = place(alice, product_id="ETH-USD", side="sell", price="300", size="1", client_oid=oid)
    buy = place(bob, product_id="ETH-USD", side="buy", price="301", size="0.25")
    t1, t2 = sell["created_at"], buy["created_at"]
    received = {"type": "received", "time": t1, "product_id": "ETH-USD", "sequence": base + 1,
                "order_id": sell["id"], "size": "1.00000000", "price": "300.00000000",
                "side": "sell", "order_type": "limit"}
    opened = {"type": "open", "time": t1, "product_id": "ETH-USD", "sequence": base + 2,
              "order_id": sell["id"], "price": "300.00000000", "remaining_size": "1.00000000",
              "side": "sell"}
    taken = {"type": "received", "time": t2, "product_id": "ETH-USD", "sequence": base + 3,
             "order_id": buy["id"], "size": "0.25000000", "price": "301.00000000",
             "side": "buy", "order_type": "limit"}
    match = {"type": "match", "trade_id": trade_id, "sequence": base + 4,
             "maker_order_id": sell["id"], "taker_order_id": buy["id"], "time": t2,
             "product_id": "ETH-USD", "size": "0.25000000", "price": "300.00000000",
             "side": "sell"}
    filled = {"type": "done", "time": t2, "product_id": "ETH-USD", "sequence": base + 5,
              "price": "301.00000000", "order_id": buy["id"], "reason": "filled",
              "side": "buy", "remaining_size": "0.00000000"}
    assert b.take(5, not_heartbeat) == [
        received, opened, bob_own(taken),
        {**match, "taker_user_id": BOB_USER, "user_id": BOB_USER,
         "taker_profile_id": BOB_PROFILE, "profile_id": BOB_PROFILE, "taker_fee_rate": "0.006"},
        bob_own(filled)]
    assert a.take(5, not_heartbeat) == [
        alice_own({**received, "client_oid": oid}), alice_own(opened), taken,
        {**match, "maker_user_id": ALICE_USER, "user_id": ALICE_USER,
         "maker_profile_id": ALICE_PROFILE, "profile_id": ALICE_PROFILE,
         "maker_fee_rate": "0.004"},
        filled]
    cancel(alice, sell["id"])
    done = b.until(not_heartbeat)
    assert done == {"type": "done", "time": done["time"], "product_id": "ETH-USD",
                    "sequence": base + 6, "price": "300.00000000", "order_id": sell["id"],
                    "reason": "canceled", "side": "sell", "remaining_size": "0.75000000"}
    assert ISO.match(done["time"])
    assert book(alice, "ETH-USD", 3)["sequence"] == base + 6


def test_self_trade_prevention_change_and_cancel_reason(alice: RawClient, a: Feed,
                                                        b: Feed) -> None:
    base = book(alice, "ETH-USD", 3)["sequence"]
    a.subscribe(["user"], ["ETH-USD"], creds=ALICE)
    b.subscribe(["full"], ["ETH-USD"], creds=BOB)
    sell = place(alice, product_id="ETH-USD", side="sell", price="310", size="1")
    buy = place(alice, product_id="ETH-USD", side="buy", price="310", size="0.4")  # stp dc
    t = buy["created_at"]
    change = {"type": "change", "reason": "STP", "time": t, "sequence": base + 4,
              "order_id": sell["id"], "side": "sell", "product_id": "ETH-USD",
              "old_size": "1.00000000", "new_size": "0.60000000", "price": "310.00000000"}
    done = {"type": "done", "time": t, "product_id": "ETH-USD", "sequence": base + 5,
            "price": "310.00000000", "order_id": buy["id"], "reason": "canceled",
            "side": "buy", "remaining_size": "0.40000000"}
    public = b.take(5, not_heartbeat)
    assert [m["sequence"] for m in public] == [base + 1, base + 2, base + 3, base + 4, base + 5]
    assert public[3:] == [change, done]
    own = a.take(5, not_heartbeat)
    assert own[3:] == [alice_own(change),
                       alice_own({**done, "cancel_reason": "102:Self Trade Prevention"})]
    cancel(alice, sell["id"])


def test_user_channel_carries_only_own_orders(alice: RawClient, bob: RawClient, a: Feed,
                                              b: Feed) -> None:
    trade_id = _last_trade_id(alice, "BTC-USD") + 1
    a.subscribe(["user"], ["BTC-USD"], creds=ALICE)
    b.subscribe(["user"], ["BTC-USD"], creds=BOB)
    theirs = place(bob, product_id="BTC-USD", side="buy", price="5000", size="0.5")
    mine = place(alice, product_id="BTC-USD", side="sell", price="4999", size="0.2")
    assert [m["type"] for m in b.take(2, not_heartbeat)] == ["received", "open"]
    own = a.take(3, not_heartbeat)
    assert [(m["type"], m.get("order_id", m.get("taker_order_id"))) for m in own] == [
        ("received", mine["id"]), ("match", mine["id"]), ("done", mine["id"])]
    assert own[1] == {
        "type": "match", "trade_id": trade_id, "sequence": own[0]["sequence"] + 1,
        "maker_order_id": theirs["id"], "taker_order_id": mine["id"],
        "time": mine["created_at"], "product_id": "BTC-USD", "size": "0.20000000",
        "price": "5000.00000000", "side": "buy", "taker_user_id": ALICE_USER,
        "user_id": ALICE_USER, "taker_profile_id": ALICE_PROFILE, "profile_id": ALICE_PROFILE,
        "taker_fee_rate": "0.006"}
    maker = b.until(not_heartbeat)
    assert {k: maker[k] for k in ("maker_user_id", "maker_profile_id", "maker_fee_rate")} == {
        "maker_user_id": BOB_USER, "maker_profile_id": BOB_PROFILE, "maker_fee_rate": "0.004"}
    assert "taker_fee_rate" not in maker  # ccxt tells maker from taker by this (compat §2.6)
    cancel(bob, theirs["id"])
    assert b.until(not_heartbeat)["type"] == "done"
    with pytest.raises(TimeoutError):
        a.until(not_heartbeat, timeout=0.5)


def test_stop_orders_are_private_and_take_no_sequence(alice: RawClient, a: Feed,
                                                      b: Feed) -> None:
    base = book(alice, "ETH-BTC", 3)["sequence"]
    a.subscribe(["user"], ["ETH-BTC"], creds=ALICE)
    b.subscribe(["full"], ["ETH-BTC"], creds=BOB)
    stop = place(alice, product_id="ETH-BTC", side="sell", price="0.05", size="2",
                 stop="loss", stop_price="0.051")
    cancel(alice, stop["id"])
    activate = a.until(not_heartbeat)
    seconds = activate["timestamp"]
    assert re.fullmatch(r"\d{10}\.\d{6}", seconds)
    assert activate == {"type": "activate", "product_id": "ETH-BTC", "timestamp": seconds,
                        "user_id": ALICE_USER, "profile_id": ALICE_PROFILE,
                        "order_id": stop["id"], "stop_type": "loss", "side": "sell",
                        "stop_price": "0.05100000", "size": "2.00000000", "private": True}
    done = a.until(not_heartbeat)
    assert done == {"type": "done", "time": done["time"], "product_id": "ETH-BTC",
                    "price": "0.05000000", "order_id": stop["id"], "reason": "canceled",
                    "side": "sell", "remaining_size": "2.00000000",
                    "user_id": ALICE_USER, "profile_id": ALICE_PROFILE}
    public = place(alice, product_id="ETH-BTC", side="buy", price="0.01", size="1")
    assert b.until(not_heartbeat)["sequence"] == base + 1  # nothing before it, no gap
    cancel(alice, public["id"])


def test_matches_starts_with_last_match_and_ticker_at_once(alice: RawClient, bob: RawClient,
                                                          a: Feed, b: Feed) -> None:
    maker = place(alice, product_id="BTC-USD", side="sell", price="7000", size="0.3")
    taker = place(bob, product_id="BTC-USD", side="buy", price="7000", size="0.1")
    trades = alice.get("/products/BTC-USD/trades").json()
    last = trades[0]
    stats = alice.get("/products/BTC-USD/stats").json()
    seq = book(alice, "BTC-USD", 3)["sequence"]
    reply = a.subscribe(["matches", "ticker"], ["BTC-USD"])
    assert reply["channels"] == [{"name": "matches", "product_ids": ["BTC-USD"]},
                                 {"name": "ticker", "product_ids": ["BTC-USD"]}]
    first = a.take(2, not_heartbeat)
    assert first[0] == {
        "type": "last_match", "trade_id": last["trade_id"], "sequence": seq - 1,
        "maker_order_id": maker["id"], "taker_order_id": taker["id"],
        "time": taker["created_at"], "product_id": "BTC-USD", "size": "0.10000000",
        "price": "7000.00000000", "side": "sell"}
    assert first[1] == {
        "type": "ticker", "sequence": seq, "product_id": "BTC-USD", "price": "7000",
        "open_24h": _trim(stats["open"]), "volume_24h": stats["volume"],
        "low_24h": _trim(stats["low"]), "high_24h": _trim(stats["high"]),
        "volume_30d": stats["volume_30day"], "best_bid": "0", "best_bid_size": "0",
        "best_ask": "7000", "best_ask_size": "0.20000000", "side": "buy",
        "time": taker["created_at"], "trade_id": last["trade_id"], "last_size": "0.10000000"}
    b.subscribe(["matches"], ["BTC-USD"])
    assert b.until(not_heartbeat)["type"] == "last_match"
    second = place(bob, product_id="BTC-USD", side="buy", price="7000", size="0.2")
    public = {"type": "match", "trade_id": last["trade_id"] + 1, "sequence": seq + 2,
              "maker_order_id": maker["id"], "taker_order_id": second["id"],
              "time": second["created_at"], "product_id": "BTC-USD", "size": "0.20000000",
              "price": "7000.00000000", "side": "sell"}
    assert b.until(not_heartbeat) == public
    got = a.take(2, not_heartbeat)
    assert got[0] == public
    assert {k: got[1][k] for k in ("type", "sequence", "price", "best_ask", "best_ask_size",
                                   "side", "trade_id", "last_size")} == {
        "type": "ticker", "sequence": seq + 2, "price": "7000", "best_ask": "0",
        "best_ask_size": "0", "side": "buy", "trade_id": last["trade_id"] + 1,
        "last_size": "0.20000000"}


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_heartbeat_reports_sequence_and_last_trade(alice: RawClient, a: Feed) -> None:
    a.subscribe(["heartbeat"], ["BTC-USD"])
    beat = a.until(of_type("heartbeat"), timeout=3)
    trades = alice.get("/products/BTC-USD/trades").json()
    assert beat == {"type": "heartbeat", "sequence": book(alice, "BTC-USD", 1)["sequence"],
                    "last_trade_id": trades[0]["trade_id"] if trades else 0,
                    "product_id": "BTC-USD", "time": beat["time"]}
    assert ISO.match(beat["time"])


def test_level2_snapshot_matches_rest_then_updates(alice: RawClient, bob: RawClient,
                                                   a: Feed) -> None:
    resting = [place(alice, product_id="ETH-BTC", side="buy", price=p, size=s)
               for p, s in (("0.02", "1"), ("0.02", "0.5"), ("0.019", "2"))]
    asks = [place(bob, product_id="ETH-BTC", side="sell", price="0.03", size="1.5")]
    rest = book(alice, "ETH-BTC", 2)
    a.subscribe(["level2"], ["ETH-BTC"], creds=ALICE)
    snapshot = a.until(not_heartbeat)
    assert snapshot == {"type": "snapshot", "product_id": "ETH-BTC",
                        "bids": [["0.02", "1.5"], ["0.019", "2"]], "asks": [["0.03", "1.5"]]}
    assert snapshot["bids"] == [row[:2] for row in rest["bids"]]
    assert snapshot["asks"] == [row[:2] for row in rest["asks"]]
    taker = place(bob, product_id="ETH-BTC", side="sell", price="0.02", size="1.2")
    cancel(alice, resting[2]["id"])
    got = a.take(2, not_heartbeat)
    assert got[0] == {"type": "l2update", "product_id": "ETH-BTC", "time": taker["created_at"],
                      "changes": [["buy", "0.02", "0.3"]]}
    assert got[1] == {"type": "l2update", "product_id": "ETH-BTC", "time": got[1]["time"],
                      "changes": [["buy", "0.019", "0"]]}
    assert ISO.match(got[1]["time"]) and got[1]["time"] > taker["created_at"]
    cancel(alice, resting[1]["id"])
    cancel(bob, asks[0]["id"])


def test_level2_batch_merges_changes(alice: RawClient, a: Feed) -> None:
    a.subscribe(["level2_batch"], ["ETH-USD"])
    assert a.until(not_heartbeat)["type"] == "snapshot"
    first = place(alice, product_id="ETH-USD", side="buy", price="50", size="1")
    second = place(alice, product_id="ETH-USD", side="buy", price="50", size="2")
    third = place(alice, product_id="ETH-USD", side="buy", price="49", size="1")
    updates = a.take(1, of_type("l2update"), timeout=2)
    changes: dict[tuple[str, str], str] = {}
    for update in updates:
        for side, price, size in update["changes"]:
            changes[(side, price)] = size
    while changes != {("buy", "50"): "3", ("buy", "49"): "1"}:  # may span two 50 ms batches
        for side, price, size in a.until(of_type("l2update"), timeout=2)["changes"]:
            changes[(side, price)] = size
    for order in (first, second, third):
        cancel(alice, order["id"])


def test_level3_schema_then_compact_arrays(alice: RawClient, a: Feed) -> None:
    base = book(alice, "ETH-USD", 3)["sequence"]
    a.subscribe(["level3"], ["ETH-USD"], creds=ALICE)
    assert a.until(not_heartbeat) == {"type": "level3", "schema": {
        "change": ["type", "product_id", "sequence", "order_id", "price", "size", "time"],
        "done": ["type", "product_id", "sequence", "order_id", "time"],
        "match": ["type", "product_id", "sequence", "maker_order_id", "taker_order_id",
                  "price", "size", "time"],
        "noop": ["type", "product_id", "sequence", "time"],
        "open": ["type", "product_id", "sequence", "order_id", "side", "price", "size",
                 "time"]}}
    order = place(alice, product_id="ETH-USD", side="buy", price="45.5", size="0.1")
    cancel(alice, order["id"])
    t = order["created_at"]
    got = a.take(3, lambda m: isinstance(m, list))
    assert got[:2] == [["noop", "ETH-USD", str(base + 1), t],
                       ["open", "ETH-USD", str(base + 2), order["id"], "buy", "45.5", "0.1", t]]
    assert got[2][:4] == ["done", "ETH-USD", str(base + 3), order["id"]]


def test_ticker_batch_sends_the_ticker_at_once(a: Feed, alice: RawClient,
                                              bob: RawClient) -> None:
    place(alice, product_id="BTC-USD", side="sell", price="4321", size="0.01")
    place(bob, product_id="BTC-USD", side="buy", price="4321", size="0.01")  # a trade to show
    last = alice.get("/products/BTC-USD/trades?limit=1").json()[0]
    a.subscribe(["ticker_batch"], ["BTC-USD"])
    ticker = a.until(not_heartbeat)
    assert (ticker["type"], ticker["trade_id"]) == ("ticker", last["trade_id"])
    assert ticker["price"] == last["price"].rstrip("0").rstrip(".")  # trimmed, as /book


def test_a_later_signed_subscribe_makes_the_connection_the_new_profiles(
        alice: RawClient, bob: RawClient, a: Feed) -> None:
    a.subscribe(["full"], ["BTC-USD"], creds=ALICE)
    a.subscribe(["full"], ["BTC-USD"], creds=BOB)  # from now on Bob's connection
    hers = place(alice, product_id="BTC-USD", side="buy", price="123", size="0.01")
    his = place(bob, product_id="BTC-USD", side="sell", price="98765", size="0.01")
    received = a.take(4, of_type("received", "open"))
    assert [(m["type"], m["order_id"], m.get("profile_id")) for m in received] == [
        ("received", hers["id"], None), ("open", hers["id"], None),
        ("received", his["id"], BOB_PROFILE), ("open", his["id"], BOB_PROFILE)]
    assert received[2]["user_id"] == BOB_USER and "user_id" not in received[0]
    cancel(alice, hers["id"])
    cancel(bob, his["id"])
    done = a.take(2, of_type("done"))
    assert [(m["order_id"], m.get("profile_id")) for m in done] == [
        (hers["id"], None), (his["id"], BOB_PROFILE)]
