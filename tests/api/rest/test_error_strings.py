"""Every error string the REST API can answer, character for character, with its status.

The strings are written out literally here on purpose: ``sandex/errors.py`` is the one table the
server uses, and these tests pin that table to what clients match on (spec §2.5, §3.3, §4.6,
§4.7, §6.1, §6.6, §7, §8.3). A rejected request must also change nothing: balances, holds and
orders are compared before and after. In-process (``harness.py``): the venue's app answers
without a socket.
"""

from __future__ import annotations

import ast
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sandex.errors import Error
from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import (
    ALICE,
    ALICE_PROFILE,
    BOB,
    BOB_PROFILE,
    SCENARIO,
    Reply,
    SignedClient,
    place,
)

SAVINGS = "a11ce000-0000-4000-8000-0000000000a2"  # ALICE's second profile, no balances


def snapshot(client: SignedClient) -> tuple[Any, ...]:
    """Everything a rejected request must leave alone: accounts and the order records."""
    accounts = client.get("/accounts").json()
    orders = client.get("/orders?status=all&limit=1000").json()
    return (sorted((a["currency"], a["balance"], a["hold"], a["available"]) for a in accounts),
            sorted((o["id"], o["status"], o["filled_size"]) for o in orders))


def check(reply: Reply, status: int, message: str) -> None:
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    assert (reply.status, reply.json()) == (status, {"message": message}), reply.body


def rejected(client: SignedClient, method: str, target: str, body: Any, status: int,
             message: str, raw_body: bytes | None = None) -> None:
    """``client`` is refused with exactly (status, message) and nothing changed."""
    before = snapshot(client)
    check(client.request(method, target, body, raw_body=raw_body), status, message)
    assert snapshot(client) == before


def products(anon: SignedClient, flag: str) -> list[str]:
    return [p["id"] for p in anon.get("/products").json() if p[flag]]


# -- order entry (POST /orders, §3.3, §4.1) -------------------------------------------------------

LIMIT = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5"}
MARKET = {"product_id": "BTC-USD", "side": "buy", "type": "market"}
STOP = {**LIMIT, "side": "sell", "price": "9.00", "stop": "loss"}

ORDER_REJECTS = [
    # (name, body, status, message)
    ("post-only stop", {**STOP, "stop_price": "9.50", "post_only": True}, 400,
     "post_only is invalid with stop orders"),
    ("insufficient funds buy", {**LIMIT, "price": "100000.00", "size": "1000"}, 400,
     "Insufficient funds"),
    ("insufficient funds sell", {**LIMIT, "side": "sell", "price": "900000.00", "size": "101"},
     400, "Insufficient funds"),
    ("size too accurate 9dp", {**LIMIT, "size": "0.000000001"}, 400,
     "size is too accurate. Smallest unit is 0.00000001"),
    ("price too accurate", {**LIMIT, "price": "10.001"}, 400,
     "price is too accurate. Smallest unit is 0.01000000"),
    ("price too accurate 9dp", {**LIMIT, "price": "10.000000001"}, 400,
     "price is too accurate. Smallest unit is 0.01000000"),
    ("price too accurate eth-btc", {**LIMIT, "product_id": "ETH-BTC", "price": "0.000011"}, 400,
     "price is too accurate. Smallest unit is 0.00001000"),
    ("funds too accurate", {**MARKET, "funds": "10.001"}, 400,
     "funds is too accurate. Smallest unit is 0.01000000"),
    ("stop_price too accurate", {**STOP, "stop_price": "9.001"}, 400,
     "stop_price is too accurate. Smallest unit is 0.01000000"),
    ("price too small", {**LIMIT, "price": "0"}, 400,
     "price is too small. Minimum price is 0.01000000"),
    ("price negative", {**LIMIT, "price": "-10.00"}, 400,
     "price is too small. Minimum price is 0.01000000"),
    ("size too small", {**LIMIT, "size": "0"}, 400,
     "size is too small. Minimum size is 0.00000001"),
    # the venue's bound (sandex's choice: Coinbase documents none; docs/wire.md §3)
    ("price too large", {**LIMIT, "price": "10000000000.01"}, 400,
     "price is too large. Maximum price is 10000000000.00000000"),
    ("size too large", {**LIMIT, "size": "10000000000.00000001"}, 400,
     "size is too large. Maximum size is 10000000000.00000000"),
    ("funds too large", {**MARKET, "funds": "100000000000000000000.01"}, 400,
     "funds is too large. Maximum funds is 100000000000000000000.00000000"),
    ("stop_price too large", {**STOP, "stop_price": "10000000000.01"}, 400,
     "stop_price is too large. Maximum stop_price is 10000000000.00000000"),
    ("funds too small", {**MARKET, "funds": "0.99"}, 400,
     "funds is too small. Minimum size is 1.00000000"),
    ("notional too small", {**LIMIT, "price": "0.01", "size": "1"}, 400,
     "notional is too small. Minimum is 1"),
    ("notional too small eth-btc", {**LIMIT, "product_id": "ETH-BTC", "price": "0.00001",
                                    "size": "1"}, 400, "notional is too small. Minimum is 0.0001"),
    ("post_only with IOC", {**LIMIT, "post_only": True, "time_in_force": "IOC"}, 400,
     "post_only is invalid with time_in_force IOC or FOK"),
    ("post_only with FOK", {**LIMIT, "post_only": "true", "time_in_force": "FOK"}, 400,
     "post_only is invalid with time_in_force IOC or FOK"),
    ("cancel_after without GTT", {**LIMIT, "cancel_after": "min"}, 400,
     "cancel_after requires time_in_force GTT"),
    ("GTT without cancel_after", {**LIMIT, "time_in_force": "GTT"}, 400,
     "time_in_force GTT requires cancel_after"),
    ("product not found", {**LIMIT, "product_id": "FOO-BAR"}, 400, "Product not found"),
    ("product not a string", {**LIMIT, "product_id": 7}, 400, "Product not found"),
    ("order_type stop", {**LIMIT, "type": "stop"}, 400, "Invalid order_type stop"),
    ("market with price 0", {**MARKET, "price": "0", "size": "0.01"}, 400, "Invalid price 0"),
    ("market with numeric price 0", {**MARKET, "price": 0, "size": "0.01"}, 400,
     "Invalid price 0"),
    ("size and funds on a limit", {**LIMIT, "funds": "10.00"}, 400,
     "One of size or funds is required. Only one may be specified"),
    ("neither size nor funds", {k: v for k, v in LIMIT.items() if k != "size"}, 400,
     "One of size or funds is required. Only one may be specified"),
    ("market without size or funds", MARKET, 400,
     "One of size or funds is required. Only one may be specified"),
    ("numeric client_oid", {**LIMIT, "client_oid": 1}, 400, "Invalid client_oid"),
    ("product_id missing", {"side": "buy", "price": "10.00", "size": "1"}, 400,
     "product_id is required"),
    ("side missing", {"product_id": "BTC-USD", "price": "10.00", "size": "1"}, 400,
     "side is required"),
    ("price missing", {k: v for k, v in LIMIT.items() if k != "price"}, 400, "price is required"),
    ("stop without stop_price", STOP, 400, "stop_price is required"),
    ("bad side", {**LIMIT, "side": "up"}, 400, "Invalid side"),
    ("bad stp", {**LIMIT, "stp": "xx"}, 400, "Invalid stp"),
    ("bad time_in_force", {**LIMIT, "time_in_force": "DAY"}, 400, "Invalid time_in_force"),
    ("bad cancel_after", {**LIMIT, "time_in_force": "GTT", "cancel_after": "week"}, 400,
     "Invalid cancel_after"),
    ("bad post_only", {**LIMIT, "post_only": "yes"}, 400, "Invalid post_only"),
    ("bad stop", {**STOP, "stop": "both", "stop_price": "9.50"}, 400, "Invalid stop"),
    ("bad size", {**LIMIT, "size": "one"}, 400, "Invalid size"),
    ("bad price", {**LIMIT, "price": "ten"}, 400, "Invalid price ten"),
    ("another profile", {**LIMIT, "profile_id": BOB_PROFILE}, 403, "Forbidden"),
]


