"""The gateway's handler follows the fault rules: outside test mode the REST dispatch runs with
no fault wrapper until a ``rest`` rule is added (``RestApp.current``), and again once it is
cleared."""

from __future__ import annotations

from sandex.faults import faults_of
from tests.api.rest.harness import InProcessClient, InProcessVenue


def test_a_rest_rule_added_and_cleared_switches_the_handler(
        venue: InProcessVenue, alice: InProcessClient) -> None:
    faults = faults_of(venue.venue.node)
    assert alice.get("/accounts").status == 200
    faults.add({"id": "no-accounts", "layer": "rest", "match": {"path": "/accounts"},
                "action": {"kind": "status", "status": 503}})
    try:
        assert alice.get("/accounts").status == 503
        assert alice.get("/time").status == 200  # not matched: the dispatch's answer
    finally:
        faults.clear("no-accounts")
    assert alice.get("/accounts").status == 200
