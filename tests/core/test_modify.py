"""ModifyOrder (FIX OrderCancelReplaceRequest): price and size of a live order in place,
queue priority as Coinbase keeps it, holds recomputed, refusals that change nothing."""

from __future__ import annotations

from sandex.core import (
    Changed,
    Done,
    Matched,
    ModifyOrder,
    SetMatching,
    Status,
    state_hash,
)
from sandex.core.image import export, restore
from sandex.core.model import CancelReason, DoneReason
from tests.support.venue_kit import Venue, amt, kinds, px, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", maker="0", taker="0.005", usd="1000", btc="10")
    v.profile("bob", usd="100000", btc="10")
    v.profile("carol", usd="100000", btc="10")
    return v


def modify(v: Venue, profile: str, order_id: str, price: str, size: str, **kw: object):
    return v.apply(ModifyOrder(time=v.stamp(), profile_id=profile, order_id=order_id,
                               price=px(price), size=px(size), **kw))  # type: ignore[arg-type]


def queue(v: Venue, side: str, price: str) -> list[str]:
    book = v.engine.products["BTC-USD"].book
    level = (book.bids if side == "buy" else book.asks)[px(price)]
    return [o.id for o in level.live()]


def test_size_down_at_the_same_price_keeps_queue_priority():
    v = venue()
    first, _ = v.buy("bob", "100", "2")
    second, _ = v.buy("carol", "100", "1")
    events = modify(v, "bob", first, "100", "1.5", client_oid="new-oid")
    assert events == [Changed(v.time, "BTC-USD", 5, first, "bob", "buy", px("100"), px("2"),
                              px("1.5"), None, None, "modify_order", px("100"), "new-oid")]
    assert queue(v, "buy", "100") == [first, second]
    assert v.engine.products["BTC-USD"].book.level2()[0] == [(px("100"), px("2.5"), 2)]
    _, events = v.sell("alice", "100", "1.5")
    fills = [(e.maker_order_id, e.size) for e in events if isinstance(e, Matched)]
    assert fills == [(first, px("1.5"))]  # the first order still trades first
    order = v.engine.orders[first]
    assert (order.size, order.client_oid) == (px("1.5"), "new-oid")
    assert v.engine.find_order("bob", client_oid="new-oid") is order


def test_size_up_or_a_new_price_goes_to_the_back_of_the_level():
    v = venue()
    first, _ = v.buy("bob", "100", "1")
    second, _ = v.buy("carol", "100", "1")
    modify(v, "bob", first, "100", "2")
    assert queue(v, "buy", "100") == [second, first]
    third, _ = v.buy("carol", "99", "1")
    modify(v, "bob", first, "99", "2")
    assert queue(v, "buy", "99") == [third, first]
    assert v.engine.products["BTC-USD"].book.level2()[0] == [
        (px("100"), px("1"), 1), (px("99"), px("3"), 2)]


def test_a_buy_hold_follows_price_times_size_and_an_uncovered_increase_is_refused():
    v = venue()  # alice: 1000 USD, hold rate 0.5 % (her larger fee)
    order, _ = v.buy("alice", "100", "2")
    assert v.balance("alice", "USD") == (amt("1000"), amt("201"))
    modify(v, "alice", order, "150", "4")
    assert v.balance("alice", "USD") == (amt("1000"), amt("603"))
    before = state_hash(v.engine)
    assert rejected(modify(v, "alice", order, "200", "5")) == "Insufficient funds"
    assert state_hash(v.engine) == before
    modify(v, "alice", order, "10", "1")
    assert v.balance("alice", "USD") == (amt("1000"), amt("10.05"))


def test_a_crossing_modify_trades_as_a_taker_and_the_remainder_rests_at_the_new_price():
    v = venue()
    ask, _ = v.sell("bob", "101", "1")
    bid, _ = v.buy("alice", "100", "3")
    events = modify(v, "alice", bid, "101", "3")
    assert kinds(events) == ["Changed", "Matched", "Done", "Changed"]
    change, match, done, remainder = events
    assert isinstance(change, Changed) and change.reason == "modify_order"
    assert (change.old_price, change.price, change.old_size, change.new_size) == (
        px("100"), px("101"), px("3"), px("3"))
    assert isinstance(match, Matched) and (match.maker_order_id, match.taker_order_id,
                                           match.price, match.size) == (ask, bid, px("101"),
                                                                        px("1"))
    assert isinstance(done, Done) and done.order_id == ask
    assert isinstance(remainder, Changed) and remainder.reason == (
        "remainder_after_modification")
    assert (remainder.old_size, remainder.new_size, remainder.sequence) == (
        px("3"), px("2"), done.sequence + 1)
    assert v.engine.products["BTC-USD"].book.level3()[0] == [(px("101"), px("2"), bid)]
    order = v.engine.orders[bid]
    assert (order.status, order.filled_size, order.remaining) == (
        Status.OPEN, px("1"), px("2"))
    # the hold left covers the two that rest at 101 with the hold rate
    assert order.hold == amt("203.01")