@pytest.mark.parametrize(("body", "status", "message"),
                         [pytest.param(*row[1:], id=row[0]) for row in ORDER_REJECTS])
def test_order_reject(alice: SignedClient, body: dict[str, Any], status: int,
                      message: str) -> None:
    rejected(alice, "POST", "/orders", body, status, message)


@pytest.mark.parametrize("raw", [b"{nope", b"[]", b'"text"', b'{"product_id": "BTC-USD",}',
                                 b"\xff\xfe"])
def test_malformed_json_body(alice: SignedClient, raw: bytes) -> None:
    rejected(alice, "POST", "/orders", None, 400, "Invalid JSON body", raw_body=raw)


def test_view_only_key_cannot_place(viewer: SignedClient, alice: SignedClient) -> None:
    before = snapshot(alice)
    check(viewer.post("/orders", LIMIT), 403, "Forbidden")
    assert snapshot(alice) == before


def test_post_only_order_that_would_cross(alice: SignedClient, bob: SignedClient) -> None:
    ask = place(bob, product_id="ETH-BTC", side="sell", price="0.05000", size="1")
    try:
        for price in ("0.05000", "0.06000"):
            rejected(alice, "POST", "/orders", {"product_id": "ETH-BTC", "side": "buy",
                                                "price": price, "size": "1", "post_only": True},
                     400, "Post only mode")
    finally:
        assert bob.delete(f"/orders/{ask['id']}").status == 200


def test_non_uuid_client_oid_is_accepted_and_dropped(alice: SignedClient) -> None:
    order = place(alice, client_oid="my-order-1")
    assert "client_oid" not in order
    assert "client_oid" not in alice.get(f"/orders/{order['id']}").json()
    check(alice.get("/orders/client:my-order-1"), 404, "NotFound")
    assert alice.delete(f"/orders/{order['id']}").status == 200


def test_too_many_open_orders(bob: SignedClient) -> None:
    order = {"product_id": "ETH-BTC", "side": "buy", "price": "0.00001", "size": "10"}
    placed = 0
    try:
        while placed < 500:
            reply = bob.post("/orders", order)
            assert reply.status == 200, (placed, reply.body)
            placed += 1
        rejected(bob, "POST", "/orders", order, 400, "Too many open orders")
    finally:
        canceled = bob.delete("/orders?product_id=ETH-BTC")
        assert canceled.status == 200 and len(canceled.json()) == placed


@pytest.mark.parametrize(("flag", "body", "message"), [
    ("limit_only", {"type": "market", "side": "buy", "funds": "10.00"}, "Limit only mode"),
    ("post_only", {"type": "market", "side": "buy", "funds": "10.00"}, "Post only mode"),
    ("cancel_only", {"side": "buy", "price": "1.00", "size": "10"}, "Cancel only mode"),
    ("trading_disabled", {"side": "buy", "price": "1.00", "size": "10"},
     "Product is under maintenance"),
])
def test_product_mode(alice: SignedClient, anon: SignedClient, flag: str, body: dict[str, Any],
                      message: str) -> None:
    found = products(anon, flag)
    if not found:
        pytest.skip(f"the test scenario has no {flag} product")
    rejected(alice, "POST", "/orders", {**body, "product_id": found[0]}, 400, message)


# -- cancel (§4.6, §4.7) and the purge (§4.3) -----------------------------------------------------


