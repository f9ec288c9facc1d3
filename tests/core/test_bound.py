"""The venue's bounds (``sandex.core.limits``): an order's prices, sizes and funds, and each
currency's supply.

sandex's choice where Coinbase documents none: prices, stop prices and sizes at most
10,000,000,000, funds at most 10**20 of the quote currency, each currency's supply at most
10**21. They keep an order's fill totals and hold and the accounts' balances and holds
(128-bit C fields when compiled) exact; the compiled and pure cores must agree at the bounds
(``make test`` runs this file both ways).
"""

from __future__ import annotations

import msgspec
import pytest

from sandex.core import AddCurrency, Convert, ModifyOrder, StartTransfer, state_hash
from sandex.core.holds import limit_buy_hold
from sandex.core.image import export, restore
from sandex.core.limits import funds_max, supply_max, unit_max
from sandex.units import SIZE_TO_AMOUNT
from tests.support.venue_kit import Venue, amt, kinds, px, rejected

MAX = "10000000000"  # unit_max in 8 decimals
MAX_FUNDS = "100000000000000000000"  # funds_max in 16 decimals


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", usd="4" + "0" * 20, btc="1" + "0" * 11)
    v.profile("bob", usd="4" + "0" * 20, btc="1" + "0" * 11)
    return v


def test_the_bounds_are_the_documented_numbers():
    assert px(MAX) == unit_max == 10**18
    assert amt(MAX_FUNDS) == funds_max == 10**36
    assert unit_max * unit_max < 2**120 and funds_max < 2**120  # fill totals' headroom
    assert amt("1" + "0" * 21) == supply_max < 2**124  # balances: sums of two below 2**127


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
        order = v.engine.orders[order_id]
        assert order.filled_size == unit_max
        assert order.executed_value == unit_max * unit_max
        assert order.fill_fees == unit_max * unit_max * rate // 1_000_000
        assert type(order.executed_value) is int


@pytest.mark.parametrize(("price", "size"), [
    (MAX, MAX),  # a notional of 10**36: beyond the inline hold's C bound (2**106), in ints
    ("100000000", "1000000"),  # 10**32 units: just below it, in C
    ("100.00", "0.5"),
])
def test_a_resting_buys_hold_is_limit_buy_hold_at_any_size(price, size):
    """The inline place computes a limit buy's hold in C below ``NOTIONAL_BOUND`` and with
    ``buy_hold`` above it: either way the hold is ``limit_buy_hold`` exactly."""
    v = venue()
    order_id, events = v.buy("bob", price, size)
    assert kinds(events) == ["Received", "Opened"]
    order = v.engine.orders[order_id]
    rate = max(order.maker_rate, order.taker_rate)
    assert order.hold == limit_buy_hold(px(size), px(price), rate)
    assert v.balance("bob", "USD")[1] == order.hold
    v = venue()  # a resting sell's hold: its size in amounts
    sell_id, events = v.sell("alice", price, size)
    assert kinds(events) == ["Received", "Opened"]
    assert v.engine.orders[sell_id].hold == px(size) * SIZE_TO_AMOUNT


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


SUPPLY = "amount is too large. The venue holds at most 1000000000000000000000 USD"


def test_a_deposit_beyond_the_supply_bound_is_refused_and_changes_nothing():
    v = venue()  # 8 * 10**20 USD deposited
    before = state_hash(v.engine)
    assert rejected(v.deposit("alice", "USD", "200000000000000000000.0000000000000001")) == SUPPLY
    assert state_hash(v.engine) == before
    assert rejected(v.deposit("alice", "USD", "200000000000000000000")) is None  # to the bound
    assert v.engine.supply["USD"] == supply_max
    assert v.balance("alice", "USD")[0] == amt("6" + "0" * 20)


def test_pending_deposits_count_toward_the_supply_bound():
    v = venue()
    amount = amt("150000000000000000000")
    events = v.apply(StartTransfer(time=v.stamp(), transfer_id="t-a", profile_id="alice",
                                   currency="USD", kind="deposit", amount=amount,
                                   settle_at=v.time + 10**9))
    assert rejected(events) is None
    events = v.apply(StartTransfer(time=v.stamp(), transfer_id="t-b", profile_id="bob",
                                   currency="USD", kind="deposit", amount=amount,
                                   settle_at=v.time + 10**9))
    assert rejected(events) == SUPPLY
    assert rejected(v.deposit("bob", "USD", "50000000000000000000")) is None  # exactly to it


def test_a_conversion_beyond_the_supply_bound_is_refused():
    v = venue()
    v.deposit("bob", "USD", "200000000000000000000")  # USD at the bound
    v.apply(AddCurrency(time=v.stamp(), currency="USDC", name="USDC", min_size=1))
    v.profile("carol", usdc="10")
    before = state_hash(v.engine)
    events = v.apply(Convert(time=v.stamp(), profile_id="carol", conversion_id="c-1",
                             from_currency="USDC", to_currency="USD", from_amount=amt("1"),
                             to_amount=amt("1")))
    assert rejected(events) == SUPPLY
    assert state_hash(v.engine) == before


def test_a_snapshot_beyond_the_supply_bound_is_refused_with_a_clear_message():
    v = venue()
    image = export(v.engine)
    with pytest.raises(ValueError, match=r"USD supply .* beyond the venue's bound"):
        restore(msgspec.structs.replace(image, supply={**image.supply, "USD": supply_max + 1}))
    profile = image.profiles[0]
    account = msgspec.structs.replace(profile.accounts[0], balance=supply_max + 1)
    profiles = [msgspec.structs.replace(profile, accounts=[account, *profile.accounts[1:]]),
                *image.profiles[1:]]
    with pytest.raises(ValueError, match=r"balance .* beyond the venue's bound"):
        restore(msgspec.structs.replace(image, profiles=profiles))
