"""Engine faults: a product in cancel-only, or the venue under maintenance, for a window on the
venue clock, seen as Coinbase shows it (REST flags, the ``status`` channel, the refusal texts),
each edge a journaled command at its own time."""

from __future__ import annotations

import ccxt
import pytest
from websockets.sync.client import connect

from sandex.testing import Venue, VenueError
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