@pytest.fixture(scope="module")
def traded(venue: InProcessVenue) -> dict[str, str]:
    """ALICE's ETH-USD sells: one filled in full, one filled 1 of 2 (still open)."""
    alice, bob = venue.client(ALICE), venue.client(BOB)
    filled = place(alice, product_id="ETH-USD", side="sell", price="3001.00", size="0.5")
    assert place(bob, product_id="ETH-USD", side="buy", price="3001.00", size="0.5")
    partial = place(alice, product_id="ETH-USD", side="sell", price="3000.00", size="2")
    assert place(bob, product_id="ETH-USD", side="buy", price="3000.00", size="1")
    assert alice.get(f"/orders/{filled['id']}").json()["status"] == "done"
    return {"filled": filled["id"], "partial": partial["id"]}


def test_cancel_filled_order(alice: SignedClient, traded: dict[str, str]) -> None:
    rejected(alice, "DELETE", f"/orders/{traded['filled']}", None, 400, "Order already done")
    order = alice.get(f"/orders/{traded['filled']}").json()
    assert (order["status"], order["done_reason"]) == ("done", "filled")


def test_cancel_partially_filled_order_keeps_the_record(alice: SignedClient,
                                                        traded: dict[str, str]) -> None:
    reply = alice.delete(f"/orders/{traded['partial']}")
    assert (reply.status, reply.json()) == (200, traded["partial"])
    order = alice.get(f"/orders/{traded['partial']}")
    assert order.status == 200, order.body
    assert (order.json()["status"], order.json()["done_reason"]) == ("done", "canceled")
    assert order.json()["filled_size"] == "1.00000000"
    rejected(alice, "DELETE", f"/orders/{traded['partial']}", None, 400, "Order already done")


def test_cancel_unfilled_order_purges_it(alice: SignedClient) -> None:
    order = place(alice)
    reply = alice.delete(f"/orders/{order['id']}")
    assert (reply.status, reply.json()) == (200, order["id"])
    check(alice.get(f"/orders/{order['id']}"), 404, "NotFound")
    rejected(alice, "DELETE", f"/orders/{order['id']}", None, 404, "order not found")


def test_cancel_by_client_oid_then_purged(alice: SignedClient) -> None:
    client_oid = str(uuid.uuid4())
    place(alice, client_oid=client_oid)
    reply = alice.delete(f"/orders/client:{client_oid}")
    assert (reply.status, reply.json()) == (200, client_oid)
    check(alice.get(f"/orders/client:{client_oid}"), 404, "NotFound")
    rejected(alice, "DELETE", f"/orders/client:{client_oid}", None, 404, "order not found")


UNKNOWN = uuid.UUID(int=7)


@pytest.mark.parametrize("target", [f"/orders/{UNKNOWN}", f"/orders/client:{UNKNOWN}",
                                    f"/orders/{UNKNOWN.hex}"])
def test_cancel_unknown_order(alice: SignedClient, target: str) -> None:
    rejected(alice, "DELETE", target, None, 404, "order not found")


def test_cancel_another_profiles_order(alice: SignedClient, bob: SignedClient) -> None:
    order = place(alice)
    try:
        rejected(bob, "DELETE", f"/orders/{order['id']}", None, 404, "order not found")
        check(bob.get(f"/orders/{order['id']}"), 404, "NotFound")
        assert alice.get(f"/orders/{order['id']}").json()["status"] in ("open", "pending")
    finally:
        alice.delete(f"/orders/{order['id']}")


def test_cancel_scoped_to_another_product(alice: SignedClient) -> None:
    order = place(alice)
    try:
        rejected(alice, "DELETE", f"/orders/{order['id']}?product_id=ETH-USD", None, 404,
                 "order not found")
    finally:
        assert alice.delete(f"/orders/{order['id']}?product_id=btc-usd").status == 200


@pytest.mark.parametrize("order_id", ["not-an-id", "12345", "client:", "g" * 32,
                                      "a11ce000-0000-4000-8000-00000000000"])
def test_malformed_order_id(alice: SignedClient, order_id: str) -> None:
    rejected(alice, "DELETE", f"/orders/{order_id}", None, 400, "Invalid order id")
    check(alice.get(f"/orders/{order_id}"), 400, "Invalid order id")


def test_cancel_all_unknown_product(alice: SignedClient) -> None:
    order = place(alice)
    try:
        rejected(alice, "DELETE", "/orders?product_id=FOO-BAR", None, 404, "ProductNotFound")
    finally:
        alice.delete(f"/orders/{order['id']}")


def test_cancel_all_another_profile(alice: SignedClient) -> None:
    rejected(alice, "DELETE", f"/orders?profile_id={BOB_PROFILE}", None, 403, "Forbidden")


def test_view_only_key_cannot_cancel(viewer: SignedClient, alice: SignedClient) -> None:
    order = place(alice)
    try:
        before = snapshot(alice)
        check(viewer.delete(f"/orders/{order['id']}"), 403, "Forbidden")
        check(viewer.delete("/orders"), 403, "Forbidden")
        check(viewer.delete("/orders?product_id=FOO-BAR"), 403, "Forbidden")
        assert snapshot(alice) == before
        assert viewer.get(f"/orders/{order['id']}").status == 200  # but may read it
    finally:
        alice.delete(f"/orders/{order['id']}")


# -- transfers (§6.10) ----------------------------------------------------------------------------

