"""The gate with real clients through the pytest plugin's ``sandex`` fixture (docs/testing.md,
"Races"): held order requests hang unapplied, inject goes past, release order is arrival
order only if asked, a client that gives up leaves the list, a reset drops what is held."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import ccxt
import pytest

from sandex.testing import VenueError

pytestmark = pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")

BTC = "BTC/USD"
TAKER = {"product_id": "BTC-USD", "side": "buy", "type": "market", "size": "0.01"}
OID_A = "a0000000-0000-4000-8000-00000000000a"
OID_B = "b0000000-0000-4000-8000-00000000000b"


def test_a_cancel_held_at_the_gate_loses_to_an_injected_fill(sandex):
    trader = sandex.ccxt()
    order = trader.create_order(BTC, "limit", "sell", 0.01, 60000)
    sandex.gate.close({"type": "cancel", "order_id": order["id"]})
    with ThreadPoolExecutor(1) as pool:
        cancel = pool.submit(trader.cancel_order, order["id"], BTC)
        [held] = sandex.gate.wait(1)
        assert (held["method"], held["order_id"], held["key"]) == (
            "DELETE", order["id"], sandex.credentials.key)
        taker = sandex.inject(sandex.counterparty, {"place": TAKER})
        assert taker["status"] == "pending" and not cancel.done()
        assert sandex.gate.release(all=True)["released"] == [held["id"]]
        with pytest.raises(ccxt.BaseError, match="Order already done"):
            cancel.result(10)
    done = trader.fetch_order(order["id"], BTC)
    assert (done["status"], done["filled"]) == ("closed", 0.01)


def test_release_by_ids_puts_two_held_places_in_the_order_given(sandex):
    trader = sandex.ccxt()
    sandex.gate.close({"type": "place"})
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(trader.create_order, BTC, "limit", "buy", 0.01, 50000,
                            {"client_oid": OID_A})
        sandex.gate.wait(1)
        second = pool.submit(trader.create_order, BTC, "limit", "buy", 0.01, 50000,
                             {"client_oid": OID_B})
        a, b = sandex.gate.wait(2)
        assert (a["client_oid"], b["client_oid"]) == (OID_A, OID_B)  # arrival order
        assert "place buy limit 0.01 BTC-USD @ 50000" in a["summary"]
        assert sandex.gate.release(ids=[b["id"], a["id"]])["released"] == [b["id"], a["id"]]
        placed_a, placed_b = first.result(10), second.result(10)
    assert placed_b["info"]["created_at"] < placed_a["info"]["created_at"]  # b stamped first
    level = sandex.book("BTC-USD", level=3)["bids"]
    assert [row[2] for row in level] == [placed_b["id"], placed_a["id"]]  # b ahead in queue


def test_a_held_request_whose_client_gives_up_leaves_the_list_unapplied(sandex):
    before = sandex.state_hash()
    sandex.gate.close({"type": "place"})
    impatient = sandex.ccxt(timeout=300)
    with pytest.raises(ccxt.RequestTimeout):
        impatient.create_order(BTC, "limit", "buy", 0.01, 50000)
    deadline = time.monotonic() + 5
    while sandex.gate.held() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sandex.gate.held() == []
    sandex.gate.open()
    assert sandex.state_hash() == before
    assert sandex.ccxt().fetch_open_orders(BTC) == []


def test_a_reset_opens_the_gate_and_answers_held_requests_503_unapplied(sandex):
    sandex.gate.close({})
    with ThreadPoolExecutor(1) as pool:
        place = pool.submit(sandex.ccxt().create_order, BTC, "limit", "buy", 0.01, 50000)
        sandex.gate.wait(1)
        sandex.reset()
        with pytest.raises(ccxt.BaseError, match="restored while this request was held"):
            place.result(10)
    assert sandex.admin("gate.held") == {"closed": False, "matches": [], "held": []}
    assert sandex.ccxt().fetch_open_orders(BTC) == []


def test_bad_input_is_a_400_that_changes_nothing(sandex):
    sandex.gate.close({"type": "cancel", "client_oid": OID_A.upper()})
    state = sandex.admin("gate.held")
    assert state["matches"] == [{"type": "cancel", "client_oid": OID_A}]
    for call, message in (
            (lambda: sandex.gate.release(ids=[999]),
             "no held request has id 999 (see the held list)"),
            (lambda: sandex.gate.release(),
             "give exactly one of ids, n or all"),
            (lambda: sandex.gate.close({"side": "buy"}),
             "match: unknown field 'side' (one of type, order_id, client_oid, key, profile, "
             "product_id)"),
            (lambda: sandex.gate.close({"type": "modify"}),
             "match.type: 'modify' is not one of place, cancel, cancel_all"),
            (lambda: sandex.admin("gate.close", macth={}),
             "unknown argument 'macth' (expected: match)"),
            (lambda: sandex.inject(sandex.counterparty, {"modify": {}}),
             "command: 'modify' is not one of place, cancel, cancel_all with an object of "
             "its fields")):
        with pytest.raises(VenueError) as refused:
            call()
        assert (refused.value.status, refused.value.message) == (400, message)
    assert sandex.admin("gate.held") == state


def test_inject_answers_as_rest_and_refuses_with_rest_s_message(sandex):
    placed = sandex.inject(sandex.credentials, {"place": {
        "product_id": "BTC-USD", "side": "sell", "price": "70000", "size": "0.5",
        "client_oid": OID_A}})
    assert (placed["status"], placed["size"]) == ("pending", "0.5")  # echoed as sent
    assert sandex.ccxt().fetch_order(placed["id"], BTC)["status"] == "open"
    with pytest.raises(VenueError, match="Insufficient funds"):
        sandex.inject(sandex.credentials, {"place": {
            "product_id": "BTC-USD", "side": "sell", "price": "70000", "size": "100"}})
    assert sandex.inject(sandex.credentials, {"cancel": {"order_id": f"client:{OID_A}"}}) \
        == OID_A
    with pytest.raises(VenueError, match="order not found"):
        sandex.inject(sandex.credentials, {"cancel": {"order_id": placed["id"]}})
    assert sandex.inject(sandex.credentials, {"cancel_all": {"product_id": "BTC-USD"}}) == []
