"""Time in force (GTC, GTT, IOC, FOK), post-only, and stop orders (§4.1, §4.3)."""

from __future__ import annotations

from sandex.core import Activated, Done, Matched, Received, Status
from tests.support.venue_kit import Venue, amt, kinds, px, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", usd="100000", btc="10")
    v.profile("bob", usd="100000", btc="10")
    return v


def test_ioc_fills_what_it_can_and_cancels_the_rest():
    v = venue()
    v.sell("alice", "100.00", "0.3")
    order_id, events = v.buy("bob", "100.00", "1", time_in_force="IOC")
    assert kinds(events) == ["Received", "Matched", "Done", "Done"]
    assert (events[-1].reason, events[-1].cancel_reason) == ("canceled", "101:Time In Force")
    assert v.engine.orders[order_id].filled_size == px("0.3")
    assert v.balance("bob", "USD")[1] == 0


def test_fok_fills_entirely_or_not_at_all():
    v = venue()
    v.sell("alice", "100.00", "0.3")
    v.sell("alice", "101.00", "0.3")
    killed, events = v.buy("bob", "101.00", "1", time_in_force="FOK")
    assert kinds(events) == ["Received", "Done"]
    assert events[1].cancel_reason == "101:Time In Force"
    assert killed not in v.engine.orders
    filled, events = v.buy("bob", "101.00", "0.6", time_in_force="FOK")
    assert kinds(events) == ["Received", "Matched", "Done", "Matched", "Done", "Done"]
    assert v.engine.orders[filled].status is Status.DONE


def test_fok_counts_own_orders_as_liquidity_then_stp_applies():
    v = venue()
    v.sell("bob", "100.00", "1")
    _, events = v.buy("bob", "100.00", "1", time_in_force="FOK")
    # fillable counting the self order (§4.1), so it is not killed; dc then cancels both
    assert kinds(events) == ["Received", "Done", "Done"]
    assert all(e.cancel_reason == "102:Self Trade Prevention" for e in events[1:])


def test_gtt_expires_when_the_clock_passes_its_expire_time():
    v = venue()
    order_id, _ = v.buy("alice", "90.00", "1", time_in_force="GTT", cancel_after="min")
    order = v.engine.orders[order_id]
    assert order.expire_time == order.created_at + 60_000_000
    assert kinds(v.advance(59)) == ["ClockAdvanced"]
    events = v.advance(2)
    assert kinds(events) == ["ClockAdvanced", "Done"]
    assert events[1].cancel_reason == "101:Time In Force"
    assert order_id not in v.engine.orders
    assert v.balance("alice", "USD") == (amt("100000"), 0)


def test_gtt_and_cancel_after_rules():
    v = venue()
    assert rejected(v.buy("alice", "90.00", "1", time_in_force="GTT")[1]) == (
        "time_in_force GTT requires cancel_after")
    assert rejected(v.buy("alice", "90.00", "1", cancel_after="day")[1]) == (
        "cancel_after requires time_in_force GTT")


def test_an_absolute_expire_time_expires_the_gtt_order_then_and_not_before():
    """FIX's GTD: ``time_in_force=GTT`` with ``expire_time`` (microseconds) in place of
    ``cancel_after``; the order rests until the clock reaches that time."""
    v = venue()
    at = v.time + 1 + 90_500_000  # 90.5 s after the order's time
    order_id, events = v.buy("alice", "90.00", "1", time_in_force="GTT", expire_time=at)
    assert kinds(events) == ["Received", "Opened"]
    assert v.engine.orders[order_id].expire_time == at
    assert v.engine.next_expiry() == at
    assert kinds(v.advance(90)) == ["ClockAdvanced"]
    events = v.advance(1)
    assert kinds(events) == ["ClockAdvanced", "Done"]
    assert events[1].cancel_reason == "101:Time In Force"
    assert v.balance("alice", "USD") == (amt("100000"), 0)


def test_expire_time_rules():
    v = venue()
    day = 86_400_000_000
    gtt = {"time_in_force": "GTT"}
    cases = [  # (the fields, expire_time after the order's own time, the reject)
        ({}, day, "expire_time requires time_in_force GTT"),
        ({**gtt, "cancel_after": "min"}, day, "cancel_after and expire_time cannot both be set"),
        (gtt, 0, "expire_time must be in the future"),
        (gtt, -1, "expire_time must be in the future"),
        (gtt, 90 * day + 1, "expire_time must be at most 90 days ahead"),
    ]
    for fields, ahead, text in cases:
        now = v.time + 1  # the order's time
        assert rejected(v.buy("alice", "90.00", "1", expire_time=now + ahead, **fields)[1]) \
            == text
    _, events = v.buy("alice", "90.00", "1", expire_time=v.time + 1 + 90 * day, **gtt)
    assert kinds(events) == ["Received", "Opened"]  # exactly 90 days ahead: accepted


def test_post_only_rests_or_is_rejected_when_it_would_take():
    v = venue()
    v.sell("alice", "100.00", "1")
    assert rejected(v.buy("bob", "100.00", "1", post_only=True)[1]) == "Post only mode"
    assert v.balance("bob", "USD") == (amt("100000"), 0)
    _, events = v.buy("bob", "99.99", "1", post_only=True)
    assert kinds(events) == ["Received", "Opened"]
    assert rejected(v.buy("bob", "99.00", "1", post_only=True, time_in_force="IOC")[1]) == (
        "post_only is invalid with time_in_force IOC or FOK")