TRANSFER = {"from": ALICE_PROFILE, "to": SAVINGS, "currency": "USD", "amount": "1"}
TRANSFER_REJECTS = [
    ("same profile", {**TRANSFER, "to": ALICE_PROFILE}, 400, "from and to profiles must differ"),
    ("zero amount", {**TRANSFER, "amount": "0"}, 400, "Invalid amount"),
    ("negative amount", {**TRANSFER, "amount": "-5"}, 400, "Invalid amount"),
    ("amount not a number", {**TRANSFER, "amount": "five"}, 400, "Invalid amount"),
    ("unknown currency", {**TRANSFER, "currency": "XYZ"}, 400, "Currency not found"),
    ("currency not a string", {**TRANSFER, "currency": 5}, 400, "Invalid currency"),
    ("empty source", {**TRANSFER, "from": SAVINGS, "to": ALICE_PROFILE}, 400,
     "Insufficient funds"),
    ("more than available", {**TRANSFER, "amount": "100000000"}, 400, "Insufficient funds"),
    ("amount missing", {k: v for k, v in TRANSFER.items() if k != "amount"}, 400,
     "amount is required"),
    ("from missing", {k: v for k, v in TRANSFER.items() if k != "from"}, 400,
     "from is required"),
    ("another user's profile", {**TRANSFER, "to": BOB_PROFILE}, 404, "NotFound"),
    ("unknown profile", {**TRANSFER, "from": str(uuid.UUID(int=3))}, 404, "NotFound"),
]


@pytest.mark.parametrize(("body", "status", "message"),
                         [pytest.param(*row[1:], id=row[0]) for row in TRANSFER_REJECTS])
def test_transfer_reject(alice: SignedClient, body: dict[str, Any], status: int,
                         message: str) -> None:
    rejected(alice, "POST", "/profiles/transfer", body, status, message)


@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("value", [[], {}, ["x"]], ids=["list", "dict", "list1"])
def test_transfer_profile_not_a_string(alice: SignedClient, field: str, value: Any) -> None:
    rejected(alice, "POST", "/profiles/transfer", {**TRANSFER, field: value}, 400,
             f"Invalid {field}")


def test_transfer_needs_the_transfer_permission(alice: SignedClient, bob: SignedClient,
                                                viewer: SignedClient) -> None:
    before = snapshot(alice)
    check(viewer.post("/profiles/transfer", TRANSFER), 403, "Forbidden")
    check(bob.post("/profiles/transfer", {**TRANSFER, "from": BOB_PROFILE}), 403, "Forbidden")
    assert snapshot(alice) == before


# -- lists, pagination (§6.1, §7) -----------------------------------------------------------------


def test_fills_need_product_or_order(alice: SignedClient) -> None:
    check(alice.get("/fills"), 400, "query must contained either product_id or order_id")
    check(alice.get("/fills?limit=10"), 400, "query must contained either product_id or order_id")
    check(alice.get("/fills?product_id=&order_id="), 400,
          "query must contained either product_id or order_id")


PAGED = ["/fills?product_id=BTC-USD&", "/orders?", "/products/BTC-USD/trades?",
         "/accounts/{account}/ledger?", "/accounts/{account}/holds?", "/orders?sortedBy=price&"]


@pytest.fixture(scope="module")
def account(venue: InProcessVenue) -> str:
    accounts = venue.client(ALICE).get("/accounts").json()
    return next(a["id"] for a in accounts if a["currency"] == "USD")


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-1", "1.5", "99999999999999999999999"])
@pytest.mark.parametrize("base", PAGED)
def test_limit_out_of_range(alice: SignedClient, account: str, base: str, limit: str) -> None:
    check(alice.get(base.format(account=account) + f"limit={limit}"), 400,
          "Invalid parameter range - limit")


@pytest.mark.parametrize("base", PAGED[:-1])
def test_limit_bounds_accepted(alice: SignedClient, account: str, base: str) -> None:
    for limit in ("1", "1000"):
        reply = alice.get(base.format(account=account) + f"limit={limit}")
        assert reply.status == 200, reply.body


ID_CURSORS = ["/fills?product_id=BTC-USD&", "/products/BTC-USD/trades?",
              "/accounts/{account}/ledger?"]
TIME_CURSORS = ["/orders?", "/accounts/{account}/holds?"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "1" * 30])
@pytest.mark.parametrize("base", ID_CURSORS)
def test_bad_id_cursors(alice: SignedClient, account: str, base: str, cursor: str) -> None:
    target = base.format(account=account)
    check(alice.get(f"{target}before={cursor}"), 400, "before cursor value is not valid")
    check(alice.get(f"{target}after={cursor}"), 400, "after cursor value is not valid")


@pytest.mark.parametrize("cursor", ["abc", "2024-13-01T00:00:00Z", "12345"])
@pytest.mark.parametrize("base", TIME_CURSORS)
def test_bad_time_cursors(alice: SignedClient, account: str, base: str, cursor: str) -> None:
    target = base.format(account=account)
    check(alice.get(f"{target}before={cursor}"), 400, "before cursor value is not valid")
    check(alice.get(f"{target}after={cursor}"), 400, "after cursor value is not valid")


@pytest.mark.parametrize("base", ["/fills?product_id=BTC-USD&", "/orders?",
                                  "/products/BTC-USD/trades?", "/accounts/{account}/holds?",
                                  "/accounts/{account}/ledger?"])
def test_unicode_digit_limit(alice: SignedClient, account: str, base: str) -> None:
    check(alice.get(base.format(account=account) + "limit=" + quote("²")), 400,
          "Invalid parameter range - limit")


@pytest.mark.parametrize("name", ["before", "after"])
@pytest.mark.parametrize("base", ID_CURSORS)
def test_unicode_digit_cursor(alice: SignedClient, account: str, base: str, name: str) -> None:
    check(alice.get(base.format(account=account) + f"{name}=" + quote("²")), 400,
          f"{name} cursor value is not valid")


def test_unicode_digit_granularity(anon: SignedClient) -> None:
    check(anon.get("/products/BTC-USD/candles?granularity=" + quote("²")), 400,
          "Unsupported granularity")


