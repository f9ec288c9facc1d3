"""A profile's live orders: ``Profile._orders`` (``records.link``/``unlink``: appended on
acceptance, a done one's place ``None``, compacted once most are) read as ``profile.live``,
a new dict of the same orders in acceptance order that the old dict index gave.

These pin ``live`` against a plain dict kept beside it over random links and unlinks (the
compaction and the dropped tail included), that ``live`` is a copy, that unlinking an order
not listed fails as ``del live[id]`` did, and that a venue's cancels and fills keep ``live``
in acceptance order.
"""

from __future__ import annotations

import random

import pytest

from sandex.core.invariants import check_invariants
from sandex.core.model import OrderType, Side, Stp, TimeInForce
from sandex.core.records import Account, Order, Profile, link, new_order, unlink
from tests.support.venue_kit import Venue


def _order(n: int) -> Order:
    account = Account("p", "USD")
    return new_order(f"o{n}", n, "p", "BTC-USD", Side.BUY, OrderType.LIMIT, 0, 1, 1, 1, None,
                     None, None, TimeInForce.GTC, None, False, Stp.DC, None, None, None, 0, 0,
                     0, account, account)


def _check(profile: Profile, model: dict[str, Order]) -> None:
    live = profile.live
    assert list(live) == list(model) and all(live[k] is model[k] for k in model)
    orders = profile._orders
    assert sum(o is None for o in orders) == profile._dead
    assert not orders or orders[-1] is not None
    assert all(o is None or o._live_at == at for at, o in enumerate(orders))


@pytest.mark.parametrize("seed", range(8))
def test_live_is_the_dict_index_it_replaces(seed: int) -> None:
    rng = random.Random(seed)
    profile = Profile("p", "u", "p", 0, 0, 0)
    model: dict[str, Order] = {}
    n = 0
    for _ in range(3000):
        if model and rng.random() < (0.3 if len(model) < 50 else 0.6):
            key = rng.choice(list(model)) if rng.random() < 0.7 else next(reversed(model))
            unlink(profile, model.pop(key))
        else:
            n += 1
            order = _order(n)
            link(profile, order)
            model[order.id] = order
        _check(profile, model)
    for key in list(model):
        unlink(profile, model.pop(key))
        _check(profile, model)
    assert profile._orders == [] and profile._dead == 0


def test_live_is_a_copy_and_an_unlisted_order_is_refused() -> None:
    profile = Profile("p", "u", "p", 0, 0, 0)
    a, b = _order(1), _order(2)
    link(profile, a)
    profile.live.clear()  # a reader's copy
    assert list(profile.live) == ["o1"]
    with pytest.raises(KeyError):
        unlink(profile, b)
    unlink(profile, a)
    with pytest.raises(KeyError):
        unlink(profile, a)
    assert profile.live == {}


def test_a_venues_live_orders_stay_in_acceptance_order() -> None:
    v = Venue()
    v.product("BTC-USD")
    v.profile("alice", usd="10000000", btc="1000")
    v.profile("bob", usd="10000000", btc="1000")
    alice = v.engine.profiles["alice"]
    placed = [v.buy("alice", f"{100 + i}.00", "1")[0] for i in range(40)]
    for oid in placed[5:35:2]:  # cancels in the middle
        v.cancel("alice", oid)
    v.sell("bob", "138.00", "1")  # a fill closes the newest (the best bid)
    v.sell("bob", "138.00", "1")  # then the next
    expected = [oid for i, oid in enumerate(placed) if not (5 <= i < 35 and i % 2 == 1)]
    expected = [oid for oid in expected if oid not in (placed[38], placed[39])]
    assert list(alice.live) == expected
    check_invariants(v.engine)
