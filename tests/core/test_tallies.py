"""A profile's open orders per product: ``Profile._tallies`` (one ``Tally`` per product, held
by each of the profile's live orders there) and the read-only ``open_count`` view over them.

A done order reaches its profile and its count through its tally (no lookup by either id);
these tests pin what the view shows, when a tally is made, that a restored engine rebuilds
them, and that a snapshot's schema still names ``open_count`` (not the private name).
"""

from __future__ import annotations

import gc
import pickle

import pytest

from sandex.core import image
from sandex.core.invariants import check_invariants
from sandex.core.limits import open_orders_per_product_max
from sandex.core.records import PROFILE_FIELDS, Profile, Tally
from sandex.native import compiled
from tests.support.venue_kit import Venue, rejected


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="10")
    v.product("ETH-USD", min_market_funds="1")
    v.profile("alice", usd="1000000", btc="1000", eth="1000")
    v.profile("bob", usd="1000000", btc="1000", eth="1000")
    return v


def live_counts(profile: Profile) -> dict[str, int]:
    counts: dict[str, int] = {}
    for order in profile.live.values():
        counts[order.product_id] = counts.get(order.product_id, 0) + 1
    return counts


def test_open_count_is_a_view_of_ints_made_on_the_first_accepted_order():
    v = venue()
    alice = v.engine.profiles["alice"]
    assert alice.open_count == {}
    v.check = False
    assert rejected(v.buy("alice", "100.00", "100000")[1]) == "Insufficient funds"
    assert alice.open_count == {}  # a refused order makes no tally
    first, _ = v.buy("alice", "50.00", "1")
    v.sell("alice", "200.00", "1", product_id="ETH-USD")
    v.buy("alice", "40.00", "1")
    assert alice.open_count == {"BTC-USD": 2, "ETH-USD": 1} == live_counts(alice)
    assert all(type(n) is int for n in alice.open_count.values())
    view = alice.open_count
    view["BTC-USD"] = 7  # a new dict each read: writing it changes nothing
    assert alice.open_count["BTC-USD"] == 2
    tally = alice._tallies["BTC-USD"]
    assert type(tally) is Tally and tally.profile is alice and tally.count == 2
    assert v.engine.orders[first]._tally is tally
    v.cancel("alice", first)
    assert alice.open_count == {"BTC-USD": 1, "ETH-USD": 1} == live_counts(alice)
    check_invariants(v.engine)


def test_every_path_counts_in_the_tally_and_a_done_order_leaves_it():
    v = venue()
    alice, bob = v.engine.profiles["alice"], v.engine.profiles["bob"]
    v.sell("bob", "100.00", "1")  # a maker, filled below
    v.sell("bob", "101.00", "1")
    v.buy("alice", None, funds="150", type="market")  # market path: done at once
    v.buy("alice", "100.50", "0.5", time_in_force="IOC")  # IOC: takes, leftover canceled
    stop, _ = v.buy("alice", "120.00", "1", stop="entry", stop_price="110.00")  # the general path
    assert alice.open_count == {"BTC-USD": 1} == live_counts(alice)
    assert bob.open_count == {"BTC-USD": 1} == live_counts(bob)  # its first maker filled
    assert v.engine.orders[stop]._tally is alice._tallies["BTC-USD"]
    v.cancel("alice", stop)  # an untriggered stop: done by lifecycle.cancel
    assert alice.open_count == {"BTC-USD": 0}  # the tally stays, as the count did
    check_invariants(v.engine)


def test_the_limit_counts_the_tally():
    v = venue()
    v.check = False
    for _ in range(open_orders_per_product_max):
        assert not rejected(v.buy("alice", "50.00", "1")[1])
    assert rejected(v.buy("alice", "50.00", "1")[1]) == "Too many open orders"
    assert rejected(v.buy("alice", None, funds="20", type="market")[1]) == "Too many open orders"
    assert rejected(v.buy("alice", "120.00", "1", stop="entry", stop_price="110.00")[1]) == (
        "Too many open orders")
    assert v.engine.profiles["alice"].open_count == {"BTC-USD": open_orders_per_product_max}


