"""``POST /admin/explain``: for every row of the error table an order can meet, the verdict
is the answer the real ``POST /orders`` then gives, to the character, and explaining changes
nothing; an acceptance describes the fills and the queue the real order then gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandex.errors import Error
from tests.api.rest.harness import InProcessClient, InProcessVenue
from tests.support.rest_kit import ALICE, BOB, VIEWER, place

LIMIT: dict[str, Any] = {"product_id": "BTC-USD", "side": "buy", "price": "900.00", "size": "0.1"}
MARKET = {"product_id": "BTC-USD", "side": "buy", "type": "market"}
STOP = {**LIMIT, "stop": "loss", "stop_price": "850.00"}

# (the error, what to do first: admin commands, the body)
CASES: list[tuple[Error, list[tuple[str, dict[str, Any]]], Any]] = [
    (Error.PRODUCT_NOT_FOUND, [], {**LIMIT, "product_id": "NOPE-USD"}),
    (Error.TRADING_DISABLED, [("product.set-status", {"id": "BTC-USD", "status": "disabled"})],
     LIMIT),
    (Error.CANCEL_ONLY_MODE, [("product.set-status", {"id": "BTC-USD",
                                                      "status": "cancel_only"})], LIMIT),
    (Error.LIMIT_ONLY_MODE, [("product.set-status", {"id": "BTC-USD", "status": "limit_only"})],
     {**MARKET, "funds": "100"}),
    (Error.POST_ONLY_MODE, [], {**LIMIT, "price": "1000.00", "post_only": True}),
    (Error.POST_ONLY_TIME_IN_FORCE, [], {**LIMIT, "post_only": True, "time_in_force": "IOC"}),
    (Error.POST_ONLY_STOP, [], {**STOP, "post_only": True}),
    (Error.CANCEL_AFTER_REQUIRES_GTT, [], {**LIMIT, "cancel_after": "min"}),
    (Error.GTT_REQUIRES_CANCEL_AFTER, [], {**LIMIT, "time_in_force": "GTT"}),
    (Error.PRICE_TOO_SMALL, [], {**LIMIT, "price": "0.001"}),
    (Error.PRICE_TOO_ACCURATE, [], {**LIMIT, "price": "900.001"}),
    (Error.STOP_PRICE_TOO_ACCURATE, [], {**STOP, "stop_price": "850.001"}),
    (Error.SIZE_TOO_SMALL, [("product.add", {"id": "XYZ-USD", "base_increment": "0.01"})],
     {**LIMIT, "product_id": "XYZ-USD", "size": "0.001"}),
    (Error.SIZE_TOO_ACCURATE, [("product.add", {"id": "XYZ-USD", "base_increment": "0.01"})],
     {**LIMIT, "product_id": "XYZ-USD", "size": "0.011"}),
    (Error.FUNDS_TOO_SMALL, [], {**MARKET, "funds": "0.5"}),
    (Error.FUNDS_TOO_ACCURATE, [], {**MARKET, "funds": "10.001"}),
    (Error.NOTIONAL_TOO_SMALL, [], {**LIMIT, "price": "10.00", "size": "0.00000001"}),
    (Error.INSUFFICIENT_FUNDS, [], {**LIMIT, "size": "100000"}),
    (Error.SIZE_OR_FUNDS, [], MARKET),
    (Error.MISSING_FIELD, [], {"product_id": "BTC-USD", "price": "900.00", "size": "0.1"}),
    (Error.INVALID_FIELD, [], {**LIMIT, "side": "up"}),
    (Error.INVALID_PRICE, [], {**MARKET, "size": "0.1", "price": "900.00"}),
    (Error.INVALID_ORDER_TYPE, [], {**LIMIT, "type": "stoplimit"}),
    (Error.INVALID_CLIENT_OID, [], {**LIMIT, "client_oid": 12345}),
    (Error.FORBIDDEN, [], {**LIMIT, "profile_id": "b0b00000-0000-4000-8000-000000000002"}),
    (Error.INVALID_JSON, [], ["not", "an", "object"]),
]


@pytest.fixture(scope="module")
def venue() -> Iterator[InProcessVenue]:
    running = InProcessVenue(seed=3)
    place(running.client(BOB), side="sell", price="1000.00", size="0.2")
    place(running.client(BOB), side="sell", price="1001.00", size="0.3")
    assert running.admin("snapshot.save", name="book").status == 200
    yield running
    running.close()


def explain(venue: InProcessVenue, key: str, body: Any) -> dict[str, Any]:
    reply = venue.admin("explain", key=key, request=body)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def state_hash(venue: InProcessVenue) -> str:
    return venue.admin("state", method="GET").json()["state_hash"]  # type: ignore[no-any-return]


def post(client: InProcessClient, body: Any) -> tuple[int, str]:
    reply = client.request("POST", "/orders", raw_body=json.dumps(body).encode())
    answer = reply.json()
    return reply.status, answer.get("message", "") if isinstance(answer, dict) else ""


@pytest.mark.parametrize(("error", "setup", "body"), CASES, ids=[c[0].name for c in CASES])
def test_the_verdict_is_the_real_answer(venue: InProcessVenue, error: Error,
                                        setup: list[tuple[str, dict[str, Any]]],
                                        body: Any) -> None:
    assert venue.admin("snapshot.restore", name="book").status == 200
    for command, args in setup:
        assert venue.admin(command, **args).status == 200, command
    before = state_hash(venue)
    verdict = explain(venue, ALICE[0], body)
    assert state_hash(venue) == before  # a dry run
    status, message = post(venue.client(ALICE), body)
    assert (verdict["would"], verdict["status"], verdict["message"]) == (
        "reject", status, message)
    assert status == error.status and verdict["rule"] == error.name
    assert message == error.format() or error.template.count("{}")


def test_the_figures_behind_a_refusal(venue: InProcessVenue) -> None:
    assert venue.admin("snapshot.restore", name="book").status == 200
    funds = explain(venue, ALICE[0], {**LIMIT, "price": "1000.00", "size": "10000"})
    assert funds["detail"] == {
        "available": "1000000 USD", "required": "10060000 USD",
        "formula": "price * size * (1 + max(maker_fee_rate, taker_fee_rate))"}
    crossing = explain(venue, ALICE[0], {**LIMIT, "price": "1000.00", "post_only": True})
    assert crossing["detail"] == {"product_status": "online", "post_only": True,
                                  "best_ask": "1000", "price": "1000"}


def test_keys_are_checked_as_rest_checks_them(venue: InProcessVenue) -> None:
    unknown = explain(venue, "f" * 32, LIMIT)
    assert (unknown["status"], unknown["message"], unknown["rule"]) == (
        401, "Invalid API Key", "INVALID_API_KEY")
    viewer = explain(venue, VIEWER[0], LIMIT)
    assert (viewer["status"], viewer["message"], viewer["rule"]) == (403, "Forbidden",
                                                                      "FORBIDDEN")
    assert post(venue.client(VIEWER), LIMIT) == (403, "Forbidden")


def test_an_acceptance_shows_the_fills_and_the_queue_the_real_order_gets(
        venue: InProcessVenue) -> None:
    assert venue.admin("snapshot.restore", name="book").status == 200
    alice = venue.client(ALICE)
    place(venue.client(BOB), price="900.00", size="1")  # ahead of Alice at 900
    resting = explain(venue, ALICE[0], LIMIT)
    assert resting["would"] == "accept" and resting["detail"]["liquidity"] == "maker"
    assert resting["detail"]["rests"] == {"price": "900", "size": "0.1", "queue_position": 2,
                                          "size_ahead": "1"}
    assert resting["detail"]["hold"] == {"currency": "USD", "amount": "90.54"}
    sweep = {**LIMIT, "price": "1001.00", "size": "0.4"}
    taking = explain(venue, ALICE[0], sweep)
    assert [(f["price"], f["size"], f["yours"]) for f in taking["detail"]["fills"]] == [
        ("1000", "0.2", False), ("1001", "0.2", False)]
    assert taking["detail"]["rests"] is None and taking["detail"]["status"] == "done"
    placed = place(alice, **sweep)
    fills = alice.get(f"/fills?order_id={placed['id']}").json()
    assert sorted((f["price"], f["size"]) for f in fills) == [
        ("1000.00000000", "0.20000000"), ("1001.00000000", "0.20000000")]


def test_explain_takes_its_body_by_post(venue: InProcessVenue) -> None:
    reply = venue.admin("explain", method="GET")
    assert (reply.status, reply.json()) == (
        400, {"message": "explain takes a JSON body: send it with POST"})


def test_the_open_order_limit_and_a_client_oid_retry(venue: InProcessVenue) -> None:
    assert venue.admin("snapshot.restore", name="book").status == 200
    alice = venue.client(ALICE)
    oid = "5e1f0000-0000-4000-8000-000000000001"
    first = place(alice, price="1.00", size="1", client_oid=oid)
    retry = explain(venue, ALICE[0], {**LIMIT, "client_oid": oid})
    assert (retry["would"], retry["order_id"]) == ("answer_existing", first["id"])
    for n in range(499):
        place(alice, price=f"{200 + n}.00", size="0.01")
    full = explain(venue, ALICE[0], LIMIT)
    assert (full["status"], full["message"], full["detail"]) == (
        400, "Too many open orders", {"open_orders": 500, "max": 500})
    assert post(alice, LIMIT) == (400, "Too many open orders")
