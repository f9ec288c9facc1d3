"""``[venue] client_oid_dedup`` with ccxt: a retried POST with the same client_oid answers the
first order (true, sandex's default) or places a second one (false, as Coinbase does)."""

from __future__ import annotations

import tomllib

import pytest

from sandex.testing import TESTING_SCENARIO

BTC = "BTC/USD"
OID = "d0000000-0000-4000-8000-00000000000d"
COINBASE_LIKE = tomllib.loads(TESTING_SCENARIO.read_text())
COINBASE_LIKE["venue"]["client_oid_dedup"] = False


def place_twice(sandex):
    trader = sandex.ccxt()
    return [trader.create_order(BTC, "limit", "buy", 0.01, 50000, {"client_oid": OID})
            for _ in range(2)]


def test_by_default_a_retry_answers_the_first_order(sandex):
    first, retry = place_twice(sandex)
    assert retry["id"] == first["id"]
    assert len(sandex.ccxt().fetch_open_orders(BTC)) == 1


@pytest.mark.sandex(scenario=COINBASE_LIKE)
def test_without_dedup_a_retry_places_a_second_order(sandex):
    first, retry = place_twice(sandex)
    assert retry["id"] != first["id"]
    assert sorted(o["id"] for o in sandex.ccxt().fetch_open_orders(BTC)) == sorted(
        [first["id"], retry["id"]])
    latest = sandex.ccxt().fetch_order(f"client:{OID}", BTC)  # the newest of the two
    assert latest["id"] == retry["id"]


def test_a_scenario_refuses_a_client_oid_dedup_that_is_not_a_boolean():
    from sandex.node import Node
    from sandex.scenario import ScenarioError, build

    with pytest.raises(ScenarioError, match=r"venue\.client_oid_dedup must be true or false"):
        build({"venue": {"client_oid_dedup": "no"}}, Node())


def test_venue_set_switches_it_until_the_next_reset(sandex):
    assert sandex.admin("venue.set", client_oid_dedup=False) == {"client_oid_dedup": False}
    first, retry = place_twice(sandex)
    assert retry["id"] != first["id"]
    sandex.reset()
    assert sandex.admin("venue") == {"client_oid_dedup": True}
    first, retry = place_twice(sandex)
    assert retry["id"] == first["id"]


def test_venue_set_refuses_what_it_does_not_know():
    from sandex.admin.ops import AdminError, run_offline
    from sandex.node import Node

    node = Node()
    for args, message in (({"client_oid_dedup": "maybe"}, "is not true or false"),
                          ({"dedup": False}, "unknown venue setting 'dedup'")):
        with pytest.raises(AdminError, match=message):
            run_offline(node, "venue.set", args)
    assert run_offline(node, "venue.set", {"client_oid_dedup": "false"}) == {
        "client_oid_dedup": False}
    assert node.engine.client_oid_dedup is False