def test_empty_page_has_no_cursor_headers(alice: SignedClient, anon: SignedClient) -> None:
    for client, target in ((alice, "/fills?product_id=ETH-BTC"),
                           (anon, "/products/ETH-BTC/trades"),
                           (alice, "/orders?product_id=ETH-BTC")):
        reply = client.get(target)
        assert (reply.status, reply.json()) == (200, []), (target, reply.body)
        assert "cb-after" not in reply.headers and "cb-before" not in reply.headers, target


def test_non_empty_pages_have_both_cursors(alice: SignedClient, anon: SignedClient,
                                           traded: dict[str, str]) -> None:
    trades = anon.get("/products/ETH-USD/trades")
    ids = [t["trade_id"] for t in trades.json()]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)
    assert (trades.headers["cb-before"], trades.headers["cb-after"]) == (str(ids[0]), str(ids[1]))
    first = anon.get("/products/ETH-USD/trades?limit=1")
    assert [t["trade_id"] for t in first.json()] == ids[:1]
    assert first.headers["cb-before"] == first.headers["cb-after"] == str(ids[0])
    second = anon.get(f"/products/ETH-USD/trades?limit=1&after={first.headers['cb-after']}")
    assert [t["trade_id"] for t in second.json()] == ids[1:]
    assert second.headers["cb-before"] == second.headers["cb-after"] == str(ids[1])
    last = anon.get(f"/products/ETH-USD/trades?limit=1&after={second.headers['cb-after']}")
    assert last.json() == [] and "cb-after" not in last.headers
    newer = anon.get(f"/products/ETH-USD/trades?before={ids[1]}")
    assert [t["trade_id"] for t in newer.json()] == ids[:1]
    fills = alice.get("/fills?product_id=ETH-USD")
    assert fills.status == 200 and fills.json()
    assert {"cb-before", "cb-after"} <= set(fills.headers)


# -- candles, books, filters (§6.3, §6.6, §4.4, §5.4) ---------------------------------------------

LONG_RANGE = ("granularity too small for the requested time range. "
              "Count of aggregations requested exceeds 300")


@pytest.mark.parametrize("granularity", ["61", "0", "abc", "-60", "120", "60.0"])
def test_unsupported_granularity(anon: SignedClient, granularity: str) -> None:
    check(anon.get(f"/products/BTC-USD/candles?granularity={granularity}"), 400,
          "Unsupported granularity")