def test_a_partially_filled_order_keeps_its_fills_and_a_size_below_them_cancels_it():
    v = venue()
    bid, _ = v.buy("bob", "100", "2")
    v.sell("carol", "100", "0.5")
    events = modify(v, "bob", bid, "100", "1")
    assert isinstance(events[0], Changed) and (events[0].old_size, events[0].new_size) == (
        px("1.5"), px("0.5"))
    order = v.engine.orders[bid]
    assert (order.size, order.filled_size, order.remaining) == (px("1"), px("0.5"), px("0.5"))
    events = modify(v, "bob", bid, "100", "0.4")
    assert len(events) == 1 and isinstance(done := events[0], Done)
    assert (done.reason, done.cancel_reason, done.remaining_size) == (
        DoneReason.CANCELED, CancelReason.BROKER, px("0.5"))
    assert v.engine.orders[bid].status is Status.DONE
    assert v.balance("bob", "USD")[1] == 0


def test_refusals_change_nothing():
    v = venue()
    bid, _ = v.buy("bob", "100", "1")
    post, _ = v.sell("carol", "110", "1", post_only=True)
    market, _ = v.buy("carol", None, "0.1", type="market")
    before = state_hash(v.engine)
    assert rejected(modify(v, "carol", bid, "100", "1")) == "order not found"
    assert rejected(modify(v, "bob", "nope", "100", "1")) == "order not found"
    assert rejected(modify(v, "bob", bid, "100.001", "1")) == (
        "price is too accurate. Smallest unit is 0.01000000")
    assert rejected(modify(v, "bob", bid, "100", "0")) == (
        "size is too small. Minimum size is 0.00000001")
    assert rejected(modify(v, "bob", bid, "100", "0.001")) == "notional is too small. Minimum is 1"
    assert rejected(modify(v, "carol", post, "100", "1")) == "Post only mode"
    assert rejected(modify(v, "bob", bid, "100", "1", stop_price=px("90"))) == (
        "Order cannot be modified")
    assert rejected(modify(v, "carol", market, "100", "1")) == "order not found"
    assert state_hash(v.engine) == before
    v.apply(SetMatching(time=v.stamp(), product_id="BTC-USD", halted=True))
    halted = state_hash(v.engine)
    assert rejected(modify(v, "bob", bid, "110", "1")) == "Order cannot be modified"
    assert state_hash(v.engine) == halted
    assert not rejected(modify(v, "bob", bid, "101", "1"))  # not crossing: fine while halted
    v.apply(SetMatching(time=v.stamp(), product_id="BTC-USD", halted=False))
    v.cancel("bob", bid)
    assert rejected(modify(v, "bob", bid, "100", "1")) == "order not found"


def test_an_untriggered_stop_changes_price_size_and_stop_price_privately():
    v = venue()
    stop, _ = v.buy("bob", "105", "1", stop="entry", stop_price="104")
    events = modify(v, "bob", stop, "106", "2", stop_price=px("103"))
    assert events == [Changed(v.time, "BTC-USD", None, stop, "bob", "buy", px("106"), px("1"),
                              px("2"), None, None, "modify_order", px("105"), None, px("103"))]
    order = v.engine.orders[stop]
    assert (order.price, order.size, order.stop_price) == (px("106"), px("2"), px("103"))
    v.sell("carol", "103", "2")
    _, events = v.buy("alice", "103", "1")  # prints 103: the stop triggers at its new price
    assert any(isinstance(e, Matched) and e.taker_order_id == stop for e in events)


def test_a_modified_venue_restores_from_its_image_to_the_same_state():
    v = venue()
    a, _ = v.buy("bob", "100", "1")
    b, _ = v.buy("carol", "100", "1")
    modify(v, "bob", a, "100", "2")
    stop, _ = v.sell("bob", "90", "1", stop="loss", stop_price="95")
    modify(v, "bob", stop, "91", "1", stop_price=px("94"))
    restored = restore(export(v.engine))
    assert state_hash(restored) == state_hash(v.engine)
    assert restored.products["BTC-USD"].book.level3() == v.engine.products[
        "BTC-USD"].book.level3()
    assert [o.id for o in restored.products["BTC-USD"].book.bids[px("100")].live()] == [b, a]
