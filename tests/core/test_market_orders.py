"""Market orders: by size, by funds, both; holds and the fee reserved out of funds (§4.1, §4.8)."""

from __future__ import annotations

from sandex.core import Done, Matched
from tests.support.venue_kit import Venue, amt, kinds, px, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="5")
    v.profile("maker", usd="100000", btc="100")
    v.profile("taker", maker="0.0015", taker="0.0025", usd="1000", btc="10")
    v.sell("maker", "100.00", "0.05")
    v.sell("maker", "101.00", "1")
    v.buy("maker", "99.00", "1")
    v.buy("maker", "98.00", "1")
    return v


def matches(events):
    return [(m.price, m.size) for m in events if isinstance(m, Matched)]


def test_market_buy_with_funds_reserves_the_taker_fee_out_of_funds():
    v = venue()
    order_id, events = v.buy("taker", None, funds="10", type="market")
    order = v.engine.orders[order_id]
    # §4.1: funds = specified_funds / (1 + taker_fee_rate), truncated: 10 / 1.0025
    assert (order.specified_funds, order.funds) == (amt("10"), amt("9.97506234"))
    # 0.05 at 100 = 5.00, then 4.97506234 / 101 = 0.04925804 BTC at 101
    assert matches(events) == [(px("100"), px("0.05")), (px("101"), px("0.04925804"))]
    assert kinds(events)[-1] == "Done" and events[-1].reason == "filled"
    assert events[-1].price is None and events[-1].remaining_size is None
    spent = amt("5") + amt("4.97506204")
    fees = spent * 25 // 10_000
    assert order.executed_value == spent and order.fill_fees == fees
    assert v.balance("taker", "USD") == (amt("1000") - spent - fees, 0)
    assert spent + fees <= amt("10")


def test_market_buy_by_size_walks_the_book_and_releases_the_whole_balance_hold():
    v = venue()
    order_id, events = v.buy("taker", None, "0.5", type="market")
    assert matches(events) == [(px("100"), px("0.05")), (px("101"), px("0.45"))]
    cost = amt("5") + amt("45.45")
    assert v.balance("taker", "USD") == (amt("1000") - cost - cost * 25 // 10_000, 0)
    assert v.engine.orders[order_id].done_reason == "filled"


def test_market_buy_by_size_stops_when_the_balance_runs_out():
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("maker", btc="10")
    v.profile("taker", taker="0", maker="0", usd="150")
    v.sell("maker", "100.00", "1")
    v.sell("maker", "200.00", "1")
    _, events = v.buy("taker", None, "2", type="market")
    assert matches(events) == [(px("100"), px("1")), (px("200"), px("0.25"))]
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "canceled"
    assert done.cancel_reason == "105:Insufficient Funds"
    assert v.balance("taker", "USD") == (0, 0)


def test_market_sell_by_size_and_by_funds():
    v = venue()
    _, events = v.sell("taker", None, "1.5", type="market")
    assert matches(events) == [(px("99"), px("1")), (px("98"), px("0.5"))]
    _, events = v.sell("taker", None, None, funds="49", type="market")
    assert matches(events) == [(px("98"), px("0.5"))]  # 49 / 98 = 0.5 exactly
    assert v.balance("taker", "BTC") == (amt("8"), 0)


def test_market_order_on_an_empty_side_is_canceled_and_purged():
    v = Venue()
    v.product("BTC-USD")
    v.profile("taker", usd="100")
    order_id, events = v.buy("taker", None, funds="10", type="market")
    assert kinds(events) == ["Received", "Done"]
    assert events[1].cancel_reason == "106:Insufficient Liquidity"
    assert order_id not in v.engine.orders
    assert v.balance("taker", "USD") == (amt("100"), 0)


def test_market_order_rejects():
    v = venue()
    assert rejected(v.buy("taker", None, funds="4.99", type="market")[1]) == (
        "funds is too small. Minimum size is 5.00000000")
    assert rejected(v.buy("taker", None, funds="10.001", type="market")[1]) == (
        "funds is too accurate. Smallest unit is 0.01000000")
    assert rejected(v.buy("taker", None, funds="5000", type="market")[1]) == "Insufficient funds"
    assert rejected(v.sell("taker", None, "11", type="market")[1]) == "Insufficient funds"
    assert rejected(v.buy("taker", None, None, type="market")[1]) == (
        "One of size or funds is required. Only one may be specified")


def test_market_buy_with_size_and_funds_stops_at_whichever_comes_first():
    v = venue()
    _, events = v.buy("taker", None, "0.02", funds="100", type="market")
    assert matches(events) == [(px("100"), px("0.02"))]
    _, events = v.buy("taker", None, "5", funds="6", type="market")
    # funds 6 / 1.0025 = 5.98503740: 0.03 left at 100, then 2.98503740 / 101 at 101
    assert matches(events) == [(px("100"), px("0.03")), (px("101"), px("0.02955482"))]
