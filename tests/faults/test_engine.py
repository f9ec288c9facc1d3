"""Engine faults: a product in cancel-only, the venue under maintenance, or matching halted, for
a window on the venue clock, seen as Coinbase shows it (REST flags and ``status_message``, the
``status`` channel, the refusal texts, ``pending`` orders), each edge a journaled command at
its own time."""

from __future__ import annotations

import json
import subprocess
import sys

import cbpro
import ccxt
import pytest
from websockets.sync.client import connect

from sandex.testing import LocalServer, Venue, VenueError
from tests.support.feed_kit import Feed

CANCEL_ONLY = {"id": "btc-maintenance", "layer": "engine", "match": {"product": "BTC-USD"},
               "when": {"from": "+10s", "for": "30s"},
               "action": {"kind": "product_status", "status": "cancel_only"}}


def flags(venue: Venue, product_id: str) -> tuple[bool, bool]:
    product = venue.ccxt().publicGetProductsId({"id": product_id})
    return product["cancel_only"], product["trading_disabled"]


def test_a_cancel_only_window_refuses_orders_and_takes_cancels(venue: Venue) -> None:
    venue.clock.freeze()
    exchange = venue.ccxt()
    resting = exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
    venue.faults.add(CANCEL_ONLY)
    with connect(venue.ws_url, open_timeout=5) as ws:
        feed = Feed(ws)
        assert feed.subscribe(["status"])["type"] == "subscriptions"
        feed.until(lambda m: m["type"] == "status")  # the first, as subscribed
        assert venue.clock.advance("15s")["fired"]["windows"] == 1
        status = feed.until(lambda m: m["type"] == "status" and any(
            p["id"] == "BTC-USD" and p["cancel_only"] for p in m["products"]))
    eth = next(p for p in status["products"] if p["id"] == "ETH-USD")
    assert eth["cancel_only"] is False
    assert flags(venue, "BTC-USD") == (True, False)
    with pytest.raises(ccxt.BaseError, match="Cancel only mode"):
        exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
    exchange.cancel_order(resting["id"], "BTC/USD")  # cancels go through
    exchange.create_order("ETH/USD", "limit", "buy", 0.1, 1000)  # other products trade
    venue.clock.advance("30s")
    assert flags(venue, "BTC-USD") == (False, False)
    exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
    edges = [(e["rule"], e["edge"], e["time"][:19]) for e in venue.faults.log()]
    start = venue.snapshots()[0]["time"][:10]
    assert [(rule, edge) for rule, edge, _ in edges] == [("btc-maintenance", "start"),
                                                        ("btc-maintenance", "end")]
    assert all(time.startswith(start) for _, _, time in edges)


def test_clearing_a_window_puts_the_product_back_at_once(venue: Venue) -> None:
    venue.clock.freeze()
    venue.faults.add({**CANCEL_ONLY, "when": {"for": "1h"}})
    venue.clock.advance("1s")
    assert flags(venue, "BTC-USD") == (True, False)
    before = venue.state()["position"]
    assert venue.faults.clear("btc-maintenance") == ["btc-maintenance"]
    assert flags(venue, "BTC-USD") == (False, False)
    assert venue.state()["position"] == before + 1  # the way back is journaled too
    venue.clock.advance("2h")
    assert flags(venue, "BTC-USD") == (False, False)


def test_the_maintenance_window_preset(venue: Venue) -> None:
    venue.clock.freeze()
    venue.faults.preset("maintenance-window")
    venue.clock.advance("30s")
    assert flags(venue, "ETH-USD") == (True, False)
    venue.clock.advance("1m")
    assert flags(venue, "ETH-USD") == (False, True)
    with pytest.raises(ccxt.BaseError, match="Product is under maintenance"):
        venue.ccxt().create_order("ETH/USD", "limit", "buy", 0.1, 1000)
    venue.clock.advance("5m")
    assert flags(venue, "ETH-USD") == (False, False)
    assert venue.faults.log()[-1]["edge"] == "end"


@pytest.mark.parametrize(("rule", "message"), [
    ({"layer": "engine", "action": {"kind": "engine_offline"}}, "an engine fault is a window"),
    ({"layer": "engine", "when": {"for": "1m", "nth": [1]},
      "action": {"kind": "engine_offline"}}, "an engine fault is a window"),
    ({"layer": "engine", "when": {"for": "1m", "every": 2}, "action": {"kind": "halt_matching"}},
     "an engine fault is a window"),
    ({"layer": "engine", "match": {"product": "BTC-USD"}, "when": {"for": "-1m"},
      "action": {"kind": "halt_matching"}}, "when.for: '-1m' is not a duration"),
    ({"layer": "engine", "when": {"for": "1m"},
      "action": {"kind": "product_status", "status": "online"}}, "status must be one of"),
    ({"layer": "engine", "match": {"path": "/orders"}, "when": {"for": "1m"},
      "action": {"kind": "engine_offline"}}, "unknown field(s) path"),
])
def test_bad_engine_rules_are_refused(venue: Venue, rule: dict[str, object],
                                      message: str) -> None:
    venue.clock.freeze()
    before = venue.state()
    with pytest.raises(VenueError) as refused:
        venue.faults.add(rule)
    assert refused.value.status == 400 and message in refused.value.message
    assert venue.faults.list() == [] and venue.state() == before