@pytest.mark.parametrize(("granularity", "start", "end"), [
    (60, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
    (60, "2024-01-01T00:00:00Z", "2024-01-01T05:01:00Z"),  # 301 buckets
    (86400, "2020-01-01", "2024-01-01"),
])
def test_too_many_candles(anon: SignedClient, granularity: int, start: str, end: str) -> None:
    check(anon.get(f"/products/BTC-USD/candles?granularity={granularity}"
                   f"&start={quote(start)}&end={quote(end)}"), 400, LONG_RANGE)


def test_300_candles_is_fine(anon: SignedClient) -> None:
    reply = anon.get("/products/BTC-USD/candles?granularity=60&start=2024-01-01T00%3A00%3A00Z"
                     "&end=2024-01-01T05%3A00%3A00Z")
    assert (reply.status, reply.json()) == (200, [])


@pytest.mark.parametrize(("query", "message"), [
    ("start=garbage&end=2024-01-01T00%3A00%3A00Z", "Invalid start"),
    ("start=2024-01-01T00%3A00%3A00Z&end=garbage", "Invalid end"),
])
def test_bad_candle_range(anon: SignedClient, query: str, message: str) -> None:
    check(anon.get(f"/products/BTC-USD/candles?granularity=60&{query}"), 400, message)


@pytest.mark.parametrize("level", ["0", "4", "two", "1.0"])
def test_bad_book_level(anon: SignedClient, level: str) -> None:
    check(anon.get(f"/products/BTC-USD/book?level={level}"), 400, "Invalid level")


@pytest.mark.parametrize(("query", "message"), [
    ("status=bogus", "Invalid status"),
    ("status=open,bogus", "Invalid status"),
    ("sortedBy=bogus", "Invalid sortedBy"),
    ("sorting=up", "Invalid sorting"),
    ("start_date=garbage", "Invalid start_date"),
    ("end_date=garbage", "Invalid end_date"),
    (f"profile_id={BOB_PROFILE}", "Forbidden"),
])
def test_bad_order_filters(alice: SignedClient, query: str, message: str) -> None:
    check(alice.get(f"/orders?{query}"), 403 if message == "Forbidden" else 400, message)


@pytest.mark.parametrize(("query", "message"), [
    ("start_date=garbage", "Invalid start_date"),
    ("end_date=garbage", "Invalid end_date"),
    ("start_date=2024-01-01&end_date=garbage", "Invalid end_date"),
])
def test_bad_ledger_dates(alice: SignedClient, account: str, query: str, message: str) -> None:
    check(alice.get(f"/accounts/{account}/ledger?{query}"), 400, message)


def test_bad_fills_dates(alice: SignedClient) -> None:
    check(alice.get("/fills?product_id=BTC-USD&start_date=x"), 400, "Invalid start_date")
    check(alice.get("/fills?product_id=BTC-USD&end_date=x"), 400, "Invalid end_date")


# -- not found ------------------------------------------------------------------------------------

NOT_FOUND_PUBLIC = ["/no/such/route", "/", "/products/FOO-BAR", "/products/FOO-BAR/book",
                    "/products/FOO-BAR/ticker", "/products/FOO-BAR/trades",
                    "/products/FOO-BAR/candles", "/products/FOO-BAR/stats", "/currencies/XYZ",
                    "/products/BTC-USD/nope", "/orders/x/y"]


@pytest.mark.parametrize("target", NOT_FOUND_PUBLIC)
def test_not_found_public(anon: SignedClient, target: str) -> None:
    check(anon.get(target), 404, "NotFound")


@pytest.mark.parametrize(("method", "target"), [("PUT", "/orders"), ("POST", "/time"),
                                                ("PATCH", "/accounts"), ("DELETE", "/fills")])
def test_unknown_method(anon: SignedClient, method: str, target: str) -> None:
    check(anon.request(method, target), 404, "NotFound")


@pytest.mark.parametrize("target", [f"/orders/{uuid.UUID(int=9)}", f"/accounts/{uuid.UUID(int=9)}",
                                    f"/accounts/{uuid.UUID(int=9)}/ledger",
                                    f"/accounts/{uuid.UUID(int=9)}/holds",
                                    f"/profiles/{BOB_PROFILE}", "/profiles/transfer"])
def test_not_found_private(alice: SignedClient, target: str) -> None:
    check(alice.get(target), 404, "NotFound")


# -- authentication and permissions (§2.5, §2.1; signing edges: test_signing_edges.py) -----------


def test_authentication_strings(venue: InProcessVenue, anon: SignedClient) -> None:
    check(anon.get("/accounts"), 401, "Unauthorized.")
    check(anon.get("/accounts", headers={"CB-ACCESS-KEY": ALICE[0]}), 400,
          "CB-ACCESS-SIGN header is required")
    check(anon.get("/accounts", headers={"CB-ACCESS-SIGN": "x"}), 400,
          "CB-ACCESS-KEY header is required")
    check(anon.get("/accounts", headers={"CB-ACCESS-KEY": ALICE[0], "CB-ACCESS-SIGN": "x"}), 400,
          "CB-ACCESS-TIMESTAMP header is required")
    check(anon.get("/accounts", headers={"CB-ACCESS-KEY": ALICE[0], "CB-ACCESS-SIGN": "x",
                                         "CB-ACCESS-TIMESTAMP": "1"}), 400,
          "CB-ACCESS-PASSPHRASE header is required")
    full = {"CB-ACCESS-KEY": ALICE[0], "CB-ACCESS-SIGN": "x",
            "CB-ACCESS-TIMESTAMP": str(int(venue.clock())), "CB-ACCESS-PASSPHRASE": "alicepass"}
    check(anon.get("/accounts", headers={**full, "CB-ACCESS-KEY": "nope"}), 401,
          "Invalid API Key")
    check(anon.get("/accounts", headers={**full, "CB-ACCESS-TIMESTAMP": "1515261195,2098"}), 400,
          "invalid timestamp")
    check(anon.get("/accounts", headers={**full, "CB-ACCESS-TIMESTAMP": "NaN"}), 401,
          "request timestamp expired")
    check(anon.get("/accounts", headers=full), 401, "invalid signature")
    alice_wrong_pass = venue.client((ALICE[0], ALICE[1], "wrong"))
    check(alice_wrong_pass.get("/accounts"), 401, "Invalid Passphrase")


# -- rate limits (§8.3), on a second venue with the test scenario's limits switched on -------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    text = SCENARIO.read_text()
    assert "rate_limits = false" in text
    scenario = tmp_path_factory.mktemp("limited") / "scenario.toml"
    scenario.write_text(text.replace("rate_limits = false", "rate_limits = true"))
    running = InProcessVenue(scenario)
    yield running
    running.close()


def _until_limited(client: SignedClient, target: str, tries: int = 200) -> Reply:
    for _ in range(tries):
        reply = client.get(target)
        if reply.status != 200:
            return reply
    raise AssertionError(f"{target}: no 429 in {tries} requests")


@pytest.mark.parametrize(("creds", "target", "message"), [
    (None, "/time", "Public rate limit exceeded"),
    (ALICE, "/accounts", "Private rate limit exceeded"),
    (BOB, "/fills?product_id=BTC-USD", "Private rate limit exceeded"),
])
def test_rate_limited(limited: InProcessVenue, creds: Any, target: str, message: str) -> None:
    check(_until_limited(limited.client(creds), target), 429, message)


# -- a number that is expensive to parse must not stall the venue ---------------------------------


def test_tiny_exponent_is_refused_promptly(alice: SignedClient) -> None:
    # The venue runs in this process: its CPU time, unlike wall time, is not stretched by a
    # loaded machine (expanding the exponent naively costs seconds of CPU).
    started = time.process_time()
    reply = alice.post("/orders", {**LIMIT, "price": "1e-2000000"})
    elapsed = time.process_time() - started
    assert reply.status == 400 and reply.json()["message"] in (
        "Invalid price 1e-2000000", "price is too accurate. Smallest unit is 0.01000000")
    assert elapsed < 0.5, f"answered after {elapsed:.1f} s of CPU"


def test_the_server_side_texts() -> None:
    """What a bug answers, and a fault rule by default (docs/testing.md, "Faults"; their
    answers over the wire are in tests/faults)."""
    assert [(e.status, e.format()) for e in (Error.INTERNAL_ERROR, Error.BAD_GATEWAY,
                                             Error.SERVICE_UNAVAILABLE, Error.GATEWAY_TIMEOUT)
            ] == [(500, "Internal server error"), (502, "Bad Gateway"),
                  (503, "Service Unavailable"), (504, "Gateway Timeout")]


def test_the_http_layer_texts() -> None:
    """What the HTTP layer itself answers (sandex.api.guard; over the wire in
    tests/rest/test_guard.py)."""
    assert [(e.status, e.format()) for e in (Error.BAD_REQUEST, Error.BODY_TOO_LARGE,
                                             Error.HEADERS_TOO_LARGE,
                                             Error.TOO_MANY_CONNECTIONS)
            ] == [(400, "Bad request"), (413, "Request body too large"),
                  (431, "Request headers too large"), (429, "Too many connections")]


# -- the account surface: conversions, profile writes, reports (tests/account) -------------------

@pytest.fixture(scope="module")
def accounts_venue() -> Iterator[InProcessVenue]:
    from tests.account.kit import SCENARIO as ACCOUNT_SCENARIO  # USDC, CBETH, a manage key
    venue = InProcessVenue(ACCOUNT_SCENARIO)
    yield venue
    venue.close()


@pytest.fixture(scope="module")
def manager(accounts_venue: InProcessVenue) -> SignedClient:
    from tests.account.kit import TRADER
    return accounts_venue.client(TRADER)


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"from": "USD", "to": "BTC", "amount": "1"}, 400, "Invalid conversion pair"),
    ({"from": "USD", "to": "USD", "amount": "1"}, 400, "Invalid conversion pair"),
    ({"from": "USD", "to": "USDC", "amount": "0"}, 400, "amount must be a positive number"),
    ({"from": "USD", "to": "USDC", "amount": "-5"}, 400, "amount must be a positive number"),
    ({"from": "USD", "to": "USDC", "amount": "abc"}, 400, "amount must be a positive number"),
    ({"from": "USD", "to": "USDC"}, 400, "amount is required"),
    ({"to": "USDC", "amount": "1"}, 400, "from is required"),
    ({"from": 5, "to": "USDC", "amount": "1"}, 400, "Invalid from"),
    ({"from": "USDC", "to": "USD", "amount": "1000000"}, 400, "Insufficient funds"),
    ({"from": "USD", "to": "USDC", "amount": "1", "profile_id": BOB_PROFILE}, 403, "Forbidden"),
])
def test_conversion_reject(manager: SignedClient, body: dict[str, Any], status: int,
                           message: str) -> None:
    rejected(manager, "POST", "/conversions", body, status, message)


