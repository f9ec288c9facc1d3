"""What the controls did to a request shows in its trace (docs/testing.md, "Trace"), with real
clients through the pytest plugin's ``sandex`` fixture: a refused order's rule, a fault rule's
429, a gate hold and its wait, an auth refusal; outside test mode no header and no trace."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import cbpro
import ccxt
import pytest

from tests.support.rest_kit import ALICE, RawClient, Server

pytestmark = pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")

BTC = "BTC/USD"
TRADER = "7e570000-0000-4000-8000-000000000001"


def test_a_refused_order_shows_its_rule_and_no_command(sandex):
    mark = sandex.newest_request()
    with pytest.raises(ccxt.InsufficientFunds):
        sandex.ccxt().create_order(BTC, "limit", "buy", 100, 60000)
    [refused] = sandex.trace(after=mark, refused=True)
    assert (refused["status"], refused["message"], refused["rule"]) == (
        400, "Insufficient funds", "INSUFFICIENT_FUNDS")
    assert refused["auth"]["result"] == "ok" and refused["rate_limit"]["refused"] is False
    assert refused["commands"] == []  # refused by the engine: nothing journaled
    assert refused["detail"]["required"] == "6036000 USD"  # 100 x 60000 x 1.006


def test_a_429_rule_s_firing_shows_in_the_trace_of_the_request_it_hit(sandex):
    sandex.faults.add({"id": "storm", "layer": "rest", "match": {"path": "/accounts"},
                       "when": {"nth": [2]}, "action": {"kind": "status", "status": 429}})
    mark = sandex.newest_request()
    bot = sandex.ccxt()
    bot.fetch_balance()
    with pytest.raises(ccxt.RateLimitExceeded):
        bot.fetch_balance()
    bot.fetch_balance()
    first, hit, third = [t for t in sandex.trace(after=mark) if t["target"] == "/accounts"]
    assert [t["status"] for t in (first, hit, third)] == [200, 429, 200]
    assert (first["faults"], hit["faults"], third["faults"]) == (
        [], [{"rule": "storm", "action": "status"}], [])
    assert hit["message"] == "Private rate limit exceeded"
    # the fault answered before the venue's own bucket was asked: it kept its tokens
    assert [t["rate_limit"]["tokens_left"] for t in (first, third)] == [29.0, 28.0]


def test_the_private_bucket_s_own_429_shows_which_bucket(sandex):
    bot = cbpro.AuthenticatedClient(sandex.credentials.key, sandex.credentials.secret,
                                    sandex.credentials.passphrase, api_url=sandex.rest_url)
    mark = sandex.newest_request()
    answers = [bot.get_accounts() for _ in range(31)]  # a burst of 30, the clock frozen
    assert answers[-1] == {"message": "Private rate limit exceeded"}
    traces = sandex.trace(after=mark)
    assert [t["rate_limit"] for t in (traces[0], traces[29], traces[30])] == [
        {"bucket": "private", "refused": False, "tokens_left": 29.0},
        {"bucket": "private", "refused": False, "tokens_left": 0.0},
        {"bucket": "private", "refused": True, "tokens_left": 0.0}]
    assert traces[30]["rule"] == "PRIVATE_RATE_LIMIT"


def test_a_gate_hold_shows_its_wait_and_how_it_was_released(sandex):
    trader = sandex.ccxt()
    sandex.gate.close({"type": "place"})
    with ThreadPoolExecutor(1) as pool:
        placing = pool.submit(trader.create_order, BTC, "limit", "buy", 0.01, 50000)
        [held] = sandex.gate.wait(1)
        time.sleep(0.2)  # held for at least this long (real time: the gate runs on it)
        sandex.gate.release(ids=[held["id"]])
        placed = placing.result(10)
    [trace] = sandex.trace(order_id=placed["id"])
    assert trace["gate"]["held_id"] == held["id"]
    assert trace["gate"]["released"] == "release ids"
    assert trace["gate"]["waited_ms"] >= 200
    assert trace["commands"][0]["command"] == "PlaceOrder"


@pytest.mark.parametrize(("change", "rule"), [
    ({"secret": "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1rZXlzLXNlY3JldC0wMTIzNDU2Nzg5"},
     "INVALID_SIGNATURE"),
    ({"passphrase": "not-the-passphrase"}, "INVALID_PASSPHRASE")])
def test_an_auth_refusal_shows_which(sandex, change, rule):
    wrong = dataclasses.replace(sandex.credentials, **change)
    mark = sandex.newest_request()
    with pytest.raises(ccxt.AuthenticationError):
        sandex.ccxt(wrong).fetch_balance()
    [trace] = [t for t in sandex.trace(after=mark) if t["target"] == "/accounts"]
    assert trace["auth"] == {"result": "refused", "rule": rule}
    assert trace["rate_limit"] is None and trace["commands"] == []


def test_outside_test_mode_no_header_and_no_trace(server: Server):
    reply = RawClient(server.port, ALICE).get("/accounts")
    assert reply.status == 200 and "x-sandex-request-id" not in reply.headers
