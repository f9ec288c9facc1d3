"""Limit orders: resting, crossing, price-time priority, holds, fees, purge (§4.1, §4.8, §4.10)."""

from __future__ import annotations

from sandex.core import Done, Matched, Opened, Received, Status, ledger_entries
from tests.support.venue_kit import Venue, amt, kinds, px, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", usd="100000", btc="10")
    v.profile("bob", usd="100000", btc="10")
    v.profile("carol", usd="100000", btc="10")
    return v


def test_a_limit_order_that_does_not_cross_rests_and_holds_price_size_and_fee():
    v = venue()
    order_id, events = v.buy("alice", "100.00", "2")
    assert kinds(events) == ["Received", "Opened"]
    received, opened = events
    assert isinstance(received, Received) and received.sequence == 1
    assert isinstance(opened, Opened) and opened.sequence == 2 and opened.remaining_size == px("2")
    # hold = price * size * (1 + max(maker, taker) rate) = 200 * 1.006
    assert v.balance("alice", "USD") == (amt("100000"), amt("201.2"))
    assert v.engine.orders[order_id].status is Status.OPEN


def test_a_sell_holds_its_size_in_base_currency():
    v = venue()
    v.sell("alice", "100.00", "1.5")
    assert v.balance("alice", "BTC") == (amt("10"), amt("1.5"))


def test_a_crossing_order_trades_at_the_makers_price_and_settles_both_sides_and_fees():
    v = venue()
    ask, _ = v.sell("alice", "100.00", "1")
    bid, events = v.buy("bob", "105.00", "1")
    assert kinds(events) == ["Received", "Matched", "Done", "Done"]
    match = next(e for e in events if isinstance(e, Matched))
    assert (match.price, match.size, match.side) == (px("100.00"), px("1"), "sell")
    assert (match.maker_order_id, match.taker_order_id, match.trade_id) == (ask, bid, 1)
    assert match.maker_fee == amt("0.4") and match.taker_fee == amt("0.6")
    # alice sold 1 BTC for 100 USD minus the 0.40 % maker fee
    assert v.balance("alice", "USD") == (amt("100099.6"), 0)
    assert v.balance("alice", "BTC") == (amt("9"), 0)
    # bob paid 100 plus the 0.60 % taker fee; his hold at 105 is fully released
    assert v.balance("bob", "USD") == (amt("99899.4"), 0)
    assert v.balance("bob", "BTC") == (amt("11"), 0)
    assert v.engine.fee_accounts["USD"].balance == amt("1.0")
    done = [e for e in events if isinstance(e, Done)]
    assert [(d.order_id, d.reason) for d in done] == [(ask, "filled"), (bid, "filled")]


def test_price_time_priority_best_price_first_and_self_trades_prevented():
    v = venue()
    alice_101, _ = v.sell("alice", "101.00", "1")
    bob_101, _ = v.sell("bob", "101.00", "1")
    carol_100, _ = v.sell("carol", "100.00", "1")
    _, events = v.buy("carol", "101.00", "2")
    # the best ask (100) is carol's own: dc cancels it (the smaller) and decrements her buy
    # to 1, which then fills against the oldest order at 101: alice's
    assert kinds(events) == ["Received", "Done", "Changed", "Matched", "Done", "Done"]
    matches = [e.maker_order_id for e in events if isinstance(e, Matched)]
    assert matches == [alice_101]
    assert v.engine.orders.get(carol_100) is None  # canceled by STP with no fills: purged
    assert v.engine.orders[bob_101].status is Status.OPEN


def test_oldest_order_at_a_price_fills_first():
    v = venue()
    a, _ = v.sell("alice", "100.00", "1")
    b, _ = v.sell("bob", "100.00", "1")
    _, events = v.buy("carol", "100.00", "1.5")
    matches = [(m.maker_order_id, m.size) for m in events if isinstance(m, Matched)]
    assert matches == [(a, px("1")), (b, px("0.5"))]
    assert v.engine.orders[b].remaining == px("0.5")
    assert v.engine.products["BTC-USD"].book.level2() == ([], [(px("100.00"), px("0.5"), 1)])


def test_partial_fill_rests_the_rest_and_keeps_the_hold_for_it():
    v = venue()
    v.sell("alice", "100.00", "0.4")
    bid, events = v.buy("bob", "100.00", "1")
    assert kinds(events) == ["Received", "Matched", "Done", "Opened"]
    order = v.engine.orders[bid]
    assert order.remaining == px("0.6") and order.filled_size == px("0.4")
    assert v.balance("bob", "USD")[1] == amt("60.36")  # 0.6 * 100 * 1.006


def test_limit_order_with_funds_buys_the_size_those_funds_pay_for():
    v = venue()
    order_id, events = v.buy("alice", "300.00", None, funds="1000")
    assert kinds(events) == ["Received", "Opened"]
    assert v.engine.orders[order_id].size == px("3.33333333")


