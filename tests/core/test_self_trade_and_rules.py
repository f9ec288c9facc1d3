"""Self-trade prevention (§4.9), product trading modes (§6.2), every order reject (§3.3)."""

from __future__ import annotations

import pytest

from sandex.core import Changed, Done, Matched, ProductStatus, SetProductStatus, Status, state_hash
from sandex.core.limits import open_orders_per_product_max
from tests.support.venue_kit import Venue, amt, kinds, px, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="10")
    v.profile("alice", usd="1000000", btc="1000")
    v.profile("bob", usd="1000000", btc="1000")
    return v


STP = "102:Self Trade Prevention"


def test_dc_taker_larger_cancels_the_resting_order_and_decrements_the_taker():
    v = venue()
    resting, _ = v.sell("alice", "100.00", "1")
    v.sell("bob", "100.00", "5")
    taker, events = v.buy("alice", "100.00", "3")
    assert kinds(events) == ["Received", "Done", "Changed", "Matched", "Done"]
    assert (events[1].order_id, events[1].cancel_reason) == (resting, STP)
    change = events[2]
    assert isinstance(change, Changed) and change.order_id == taker and change.reason == "STP"
    assert (change.old_size, change.new_size) == (px("3"), px("2"))
    assert [m.size for m in events if isinstance(m, Matched)] == [px("2")]


def test_dc_resting_larger_is_decremented_and_the_taker_canceled():
    v = venue()
    resting, _ = v.sell("alice", "100.00", "5")
    taker, events = v.buy("alice", "100.00", "2")
    assert kinds(events) == ["Received", "Changed", "Done"]
    assert (events[1].order_id, events[1].old_size, events[1].new_size) == (resting, px("5"),
                                                                            px("3"))
    assert (events[2].order_id, events[2].cancel_reason) == (taker, STP)
    assert v.engine.orders[resting].remaining == px("3")
    assert v.balance("alice", "BTC")[1] == amt("3")
    assert v.engine.products["BTC-USD"].book.level2()[1] == [(px("100"), px("3"), 1)]


def test_dc_equal_sizes_cancel_both():
    v = venue()
    resting, _ = v.sell("alice", "100.00", "2")
    taker, events = v.buy("alice", "100.00", "2")
    assert [(e.order_id, e.cancel_reason) for e in events if isinstance(e, Done)] == [
        (resting, STP), (taker, STP)]
    assert v.balance("alice", "USD") == (amt("1000000"), 0)


@pytest.mark.parametrize(("stp", "resting_survives", "taker_trades"), [
    ("co", False, True), ("cn", True, False), ("cb", False, False)])
def test_co_cn_cb(stp, resting_survives, taker_trades):
    v = venue()
    resting, _ = v.sell("alice", "100.00", "1")
    v.sell("bob", "100.00", "1")
    _, events = v.buy("alice", "100.00", "1", stp=stp)
    assert (resting in v.engine.orders) is resting_survives
    assert any(isinstance(e, Matched) for e in events) is taker_trades


def test_the_takers_flag_wins():
    v = venue()
    resting, _ = v.sell("alice", "100.00", "1", stp="cn")
    v.buy("alice", "100.00", "1", stp="co")
    assert resting not in v.engine.orders  # co: the resting order went, not the taker


def test_dc_market_funds_order_decrements_funds():
    v = venue()
    v.sell("alice", "100.00", "1")  # 100 of value
    v.sell("bob", "101.00", "10")
    taker, events = v.buy("alice", None, funds="500", type="market", stp="dc")
    change = next(e for e in events if isinstance(e, Changed))
    assert change.order_id == taker and change.price is None
    assert change.new_funds == change.old_funds - amt("100")
    assert v.engine.orders[taker].executed_value <= change.new_funds


def test_product_modes():
    v = venue()
    v.sell("bob", "100.00", "1")
    for status, market, limit_cross, limit_rest in [
        ("cancel_only", "Cancel only mode", "Cancel only mode", "Cancel only mode"),
        ("limit_only", "Limit only mode", None, None),
        ("post_only", "Post only mode", "Post only mode", None),
        ("disabled", "Product is under maintenance", "Product is under maintenance",
         "Product is under maintenance"),
    ]:
        v.apply(SetProductStatus(time=v.stamp(), product_id="BTC-USD",
                                 status=ProductStatus(status)))
        assert rejected(v.buy("alice", None, funds="20", type="market")[1]) == market
        assert rejected(v.buy("alice", "100.00", "0.1", time_in_force="IOC")[1]) == limit_cross
        _, events = v.buy("alice", "50.00", "1")
        assert rejected(events) == limit_rest
        if limit_rest is None:
            v.cancel("alice", events[0].order_id)
    v.apply(SetProductStatus(time=v.stamp(), product_id="BTC-USD",
                             status=ProductStatus.CANCEL_ONLY))
    order = next(iter(v.engine.profiles["bob"].live))
    assert kinds(v.cancel("bob", order)) == ["Done"]  # cancel-only still cancels


@pytest.mark.parametrize(("kw", "message"), [
    (dict(product_id="FOO-BAR"), "Product not found"),
    (dict(price="0"), "price is too small. Minimum price is 0.01000000"),
    (dict(price="100.001"), "price is too accurate. Smallest unit is 0.01000000"),
    (dict(size="0"), "size is too small. Minimum size is 0.00000001"),
    (dict(price="0.01", size="1"), "notional is too small. Minimum is 10"),
    (dict(size="100000"), "Insufficient funds"),
    (dict(size="1", funds="100"), "One of size or funds is required. Only one may be specified"),
])
def test_order_rejects_carry_coinbase_text_and_change_nothing(kw, message):
    v = venue()
    before = state_hash(v.engine)
    args = dict(price="100.00", size="1") | kw
    _, events = v.buy("alice", args.pop("price"), args.pop("size"), **args)
    assert rejected(events) == message
    assert state_hash(v.engine) == before


def test_size_increment_reject_names_the_increment():
    v = Venue()
    v.product("ETH-BTC", base_increment="0.01", quote_increment="0.00001",
              min_market_funds="0.001")
    v.profile("alice", btc="10", eth="10")
    assert rejected(v.sell("alice", "0.05", "1.001", product_id="ETH-BTC")[1]) == (
        "size is too accurate. Smallest unit is 0.01000000")
    assert rejected(v.sell("alice", "0.050001", "1", product_id="ETH-BTC")[1]) == (
        "price is too accurate. Smallest unit is 0.00001000")


def test_at_most_500_open_orders_per_product_per_profile():
    v = venue()
    for _ in range(open_orders_per_product_max):
        _, events = v.buy("alice", "50.00", "1")
        assert not rejected(events)
    v.check = False
    assert rejected(v.buy("alice", "50.00", "1")[1]) == "Too many open orders"
    v.product("ETH-USD", min_market_funds="1")
    assert not rejected(v.buy("alice", "50.00", "1", product_id="ETH-USD")[1])
    first = next(iter(v.engine.profiles["alice"].live))
    v.cancel("alice", first)
    assert not rejected(v.buy("alice", "50.00", "1")[1])
    assert v.engine.profiles["alice"].open_count["BTC-USD"] == 500
    assert all(o.status is Status.OPEN for o in v.engine.profiles["alice"].live.values())


def test_a_duplicate_order_id_is_refused_not_indexed_twice():
    v = venue()
    order_id, _ = v.buy("alice", "50.00", "1")
    _, events = v.buy("bob", "50.00", "1", order_id=order_id)
    assert rejected(events) == "Duplicate order id"
    assert v.engine.orders[order_id].profile_id == "alice"
