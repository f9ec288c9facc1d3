"""Halted matching (``SetMatching``): orders accepted ``pending`` and queued off the book, then
matched on resume in arrival order, each as if it had arrived then."""

from __future__ import annotations

from sandex.core import (
    Done,
    Matched,
    Opened,
    ProductStatus,
    ProductUpdated,
    Received,
    SetMatching,
    SetProductStatus,
    Status,
    state_hash,
)
from sandex.core.image import export, restore
from tests.support.venue_kit import Venue, amt, kinds, px, rejected

STP = "102:Self Trade Prevention"


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="10")
    v.product("ETH-USD", min_market_funds="10")
    v.profile("alice", usd="1000000", btc="1000", eth="1000")
    v.profile("bob", usd="1000000", btc="1000", eth="1000")
    v.profile("carol", usd="1000000", btc="1000")
    return v


def halt(v: Venue, halted: bool = True, product_id: str = "BTC-USD") -> list:
    return v.apply(SetMatching(time=v.stamp(), product_id=product_id, halted=halted))


def test_a_halted_product_queues_orders_pending_and_the_resume_matches_them_in_order():
    v = venue()
    maker, _ = v.sell("bob", "100.00", "2")  # on the book before the halt
    assert kinds(halt(v)) == ["ProductUpdated"]
    first, events = v.buy("alice", "101.00", "1.5")  # crosses: not matched now
    assert kinds(events) == ["Received"] and events[0].sequence == 3
    order = v.engine.orders[first]
    assert order.status is Status.PENDING and order.filled_size == 0
    assert v.balance("alice", "USD") == (amt("1000000"), amt("152.409"))  # 1.5 x 101 + 0.6 %
    second, _ = v.buy("carol", "100.00", "1")
    resting, _ = v.buy("carol", "90.00", "1")  # would rest: not on the book either
    market, _ = v.buy("alice", None, funds="10", type="market")
    assert v.engine.products["BTC-USD"].book.level3() == ([], [(px("100"), px("2"), maker)])
    assert [o.status for o in (v.engine.orders[i] for i in (second, resting, market))] == [
        Status.PENDING] * 3
    events = halt(v, False)
    assert kinds(events) == ["ProductUpdated", "Matched", "Done",  # first: 1.5 of the 2
                             "Matched", "Done", "Opened",  # second: the last 0.5, rests 0.5
                             "Opened",  # the one at 90 rests
                             "Done"]  # the market order: no asks left
    trades = [(e.taker_order_id, e.price, e.size) for e in events if isinstance(e, Matched)]
    assert trades == [(first, px("100"), px("1.5")), (second, px("100"), px("0.5"))]
    opened = [(e.order_id, e.price, e.remaining_size) for e in events if isinstance(e, Opened)]
    assert opened == [(second, px("100"), px("0.5")), (resting, px("90"), px("1"))]
    done = [(e.order_id, str(e.reason), e.cancel_reason) for e in events if isinstance(e, Done)]
    assert done == [(first, "filled", None), (maker, "filled", None),
                    (market, "canceled", "106:Insufficient Liquidity")]  # asks all gone
    assert v.engine.products["BTC-USD"].book.level2() == (
        [(px("100"), px("0.5"), 1), (px("90"), px("1"), 1)], [])
    assert [e.time for e in events[1:]] == [events[0].time] * (len(events) - 1)
    assert not any(isinstance(e, Received) for e in events)  # received when placed


def test_cancels_and_expiry_of_pending_orders():
    v = venue()
    v.sell("bob", "100.00", "5")
    halt(v)
    canceled, _ = v.buy("alice", "100.00", "1")
    kept, _ = v.buy("alice", "100.00", "1", client_oid="c1")
    expiring, _ = v.buy("carol", "100.00", "1", time_in_force="GTT", cancel_after="min")
    other, _ = v.buy("alice", "100.00", "1", product_id="ETH-USD")  # ETH matches as usual
    events = v.cancel("alice", canceled)
    assert [(type(e).__name__, e.order_id, str(e.reason)) for e in events] == [
        ("Done", canceled, "canceled")]
    assert events[0].sequence is not None  # public: its received was
    assert canceled not in v.engine.orders  # purged, as a canceled order with no fill
    assert v.engine.next_expiry() == v.engine.orders[expiring].expire_time
    events = v.advance(61)
    assert [(e.order_id, e.cancel_reason) for e in events if isinstance(e, Done)] == [
        (expiring, "101:Time In Force")]
    assert v.balance("carol", "USD")[1] == 0
    assert v.cancel_all("alice", "BTC-USD")[0].order_id == kept
    assert v.balance("alice", "USD")[1] == amt("100.6")  # the ETH order's hold alone
    assert kinds(halt(v, False)) == ["ProductUpdated"]  # nothing left to match
    assert v.engine.orders[other].status is Status.OPEN