def test_stake_wrap_reject(manager: SignedClient) -> None:
    rejected(manager, "POST", "/wrapped-assets/stake-wrap",
             {"from_currency": "USD", "to_currency": "CBETH", "amount": "1"}, 400,
             "Invalid conversion pair")
    rejected(manager, "POST", "/wrapped-assets/stake-wrap",
             {"from_currency": "ETH", "to_currency": "CBETH", "amount": "100000"}, 400,
             "Insufficient funds")


@pytest.mark.parametrize(("body", "message"), [
    ({}, "name is required"),
    ({"name": ""}, "name is required"),
    ({"name": "default"}, "Invalid profile name"),
    ({"name": "Margin"}, "Invalid profile name"),
    ({"name": "x" * 101}, "Invalid profile name"),
    ({"name": "SAVINGS"}, "Profile name already exists"),
    ({"name": 7}, "Invalid name"),
])
def test_profile_create_reject(manager: SignedClient, body: dict[str, Any],
                               message: str) -> None:
    before = manager.get("/profiles").json()
    rejected(manager, "POST", "/profiles", body, 400, message)
    assert manager.get("/profiles").json() == before


def test_profile_limit_and_deactivation_rules(accounts_venue: InProcessVenue) -> None:
    from tests.account.kit import SAVINGS_PROFILE, TRADER, TRADER_PROFILE
    client = InProcessVenue.client(accounts_venue, TRADER)
    default = f"/profiles/{TRADER_PROFILE}"
    rejected(client, "PUT", f"{default}/deactivate", {"to": SAVINGS_PROFILE}, 400,
             "Cannot delete default profile")
    rejected(client, "PUT", default, {"name": "renamed"}, 400, "Invalid profile name")
    rejected(client, "PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate",
             {"to": SAVINGS_PROFILE}, 400, "Invalid to profile")
    rejected(client, "PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate", {"to": BOB_PROFILE},
             400, "Invalid to profile")
    rejected(client, "PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate",
             {"to": TRADER_PROFILE, "profile_id": TRADER_PROFILE}, 400, "Invalid profile_id")
    rejected(client, "PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate", {}, 400,
             "to is required")
    spare = client.post("/profiles", {"name": "spare"}).json()["id"]
    assert client.request("PUT", f"/profiles/{spare}/deactivate",
                          {"to": TRADER_PROFILE}).json() == {}
    rejected(client, "PUT", f"/profiles/{spare}", {"name": "again"}, 400,
             "Profile is not active")
    rejected(client, "PUT", f"/profiles/{spare}/deactivate", {"to": TRADER_PROFILE}, 400,
             "Profile is not active")
    rejected(client, "POST", "/profiles/transfer", {"from": TRADER_PROFILE, "to": spare,
                                                    "currency": "USD", "amount": "1"}, 400,
             "Profile is not active")
    active = sum(p["active"] for p in client.get("/profiles").json())
    for i in range(100 - active):
        assert client.post("/profiles", {"name": f"p{i}"}).status == 200
    rejected(client, "POST", "/profiles", {"name": "one-too-many"}, 400,
             "Maximum number of profiles reached")


@pytest.mark.parametrize(("body", "status", "message"), [
    ({}, 400, "type is required"),
    ({"type": "1099k-transaction-history"}, 400, "Invalid report type"),
    ({"type": "nope"}, 400, "Invalid report type"),
    ({"type": "fills", "format": "xls"}, 400, "Invalid format"),
    ({"type": "fills", "fills": "BTC-USD"}, 400, "Invalid fills"),
    ({"type": "fills", "fills": {"product_id": "NOPE-USD"}}, 400, "Invalid product_id"),
    ({"type": "account", "account_id": "nope"}, 400, "Invalid account_id"),
    ({"type": "fills", "start_date": "yesterday"}, 400, "Invalid start_date"),
    ({"type": "fills", "start_date": "2030-01-01T00:00:00Z",
      "end_date": "2029-01-01T00:00:00Z"}, 400, "Invalid start_date"),
    ({"type": "fills", "email": 5}, 400, "Invalid email"),
    ({"type": "fills", "profile_id": BOB_PROFILE}, 403, "Forbidden"),
])
def test_report_reject(manager: SignedClient, body: dict[str, Any], status: int,
                       message: str) -> None:
    before = manager.get("/reports").json()
    rejected(manager, "POST", "/reports", body, status, message)
    assert manager.get("/reports").json() == before


