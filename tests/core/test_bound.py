"""The venue's bound on an order's prices, sizes and funds (``sandex.core.limits``).

sandex's choice where Coinbase documents none: prices, stop prices and sizes at most
10,000,000,000, funds at most 10**20 of the quote currency. It keeps an order's fill totals
(``filled_size``, ``executed_value``, ``fill_fees``: 128-bit C fields when compiled) exact;
the compiled and pure cores must agree at the bound (``make test`` runs this file both ways).
"""

from __future__ import annotations

import msgspec
import pytest

from sandex.core import ModifyOrder, state_hash
from sandex.core.image import export, restore
from sandex.core.limits import funds_max, unit_max
from tests.support.venue_kit import Venue, amt, kinds, px, rejected

MAX = "10000000000"  # unit_max in 8 decimals
MAX_FUNDS = "100000000000000000000"  # funds_max in 16 decimals


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", usd="1" + "0" * 21, btc="1" + "0" * 11)
    v.profile("bob", usd="1" + "0" * 21, btc="1" + "0" * 11)
    return v


def test_the_bounds_are_the_documented_numbers():
    assert px(MAX) == unit_max == 10**18
    assert amt(MAX_FUNDS) == funds_max == 10**36
    assert unit_max * unit_max < 2**120 and funds_max < 2**120  # fill totals' headroom


@pytest.mark.parametrize(("side", "price", "size", "kw", "message"), [
    ("buy", "10000000000.01", "1", {}, "price is too large. Maximum price is 10000000000.00000000"),
    ("buy", "100.00", "10000000000.00000001", {},
     "size is too large. Maximum size is 10000000000.00000000"),
    ("sell", "100.00", "10000000001", {},
     "size is too large. Maximum size is 10000000000.00000000"),
    ("buy", None, None, dict(type="market", funds="100000000000000000000.01"),
     "funds is too large. Maximum funds is 100000000000000000000.00000000"),
    ("buy", "0.01", None, dict(funds="1000000000"),  # buys 10**11: beyond the size bound
     "size is too large. Maximum size is 10000000000.00000000"),
    ("sell", "100.00", "1", dict(stop="loss", stop_price="10000000000.01"),
     "stop_price is too large. Maximum stop_price is 10000000000.00000000"),
])
def test_beyond_the_bound_is_a_400_that_changes_nothing(side, price, size, kw, message):
    v = venue()
    before = state_hash(v.engine)
    _, events = v.order("alice", side, price, size, **kw)
    assert rejected(events) == message
    assert state_hash(v.engine) == before


def test_at_the_bound_fills_exactly():
    """A maker and a taker at the largest price and size: every fill total is exact (10**36
    of quote in 1e-16 units, beyond 64 bits), as the pure core's ints."""
    v = venue()
    maker, _ = v.sell("alice", MAX, MAX)
    taker, events = v.buy("bob", MAX, MAX)
    assert "Matched" in kinds(events)
    for order_id, rate in ((maker, 4_000), (taker, 6_000)):
        order = v.engine._archive[order_id]
        assert order.filled_size == unit_max
        assert order.executed_value == unit_max * unit_max
        assert order.fill_fees == unit_max * unit_max * rate // 1_000_000
        assert type(order.executed_value) is int


def test_market_funds_at_the_bound_are_accepted():
    v = venue()
    v.sell("alice", "100.00", "1")
    _, events = v.buy("bob", None, None, type="market", funds=MAX_FUNDS)
    assert rejected(events) is None
    assert "Matched" in kinds(events)


def test_modify_beyond_the_bound_is_refused():
    v = venue()
    order_id, _ = v.buy("alice", "100.00", "1")
    before = state_hash(v.engine)
    for price, size, message in (
            (px("100.00"), unit_max + 1, "size is too large. Maximum size is 10000000000.00000000"),
            (unit_max + 1, px("1"), "price is too large. Maximum price is 10000000000.00000000")):
        events = v.apply(ModifyOrder(time=v.stamp(), profile_id="alice", order_id=order_id,
                                     price=price, size=size))
        assert rejected(events) == message
    assert state_hash(v.engine) == before


@pytest.mark.parametrize("field", ["price", "size", "executed_value", "funds"])
def test_a_snapshot_beyond_the_bound_is_refused_with_a_clear_message(field):
    v = venue()
    v.buy("alice", "100.00", "1")
    image = export(v.engine)
    assert state_hash(restore(image)) == state_hash(v.engine)  # within it: exact
    order = image.live[0]
    bound = funds_max if field in ("executed_value", "funds") else unit_max
    image = msgspec.structs.replace(
        image, live=[msgspec.structs.replace(order, **{field: bound + 1})])
    with pytest.raises(ValueError, match=f"{field}=.* beyond the venue's bound"):
        restore(image)