def test_post_only_is_checked_on_placement_and_again_on_resume():
    v = venue()
    v.sell("bob", "100.00", "1")
    halt(v)
    assert rejected(v.buy("alice", "100.00", "1", post_only=True)[1]) == "Post only mode"
    taker, _ = v.sell("carol", "95.00", "1")  # queued: will rest at 95 on resume
    maker, _ = v.buy("alice", "96.00", "1", post_only=True)  # does not cross the book now ...
    events = halt(v, False)  # ... but crosses carol's ask once it rests: canceled, no trade
    assert [(type(e).__name__, e.order_id) for e in events[1:]] == [
        ("Opened", taker), ("Done", maker)]
    assert (events[2].reason, events[2].cancel_reason) == ("canceled", None)
    assert v.balance("alice", "USD")[1] == 0


def test_post_only_mode_at_resume_cancels_queued_takers():
    v = venue()
    v.sell("bob", "100.00", "1")
    halt(v)
    taker, _ = v.buy("alice", "100.00", "1")
    rester, _ = v.buy("alice", "99.00", "1")
    v.apply(SetProductStatus(time=v.stamp(), product_id="BTC-USD",
                             status=ProductStatus.POST_ONLY))
    events = halt(v, False)
    assert [(type(e).__name__, e.order_id) for e in events[1:]] == [
        ("Done", taker), ("Opened", rester)]


def test_self_trade_prevention_applies_on_resume():
    v = venue()
    resting, _ = v.sell("alice", "100.00", "1")
    halt(v)
    taker, _ = v.buy("alice", "100.00", "3", stp="co")
    events = halt(v, False)
    assert [(type(e).__name__, e.order_id) for e in events[1:]] == [
        ("Done", resting), ("Opened", taker)]
    assert events[1].cancel_reason == STP


def test_halt_and_resume_are_idempotent_and_refuse_unknown_products():
    v = venue()
    assert kinds(halt(v)) == ["ProductUpdated"] and halt(v) == []
    assert kinds(halt(v, False)) == ["ProductUpdated"] and halt(v, False) == []
    assert rejected(halt(v, product_id="NOPE-USD")) == "Product not found"
    updated = halt(v)[0]
    assert isinstance(updated, ProductUpdated) and updated.status == "online"


def test_a_stop_placed_while_halted_waits_active_and_triggers_on_the_resume_trades():
    v = venue()
    v.sell("bob", "100.00", "1")
    v.sell("bob", "105.00", "1")
    halt(v)
    stop, events = v.buy("carol", "110.00", "1", stop="entry", stop_price="100.00")
    assert kinds(events) == ["Activated"]
    taker, _ = v.buy("alice", "100.00", "1")
    events = halt(v, False)
    trades = [(e.taker_order_id, e.price) for e in events if isinstance(e, Matched)]
    assert trades == [(taker, px("100")), (stop, px("105"))]


def test_snapshot_and_replay_of_a_halted_engine_give_the_same_state():
    v = venue()
    v.sell("bob", "100.00", "2")
    halt(v)
    v.buy("alice", "101.00", "1")
    canceled, _ = v.buy("carol", "100.00", "1")
    v.cancel("carol", canceled)
    v.buy("carol", "99.00", "1", time_in_force="GTT", cancel_after="hour")
    restored = restore(export(v.engine))
    assert state_hash(restored) == state_hash(v.engine)
    assert [o.id for o in restored.products["BTC-USD"].halted] == [
        o.id for o in v.engine.products["BTC-USD"].halted if o.status is Status.PENDING]
    again = Venue()
    for command, events in v.log:
        assert again.apply(command) == events
    assert state_hash(again.engine) == state_hash(v.engine)
    resume = SetMatching(time=v.stamp(), product_id="BTC-USD", halted=False)
    assert restored.apply(resume) == v.apply(resume)
    assert state_hash(restored) == state_hash(v.engine)