def test_replacing_a_rule_keeps_its_place_and_a_window_moves(venue: Venue) -> None:
    venue.clock.freeze()
    venue.faults.add({"id": "first", "layer": "rest", "match": {"path": "/time"},
                      "action": {"kind": "status", "status": 503}})
    venue.faults.add({"id": "second", "layer": "rest", "action": {"kind": "delay", "ms": 1}})
    venue.faults.add({**CANCEL_ONLY, "when": {"for": "1h"}})
    venue.clock.advance("1s")
    assert flags(venue, "BTC-USD") == (True, False)
    replaced = venue.faults.replace({"id": "first", "layer": "rest", "match": {"path": "/nope"},
                                     "action": {"kind": "status", "status": 500}})
    assert (replaced["action"]["status"], replaced["matched"]) == (500, 0)
    assert [r["id"] for r in venue.faults.list()] == ["first", "second", "btc-maintenance"]
    venue.faults.replace({**CANCEL_ONLY, "when": {"from": "+1m", "for": "1m"},
                          "action": {"kind": "product_status", "status": "post_only"}})
    assert flags(venue, "BTC-USD") == (False, False)  # the old window ended at once
    venue.clock.advance("90s")
    assert venue.ccxt().publicGetProductsId({"id": "BTC-USD"})["post_only"] is True
    with pytest.raises(VenueError, match="no fault rule has id 'nope'"):
        venue.faults.replace({"id": "nope", "layer": "rest", "action": {"kind": "reset"}})


HALT = {"id": "btc-halt", "layer": "engine", "match": {"product": "BTC-USD"},
        "when": {"from": "+10s", "for": "30s"}, "action": {"kind": "halt_matching"}}
HALTED = "Matching is halted: orders are accepted pending and matched on resume"
ORDER_MESSAGES = ("received", "open", "done", "match", "change")


def cbpro_client(venue: Venue) -> cbpro.AuthenticatedClient:
    creds = venue.credentials
    return cbpro.AuthenticatedClient(creds.key, creds.secret, creds.passphrase,
                                     api_url=venue.rest_url)


def product_status(venue: Venue) -> tuple[str, str, bool, bool]:
    p = venue.ccxt().publicGetProductsId({"id": "BTC-USD"})
    return p["status"], p["status_message"], p["auction_mode"], p["cancel_only"]


def order_messages(feed: Feed, count: int) -> list[tuple[str, str, str | None]]:
    """The next ``count`` order messages of the full channel: (type, order id, reason);
    a match is (match, maker id, taker id)."""
    out = []
    for m in feed.take(count, lambda m: m["type"] in ORDER_MESSAGES):
        if m["type"] == "match":
            out.append(("match", m["maker_order_id"], m["taker_order_id"]))
        else:
            out.append((m["type"], m["order_id"], m.get("reason")))
    return out