def test_canceled_order_without_fills_is_purged_with_fills_stays_done():
    v = venue()
    unfilled, _ = v.buy("alice", "90.00", "1")
    assert kinds(v.cancel("alice", unfilled)) == ["Done"]
    assert unfilled not in v.engine.orders
    assert rejected(v.cancel("alice", unfilled)) == "order not found"

    partial, _ = v.buy("alice", "100.00", "1")
    v.sell("bob", "100.00", "0.25")
    events = v.cancel("alice", partial)
    assert isinstance(events[0], Done) and events[0].reason == "canceled"
    order = v.engine.orders[partial]
    assert (order.status, order.done_reason, order.filled_size) == ("done", "canceled", px("0.25"))
    assert rejected(v.cancel("alice", partial)) == "Order already done"
    assert v.balance("alice", "USD")[1] == 0


def test_filled_order_cannot_be_canceled():
    v = venue()
    ask, _ = v.sell("alice", "100.00", "1")
    v.buy("bob", "100.00", "1")
    assert rejected(v.cancel("alice", ask)) == "Order already done"


def test_cancel_by_client_oid_scoped_to_profile_and_product():
    v = venue()
    oid = "1c1d2b0e-5b46-4b7a-9a1b-0a3b4c5d6e7f"
    order_id, _ = v.buy("alice", "90.00", "1", client_oid=oid)
    assert rejected(v.cancel("bob", client_oid=oid)) == "order not found"
    assert rejected(v.cancel("bob", order_id)) == "order not found"
    assert rejected(v.cancel("alice", order_id, product_id="ETH-USD")) == "order not found"
    events = v.cancel("alice", client_oid=oid, product_id="BTC-USD")
    assert [e.order_id for e in events] == [order_id]
    assert rejected(v.cancel("alice", client_oid=oid)) == "order not found"


def test_cancel_all_cancels_open_orders_of_the_profile_only():
    v = venue()
    v.product("ETH-USD", min_market_funds="1")
    mine = [v.buy("alice", "90.00", "1")[0], v.sell("alice", "110.00", "1")[0],
            v.buy("alice", "10.00", "1", product_id="ETH-USD")[0]]
    theirs, _ = v.buy("bob", "90.00", "1")
    stop, _ = v.sell("alice", "80.00", "1", stop="loss", stop_price="85.00")
    events = v.cancel_all("alice", "BTC-USD")
    assert [e.order_id for e in events] == mine[:2]
    events = v.cancel_all("alice")
    assert [e.order_id for e in events] == mine[2:]
    assert v.engine.orders[theirs].status is Status.OPEN
    assert v.engine.orders[stop].status is Status.ACTIVE  # untriggered stops stay (§4.7)
    assert rejected(v.cancel_all("alice", "FOO-BAR")) == "ProductNotFound"


def test_ledger_entries_record_each_balance_movement_with_the_balance_after():
    v = venue()
    v.sell("alice", "100.00", "1")
    _, events = v.buy("bob", "100.00", "1")
    (trade,) = [e for e in events if isinstance(e, Matched)]
    entries = [(e.profile_id, e.currency, e.kind, e.amount, e.balance)
               for e in ledger_entries(trade, "BTC", "USD")]
    assert entries == [
        ("alice", "BTC", "match", -amt("1"), amt("9")),
        ("alice", "USD", "match", amt("100"), amt("100100")),
        ("alice", "USD", "fee", -amt("0.4"), amt("100099.6")),
        ("bob", "USD", "match", -amt("100"), amt("99900")),
        ("bob", "USD", "fee", -amt("0.6"), amt("99899.4")),
        ("bob", "BTC", "match", amt("1"), amt("11")),
    ]


def test_book_views_aggregate_levels_and_list_orders_in_priority():
    v = venue()
    a, _ = v.buy("alice", "99.00", "1")
    b, _ = v.buy("bob", "99.00", "2")
    c, _ = v.buy("carol", "98.00", "1")
    d, _ = v.sell("alice", "101.00", "0.5")
    book = v.engine.products["BTC-USD"].book
    assert book.level1() == ([(px("99"), px("3"), 2)], [(px("101"), px("0.5"), 1)])
    assert book.level2() == ([(px("99"), px("3"), 2), (px("98"), px("1"), 1)],
                             [(px("101"), px("0.5"), 1)])
    assert book.level3() == ([(px("99"), px("1"), a), (px("99"), px("2"), b),
                              (px("98"), px("1"), c)], [(px("101"), px("0.5"), d)])
    v.cancel("alice", a)
    assert book.level2()[0] == [(px("99"), px("2"), 1), (px("98"), px("1"), 1)]