def test_a_restored_engine_rebuilds_the_tallies():
    v = venue()
    kept, _ = v.buy("alice", "50.00", "1")
    v.sell("alice", "200.00", "2", product_id="ETH-USD")
    gone, _ = v.buy("bob", "60.00", "1")
    v.cancel("bob", gone)
    restored = image.restore(image.export(v.engine))
    for profile_id in ("alice", "bob"):
        before, after = v.engine.profiles[profile_id], restored.profiles[profile_id]
        assert after.open_count == live_counts(after) == {
            k: n for k, n in before.open_count.items() if n}
        for order in after.live.values():
            assert order._tally is after._tallies[order.product_id]
            assert order._tally.profile is after
    assert restored.orders[kept]._tally is restored.profiles["alice"]._tallies["BTC-USD"]
    check_invariants(restored)


def test_a_snapshots_schema_still_names_open_count():
    names = dict(image.shape())["Profile"]
    assert names == sorted(PROFILE_FIELDS) == [
        "accounts", "active", "by_client_oid", "created_at", "id", "live", "maker_rate",
        "name", "open_count", "taker_rate", "user_id"]


def test_the_tally_keeps_the_profiles_accounts_once_the_inline_path_found_them():
    v = venue()
    v.profile("carol", usd="1000")  # no BTC account yet: its first buy attaches one
    carol = v.engine.profiles["carol"]
    v.sell("bob", "100.00", "1")
    v.buy("carol", None, funds="150", type="market")  # the market path: a tally, no accounts
    v.buy("carol", "50.00", "1")  # then a limit order: found by currency, kept
    tally = carol._tallies["BTC-USD"]
    assert tally.quote is carol.accounts["USD"] and tally.base is carol.accounts["BTC"]
    v.profile("dave", usd="1000")
    dave = v.engine.profiles["dave"]
    v.buy("dave", "50.00", "1")
    assert "BTC" in dave.accounts  # attached on acceptance, and kept by the tally
    assert dave._tallies["BTC-USD"].base is dave.accounts["BTC"]
    v.check = False
    assert rejected(v.sell("dave", "60.00", "1")[1]) == "Insufficient funds"  # read from it
    check_invariants(v.engine)


def _profiles_alive() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Profile)


def test_an_engine_dropped_with_live_orders_is_freed():
    # A live order (not tracked by the collector) holds its tally and its profile holds the
    # order: with a reference from the tally back to its profile, that cycle was invisible
    # to the collector and every dropped engine with a resting order stayed in memory.
    before = _profiles_alive()
    for _ in range(3):
        v = venue()
        v.buy("alice", "50.00", "1")
        v.sell("bob", "60.00", "2", product_id="ETH-USD")
        assert len(v.engine.profiles["alice"].live) == 1
        del v
    assert _profiles_alive() == before


def test_a_tally_kept_past_its_engine_never_reads_a_freed_profile():
    v = venue()
    order_id, _ = v.buy("alice", "50.00", "1")
    order = v.engine.orders[order_id]
    tally = order._tally
    assert tally.profile is v.engine.profiles["alice"]
    del v
    gc.collect()
    assert order._tally is tally and tally.count == 1  # the order and its tally outlive it
    if compiled():
        with pytest.raises(ReferenceError):
            tally.profile  # noqa: B018 (compiled: the profile is freed, its pointer cleared)
    else:
        assert tally.profile.id == "alice"  # uncompiled: a reference, collected with it


def test_a_tally_pickles_with_its_profile():
    v = venue()
    v.buy("alice", "50.00", "1")
    alice = v.engine.profiles["alice"]
    copy = pickle.loads(pickle.dumps(alice))
    tally = copy._tallies["BTC-USD"]
    assert tally.profile is copy and tally.count == 1
    assert next(iter(copy.live.values()))._tally is tally
