"""OrderCancelReplaceRequest (35=G) with QuickFIX against a real ``sandex serve``: queue
priority proven by which order fills, fills carried over, the REST view, the feed's
``change`` and level 2, and every refusal as an OrderCancelReject ``434=2``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fix.conftest import Rest
from tests.support.feed_kit import feed, of_type
from tests.support.fix_kit import QuickFixClient, fix, new_id
from tests.support.rest_kit import ALICE, BOB, BOB_PROFILE, Server

pytestmark = [pytest.mark.skipif(
    fix is None, reason="quickfix-ssl (the test extras' FIX engine) is not installed"),
    pytest.mark.usefixtures("clean_orders")]


def place(bob: QuickFixClient, side: str, price: str, size: str) -> tuple[str, str]:
    """A FIX limit order, acknowledged: ``(ClOrdID, OrderID)``."""
    cl = new_id()
    bob.send("D", [(11, cl), (55, "BTC-USD"), (54, "1" if side == "buy" else "2"), (40, "2"),
                   (44, price), (38, size), (59, "1")])
    ack = bob.expect("8", where={11: cl})
    assert ack[150] == "0"
    return cl, ack[37]


def replace(bob: QuickFixClient, order_id: str, orig: str, price: str, size: str,
            **extra: str) -> str:
    cl = new_id()
    body = [(11, cl), (37, order_id), (41, orig), (55, "BTC-USD"), (54, "1"), (40, "2"),
            (38, size), (44, price)]
    bob.send("G", body + [(int(tag[1:]), value) for tag, value in extra.items()])
    return cl


def sell(rest: Rest, price: str, size: str) -> dict[str, Any]:
    reply = rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                         "price": price, "size": size})
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def test_size_down_keeps_priority_and_the_rest_view_follows(bob: QuickFixClient,
                                                            rest: Rest) -> None:
    first_cl, first = place(bob, "buy", "100.00", "2")
    _, second = place(bob, "buy", "100.00", "1")
    new_cl = replace(bob, first, first_cl, "100.00", "1.5")
    replaced = bob.expect("8")
    assert (replaced[150], replaced[39], replaced[11], replaced[41], replaced[37]) == (
        "5", "5", new_cl, first_cl, first)
    assert (replaced[38], replaced[44], replaced[14], replaced[151]) == ("1.5", "100", "0",
                                                                        "1.5")
    order = rest(BOB).get(f"/orders/{first}").json()
    assert (order["price"], order["size"], order["status"]) == (
        "100.00000000", "1.50000000", "open")
    sell(rest, "100.00", "1")
    fill = bob.expect("8")  # the modified order is still first in the queue
    assert (fill[150], fill[39], fill[37], fill[11], fill[32], fill[151]) == (
        "F", "1", first, new_cl, "1", "0.5")
    level = rest(BOB).get("/products/BTC-USD/book?level=3").json()["bids"]
    assert [o[2] for o in level] == [first, second]


def test_size_up_and_a_new_price_lose_priority(bob: QuickFixClient, rest: Rest) -> None:
    a_cl, a = place(bob, "buy", "101.00", "1")
    _, b = place(bob, "buy", "101.00", "1")
    a_cl2 = replace(bob, a, a_cl, "101.00", "2")
    assert bob.expect("8")[150] == "5"
    sell(rest, "101.00", "1")
    fill = bob.expect("8")
    assert (fill[150], fill[39], fill[37]) == ("F", "2", b)  # b is now first
    _, c = place(bob, "buy", "99.00", "1")
    replace(bob, a, a_cl2, "99.00", "2")
    moved = bob.expect("8")
    assert (moved[150], moved[44], moved[38], moved[151]) == ("5", "99", "2", "2")
    level = rest(BOB).get("/products/BTC-USD/book?level=3").json()["bids"]
    assert [(o[0], o[2]) for o in level] == [("99", c), ("99", a)]
    assert rest(BOB).get(f"/orders/{a}").json()["price"] == "99.00000000"


def test_the_feed_announces_the_modify_and_level2_stays_equal_to_rest(
        fix_server: tuple[Server, int], bob: QuickFixClient, rest: Rest) -> None:
    server = fix_server[0]
    with feed(server) as full, feed(server) as l2:
        full.subscribe(["full"], ["BTC-USD"], creds=BOB)
        l2.subscribe(["level2"], ["BTC-USD"], creds=BOB)
        snapshot = l2.until(of_type("snapshot"))
        bids = {p: s for p, s in snapshot["bids"]}
        cl, order = place(bob, "buy", "102.00", "1")
        place(bob, "buy", "98.00", "0.5")
        replace(bob, order, cl, "98.00", "0.75")
        assert bob.expect("8")[150] == "5"
        change = full.until(lambda m: m["type"] == "change")
        assert {k: v for k, v in change.items() if k not in ("time", "sequence")} == {
            "type": "change", "reason": "modify_order", "order_id": order, "side": "buy",
            "product_id": "BTC-USD", "old_size": "1.00000000", "new_size": "0.75000000",
            "old_price": "102.00000000", "new_price": "98.00000000",
            "profile_id": BOB_PROFILE, "user_id": "b0b000000000000000000002"}
        for _ in range(3):  # 102 opened; 98 opened; the modify moves 102 -> 98
            update = l2.until(of_type("l2update"))
            for side, price, size in update["changes"]:
                assert side == "buy"
                bids[price] = size
        assert update["changes"] == [["buy", "98", "1.25"], ["buy", "102", "0"]]
        book = rest(BOB).get("/products/BTC-USD/book?level=2").json()
        assert [[p, s] for p, s in sorted(((p, s) for p, s in bids.items()
                                           if float(s) > 0), key=lambda e: -float(e[0]))] == [
            [p, s] for p, s, _ in book["bids"]]
        assert book["sequence"] == change["sequence"]


def test_a_crossing_replace_fills_and_the_remainder_rests(bob: QuickFixClient,
                                                          rest: Rest) -> None:
    ask = sell(rest, "104.00", "0.5")
    cl, order = place(bob, "buy", "103.50", "1")
    new_cl = replace(bob, order, cl, "104.00", "1")
    replaced = bob.expect("8")
    assert (replaced[150], replaced[39], replaced[44], replaced[151]) == ("5", "5", "104", "1")
    fill = bob.expect("8")
    assert (fill[150], fill[39], fill[11], fill[31], fill[32], fill[151], fill[1057]) == (
        "F", "1", new_cl, "104", "0.5", "0.5", "Y")
    view = rest(BOB).get(f"/orders/{order}").json()
    assert (view["status"], view["price"], view["filled_size"], view["size"]) == (
        "open", "104.00000000", "0.50000000", "1.00000000")
    assert rest(ALICE).get(f"/orders/{ask['id']}").json()["status"] == "done"
    bids = rest(BOB).get("/products/BTC-USD/book?level=3").json()["bids"]
    assert bids[0] == ["104", "0.5", order]


def test_replace_of_a_partial_fill_then_below_the_fills_cancels(bob: QuickFixClient,
                                                                rest: Rest) -> None:
    cl, order = place(bob, "buy", "105.00", "1")
    sell(rest, "105.00", "0.4")
    assert bob.expect("8")[151] == "0.6"
    cl2 = replace(bob, order, cl, "105.00", "0.8")
    replaced = bob.expect("8")
    assert (replaced[150], replaced[39], replaced[14], replaced[38], replaced[151]) == (
        "5", "5", "0.4", "0.8", "0.4")
    cl3 = replace(bob, order, cl2, "105.00", "0.3")
    done = bob.expect("8")
    assert (done[150], done[39], done[11], done[41], done[58], done[14], done[151]) == (
        "4", "4", cl3, cl2, "107:Broker", "0.4", "0")
    view = rest(BOB).get(f"/orders/{order}").json()
    assert (view["status"], view["done_reason"], view["filled_size"]) == (
        "done", "canceled", "0.40000000")


def test_refused_replaces_change_nothing(bob: QuickFixClient, rest: Rest) -> None:
    cl, order = place(bob, "buy", "106.00", "1")
    replace(bob, new_id(), cl, "106.00", "1")
    unknown = bob.expect("9")
    assert (unknown[434], unknown[102], unknown[39], unknown[58]) == (
        "2", "1", "8", "order not found")
    replace(bob, order, cl, "106.00", "100000")
    poor = bob.expect("9")
    assert (poor[434], poor[102], poor[37], poor[41], poor[58]) == (
        "2", "2", order, cl, "Insufficient funds")
    view = rest(BOB).get(f"/orders/{order}").json()
    assert (view["price"], view["size"]) == ("106.00000000", "1.00000000")
    other = rest(BOB).post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                       "price": "107.00", "size": "1"}).json()
    replace(bob, other["id"], new_id(), "107.00", "0.5")
    elsewhere = bob.expect("9")
    assert (elsewhere[434], elsewhere[102], elsewhere[58]) == (
        "2", "2", "OrderCancelReplaceRequest must be sent on the connection that placed "
        "the order")
    replace(bob, order, cl, "106.001", "1")
    assert bob.expect("9")[58] == "price is too accurate. Smallest unit is 0.01000000"
    bob.send("G", [(11, new_id()), (37, order), (41, cl), (55, "BTC-USD"), (40, "2"),
                   (44, "106.00")])
    assert bob.expect("9")[58] == "Required tag missing: OrderQty(38)"
    assert rest(BOB).get(f"/orders/{other['id']}").json()["size"] == "1.00000000"