def test_deactivate_with_open_orders(accounts_venue: InProcessVenue,
                                     manager: SignedClient) -> None:
    from tests.account.kit import SAVER, SAVINGS_PROFILE, TRADER_PROFILE
    saver = InProcessVenue.client(accounts_venue, SAVER)
    order = place(saver, price="10.00", size="1")
    rejected(manager, "PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate", {"to": TRADER_PROFILE},
             400, "Profile has open orders")
    assert saver.delete(f"/orders/{order['id']}").status == 200


def test_too_many_reports(accounts_venue: InProcessVenue) -> None:
    from tests.account.kit import SAVER
    client = InProcessVenue.client(accounts_venue, SAVER)
    for _ in range(3):
        assert client.post("/reports", {"type": "fills", "product_id": "ETH-BTC"}).status == 200
    rejected(client, "POST", "/reports", {"type": "fills", "product_id": "ETH-BTC"}, 400,
             "Too many reports being generated")


# -- the catalogue is complete --------------------------------------------------------------------

NOT_OVER_REST = {
    Error.PROFILE_NOT_FOUND: "orders use the key's profile; transfers check siblings first",
    Error.PROFILE_EXISTS: "administration only",
    Error.PRODUCT_EXISTS: "administration only",
    Error.INVALID_PRODUCT: "administration only",
    Error.INVALID_FEE_RATE: "administration only",
    Error.CLOCK_BACKWARDS: "administration only",
    Error.DUPLICATE_ORDER_ID: "order ids are generated by the node, never sent by clients",
    Error.ORDER_NOT_MODIFIABLE: "FIX's OrderCancelReplaceRequest only: pinned in tests/core "
                                "test_modify.py",
    Error.EXPIRE_TIME_REQUIRES_GTT: "FIX's GTD (ExpireTime(126)) only: pinned in tests/core "
        "test_time_in_force_and_stops.py and tests/fix/test_quickfix.py",
    Error.EXPIRE_TIME_AND_CANCEL_AFTER: "FIX's GTD (ExpireTime(126)) only: pinned in tests/core "
        "test_time_in_force_and_stops.py and tests/fix/test_quickfix.py",
    Error.EXPIRE_TIME_PASSED: "FIX's GTD (ExpireTime(126)) only: pinned in tests/core "
        "test_time_in_force_and_stops.py and tests/fix/test_quickfix.py",
    Error.EXPIRE_TIME_TOO_FAR: "FIX's GTD (ExpireTime(126)) only: pinned in tests/core "
        "test_time_in_force_and_stops.py and tests/fix/test_quickfix.py",
    Error.ADMIN_LOOPBACK_ONLY: "sandex's admin endpoint: pinned in tests/admin",
    Error.METRICS_LOOPBACK_ONLY: "sandex's GET /metrics: pinned in tests/api/test_metrics.py",
    Error.ADMIN_BAD_TOKEN: "sandex's admin endpoint: pinned in tests/admin",
    Error.ADMIN_UNKNOWN_COMMAND: "sandex's admin endpoint: pinned in tests/admin",
    Error.ADMIN_REFUSED: "sandex's admin endpoint: pinned in tests/admin",
    Error.SNAPSHOT_NOT_FOUND: "named snapshots (administration): pinned in tests/snapshots",
    Error.SNAPSHOT_DIVERGED: "named snapshots (administration): pinned in tests/snapshots",
    Error.SNAPSHOT_LIMIT: "named snapshots (administration): pinned in tests/snapshots",
    Error.GATE_FULL: "sandex's gate (a test control): pinned in tests/races",
    Error.GATE_DROPPED: "sandex's gate (a test control): pinned in tests/races",
    Error.REPLAY_RUNNING: "the replay (administration): pinned in tests/replay",
    Error.REPLAY_NOT_LOADED: "the replay (administration): pinned in tests/replay",
    Error.SUPPLY_TOO_LARGE: "a deposit or conversion past a currency's supply bound of 10**21 "
                            "(administration; a REST transfer moves at most 10**12): pinned "
                            "in tests/core/test_bound.py",
    Error.NOT_LEADER: "a cluster's follower (docs/cluster.md): pinned in tests/cluster",
    Error.LEADER_CHANGED: "a cluster's deposed leader (docs/cluster.md): pinned in tests/cluster",
}


FUNDS_TESTS = Path(__file__).parents[2] / "funds" / "test_funds_rest.py"
"""The deposits/withdrawals surface pins its texts there, in its own bad-input table."""
FEED_PREFIX = "FEED_"  # WebSocket-only texts, pinned by tests/feed/test_error_catalogue.py
FIX_PREFIX = "FIX_"  # FIX-only texts, pinned by tests/fix/test_error_catalogue.py


def test_every_rest_error_is_pinned_here() -> None:
    """Each member of ``Error`` that REST can answer appears above as a literal string."""
    literals = set()
    for path in (Path(__file__), FUNDS_TESTS):
        literals |= {node.value for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    literals |= {f"Invalid {f}" for f in ("from", "to")}  # built with an f-string above
    literals |= {f"{n} cursor value is not valid" for n in ("before", "after")}
    missing = []
    for member in Error:
        if member in NOT_OVER_REST or member.name.startswith((FEED_PREFIX, FIX_PREFIX)):
            continue
        pattern = re.compile(re.escape(member.template).replace(r"\{\}", ".+"))
        if not any(pattern.fullmatch(text) for text in literals):
            missing.append(member.name)
    assert not missing, f"no literal test for {missing}"