def test_a_halt_matching_window_takes_orders_pending_and_matches_them_on_resume(
        venue: Venue) -> None:
    venue.clock.freeze()
    trader, counterparty = venue.ccxt(), venue.ccxt(venue.counterparty)
    cb = cbpro_client(venue)
    ask = counterparty.create_order("BTC/USD", "limit", "sell", 0.01, 50000)
    venue.faults.add(HALT)
    with connect(venue.ws_url, open_timeout=5) as ws:
        feed = Feed(ws)
        creds = venue.credentials  # full needs a signed subscribe
        assert feed.subscribe(["full", "status"], ["BTC-USD"],
                              (creds.key, creds.secret, creds.passphrase))["type"] == (
            "subscriptions")
        feed.until(lambda m: m["type"] == "status")  # the first, as subscribed
        assert venue.clock.advance("15s")["fired"]["windows"] == 1
        status = feed.until(lambda m: m["type"] == "status" and any(
            p["id"] == "BTC-USD" and p["status_message"] for p in m["products"]))
        btc = next(p for p in status["products"] if p["id"] == "BTC-USD")
        assert (btc["status"], btc["status_message"], btc["cancel_only"]) == (
            "online", HALTED, False)
        assert product_status(venue) == ("online", HALTED, False, False)

        first = trader.create_order("BTC/USD", "limit", "buy", 0.01, 50100)  # crosses the ask
        assert first["info"]["status"] == "pending"
        second = cb.place_limit_order("BTC-USD", "buy", price="50200", size="0.01")
        assert second["status"] == "pending"
        third = cb.place_limit_order("BTC-USD", "buy", price="49000", size="0.02")
        assert third["status"] == "pending"
        doomed = trader.create_order("BTC/USD", "limit", "buy", 0.03, 50300)
        assert trader.cancel_order(doomed["id"], "BTC/USD")["info"] == f'"{doomed["id"]}"'
        assert order_messages(feed, 5) == [
            ("received", first["id"], None), ("received", second["id"], None),
            ("received", third["id"], None), ("received", doomed["id"], None),
            ("done", doomed["id"], "canceled")]

        assert trader.fetch_my_trades("BTC/USD") == []  # nothing traded, crossing or not
        book = venue.book("BTC-USD", 3)
        assert (book["bids"], book["asks"]) == ([], [["50000", "0.01", ask["id"]]])
        assert cb.get_order(first["id"])["status"] == "pending"
        listed = {o["id"]: o["status"] for o in cb.get_orders(product_id="BTC-USD",
                                                               status="pending")}
        assert listed == {first["id"]: "pending", second["id"]: "pending",
                          third["id"]: "pending"}
        assert len(list(cb.get_orders(product_id="BTC-USD"))) == 3  # open, pending, active
        usd = next(a for a in cb.get_accounts() if a["currency"] == "USD")
        assert usd["hold"] == "1994.8980000000000000"  # 504.006 + 505.012 + 985.88

        assert venue.clock.advance("30s")["fired"]["windows"] == 1
        assert order_messages(feed, 5) == [
            ("match", ask["id"], first["id"]), ("done", ask["id"], "filled"),
            ("done", first["id"], "filled"), ("open", second["id"], None),
            ("open", third["id"], None)]
    assert product_status(venue) == ("online", "", False, False)
    trades = trader.fetch_my_trades("BTC/USD")
    assert [(t["order"], t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [
        (first["id"], 50000.0, 0.01, "taker")]
    assert cb.get_order(first["id"])["status"] == "done"
    assert [cb.get_order(o["id"])["status"] for o in (second, third)] == ["open", "open"]
    book = venue.book("BTC-USD", 2)
    assert (book["bids"], book["asks"]) == ([["50200", "0.01", 1], ["49000", "0.02", 1]], [])
    assert [(e["rule"], e["edge"]) for e in venue.faults.log()] == [
        ("btc-halt", "start"), ("btc-halt", "end")]


def test_clearing_a_halt_resumes_matching_at_once(venue: Venue) -> None:
    venue.clock.freeze()
    trader, counterparty = venue.ccxt(), venue.ccxt(venue.counterparty)
    counterparty.create_order("BTC/USD", "limit", "sell", 0.02, 50000)
    venue.faults.add({**HALT, "when": {"for": "1h"}})
    venue.clock.advance("1s")
    body = {"product_id": "BTC-USD", "side": "buy", "price": "50000", "size": "0.02"}
    assert venue.explain(body)["detail"] == {
        "liquidity": "none yet: queued until matching resumes", "fills": [], "rests": None,
        "hold": {"currency": "USD", "amount": "1006"}, "status": "pending"}
    order = trader.create_order("BTC/USD", "limit", "buy", 0.02, 50000)
    assert trader.fetch_order(order["id"])["info"]["status"] == "pending"
    before = venue.state()["position"]
    assert venue.faults.clear("btc-halt") == ["btc-halt"]
    assert venue.state()["position"] == before + 1  # the resume is journaled
    assert trader.fetch_order(order["id"])["info"]["status"] == "done"
    assert product_status(venue) == ("online", "", False, False)


def test_the_cli_door_and_reset_end_a_halt(venue: Venue, local: LocalServer) -> None:
    venue.clock.freeze()
    done = subprocess.run([sys.executable, "-m", "sandex.cli", "fault", "add", json.dumps(HALT),
                           "--url", local.url, "--token", local.admin_token],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == {"kind": "halt_matching"}
    venue.clock.advance("11s")
    assert product_status(venue)[1] == HALTED
    pending = venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1000)
    assert pending["info"]["status"] == "pending"
    venue.reset()  # the baseline again: matching runs, the rule is gone, the order too
    assert product_status(venue) == ("online", "", False, False)
    assert venue.faults.list() == []
    placed = venue.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1000)
    assert venue.ccxt().fetch_order(placed["id"])["info"]["status"] == "open"


def test_a_restore_inside_a_halt_queues_again_and_replays_to_the_same_state(
        venue: Venue) -> None:
    venue.clock.freeze()
    trader, counterparty = venue.ccxt(), venue.ccxt(venue.counterparty)
    counterparty.create_order("BTC/USD", "limit", "sell", 0.01, 50000)
    venue.faults.add(HALT)
    venue.clock.advance("15s")
    order = trader.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
    venue.snapshot("inside")
    venue.clock.advance("30s")  # the end edge: matched
    assert trader.fetch_order(order["id"])["info"]["status"] == "done"
    after = venue.state_hash()
    venue.restore("inside")  # the clock back inside the window: halted, the order queued
    assert trader.fetch_order(order["id"])["info"]["status"] == "pending"
    assert product_status(venue)[1] == HALTED
    assert venue.clock.advance("30s")["fired"]["windows"] == 1  # its end is due again
    assert trader.fetch_order(order["id"])["info"]["status"] == "done"
    assert venue.state_hash() == after  # the same commands at the same times: the same state