def test_stop_loss_waits_active_then_triggers_on_the_last_trade_price():
    v = venue()
    v.profile("carol", usd="1000")
    bid_95, _ = v.buy("alice", "95.00", "1")
    stop_id, events = v.sell("bob", "94.00", "1", stop="loss", stop_price="96.00")
    assert kinds(events) == ["Activated"]
    assert isinstance(events[0], Activated) and events[0].stop_type == "loss"
    assert v.engine.orders[stop_id].status is Status.ACTIVE
    assert v.balance("bob", "BTC")[1] == amt("1")  # a stop holds like the order it becomes
    v.buy("carol", "97.00", "0.1")
    v.sell("alice", "97.00", "0.1")  # trade at 97: above the stop, nothing happens
    assert v.engine.orders[stop_id].status is Status.ACTIVE
    v.buy("carol", "96.00", "0.1")
    _, events = v.sell("alice", "96.00", "0.1")  # trade at 96 <= 96: the stop fires
    assert kinds(events) == ["Received", "Matched", "Done", "Done",
                             "Received", "Matched", "Done", "Done"]
    assert events[0].sequence + 1 == events[1].sequence  # one gapless sequence per product
    triggered = [e for e in events if isinstance(e, Received)][1]
    assert triggered.order_id == stop_id
    fills = [e for e in events if isinstance(e, Matched) and e.taker_order_id == stop_id]
    assert [(m.maker_order_id, m.price, m.size) for m in fills] == [(bid_95, px("95.00"), px("1"))]


def test_stop_entry_buy_triggers_when_price_rises_to_it():
    v = venue()
    v.sell("alice", "105.00", "2")
    stop_id, _ = v.buy("bob", "110.00", "1", stop="entry", stop_price="104.00")
    assert v.balance("bob", "USD")[1] == amt("110") * 1006 // 1000
    v.sell("alice", "104.00", "0.1")
    _, events = v.buy("alice", "104.00", "0.1")  # alice's own ask: STP, no trade
    assert v.engine.orders[stop_id].status is Status.ACTIVE
    v.sell("alice", "104.00", "0.1")
    _, events = v.buy("bob", "104.00", "0.1")  # trade at 104 triggers the entry stop
    fills = [e for e in events if isinstance(e, Matched) and e.taker_order_id == stop_id]
    assert [(m.price, m.size) for m in fills] == [(px("105.00"), px("1"))]
    assert v.engine.orders[stop_id].status is Status.DONE


def test_canceling_an_active_stop_is_private_and_purges_it():
    v = venue()
    stop_id, _ = v.sell("bob", "94.00", "1", stop="loss", stop_price="96.00")
    events = v.cancel("bob", stop_id)
    assert isinstance(events[0], Done) and events[0].sequence is None
    assert stop_id not in v.engine.orders
    assert v.balance("bob", "BTC") == (amt("10"), 0)


def test_stop_market_order_triggers_as_market():
    v = venue()
    v.buy("alice", "90.00", "5")
    stop_id, _ = v.sell("bob", None, "1", type="market", stop="loss", stop_price="91.00")
    v.profile("carol", btc="1")
    v.sell("carol", "90.00", "0.1")  # prints 90 -> triggers
    order = v.engine.orders[stop_id]
    assert order.status is Status.DONE and order.filled_size == px("1")
    assert order.executed_value == amt("90")


def test_stop_price_must_fit_the_quote_increment():
    v = venue()
    assert rejected(v.sell("bob", "94.00", "1", stop="loss", stop_price="96.001")[1]) == (
        "stop_price is too accurate. Smallest unit is 0.01000000")


def test_a_sweep_through_the_stop_price_triggers_it():
    """Each print is the last trade price for a moment (§4.1): a taker that prints 100 then
    105 passes a loss stop at 102 although its last print is above it."""
    v = venue()
    v.profile("carol", usd="100000", btc="10")
    v.sell("alice", "100.00", "0.5")
    v.sell("alice", "105.00", "0.5")
    v.buy("carol", "90.00", "1")  # where the triggered stop will sell
    stop_id, _ = v.sell("bob", "80.00", "1", stop="loss", stop_price="102.00")
    _, events = v.buy("carol", "105.00", "1")  # prints 100 then 105
    assert [m.price for m in events if isinstance(m, Matched)][:2] == [px("100"), px("105")]
    assert v.engine.orders[stop_id].status is Status.DONE
    fills = [e for e in events if isinstance(e, Matched) and e.taker_order_id == stop_id]
    assert [(m.price, m.size) for m in fills] == [(px("90.00"), px("1"))]


def test_stops_placed_later_ignore_earlier_prints():
    v = venue()
    v.profile("carol", usd="100000", btc="10")
    v.sell("alice", "100.00", "0.5")
    v.buy("carol", "100.00", "0.5")  # prints 100, no stop exists yet
    stop_id, _ = v.sell("bob", "80.00", "1", stop="loss", stop_price="102.00")
    v.sell("alice", "110.00", "0.5")
    v.buy("carol", "110.00", "0.5")  # prints 110: above the stop
    assert v.engine.orders[stop_id].status is Status.ACTIVE
