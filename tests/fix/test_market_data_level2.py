"""FIX market data level 2 (AggregatedBook(266)=Y) and trades against a real ``sandex
serve``: a book built from the snapshot and the increments equals ``GET /book?level=2``
after places, a partial fill, a cancel and a modify, with the feed's sequence numbers."""

from __future__ import annotations

import http.client
import json
from decimal import Decimal
from pathlib import Path

from tests.fix.conftest import Rest
from tests.fix.test_market_data import entries, md_logon
from tests.support.fix_kit import RawFix, new_id, start_fix_server
from tests.support.rest_kit import ALICE, BOB, VIEWER, Server

Book = dict[tuple[str, Decimal], tuple[Decimal, int]]  # (side, price) -> (size, orders)
LEVEL2 = [(264, "0"), (266, "Y"), (267, "3"), (269, "0"), (269, "1"), (269, "2")]


def subscribe(client: RawFix, request: str, symbol: str,
              extra: list[tuple[int, str]]) -> None:
    client.send("V", [(262, request), (263, "1"), *extra, (146, "1"), (55, symbol)])


def rest_book(rest: Rest, symbol: str) -> tuple[Book, int]:
    book = rest(BOB).get(f"/products/{symbol}/book?level=2").json()
    levels = {(side, Decimal(p)): (Decimal(s), n) for side, rows in (("0", book["bids"]),
                                                                     ("1", book["asks"]))
              for p, s, n in rows}
    return levels, book["sequence"]


def follow(client: RawFix, book: Book, sequence: int, upto: int,
           trades: list[dict[int, str]]) -> int:
    """Apply increments to ``book`` until RptSeq reaches ``upto``; the last RptSeq."""
    while True:
        if sequence < upto:
            update = client.expect("X")
        else:  # the last number may cover more than one level (a modify): take them all
            late = client.read(0.5)
            if late is None:
                return sequence
            if late[35] == "0":
                continue
            update = late
            assert (update[35], int(update[83])) == ("X", upto), update
        assert update[268] == "1"
        rpt = int(update[83])
        assert rpt >= sequence  # a modify may change two levels under one number
        sequence = rpt
        if update[269] == "2":
            trades.append(update)
            continue
        key = (update[269], Decimal(update[270]))
        if update[279] == "2":
            assert key in book and update[271] == "0"
            del book[key]
        else:
            assert (key in book) == (update[279] == "1"), update
            book[key] = (Decimal(update[271]), int(update[346]))


def test_level2_snapshot_and_increments_equal_rest_level2(fix_server: tuple[Server, int],
                                                          fix_port: int, rest: Rest) -> None:
    bob = rest(BOB)
    for side, price, size in (("buy", "100.00", "1"), ("buy", "100.00", "0.5"),
                              ("buy", "99.00", "2"), ("sell", "110.00", "1")):
        assert bob.post("/orders", {"product_id": "BTC-USD", "side": side, "price": price,
                                    "size": size}).status == 200
    client = md_logon(fix_server[0].md_port, VIEWER)  # type: ignore[attr-defined]
    try:
        _level2(client, fix_port, rest)
    finally:
        client.close()
        bob.delete("/orders")


def _level2(client: RawFix, fix_port: int, rest: Rest) -> None:
    bob, alice = rest(BOB), rest(ALICE)
    subscribe(client, "l2", "BTC-USD", LEVEL2)
    snapshot = client.expect("W")
    want, sequence = rest_book(rest, "BTC-USD")
    assert (snapshot[262], snapshot[55], int(snapshot[83]), snapshot[893]) == (
        "l2", "BTC-USD", sequence, "Y")
    book: Book = {(e[269], Decimal(e[270])): (Decimal(e[271]), int(e[346]))
                  for e in entries(client.last_fields, 269)}
    assert book == want
    assert book[("0", Decimal("100"))] == (Decimal("1.5"), 2)
    assert 278 not in client.last_fields  # aggregated: no order ids
    trades: list[dict[int, str]] = []
    alice.post("/orders", {"product_id": "BTC-USD", "side": "sell", "price": "100.00",
                           "size": "0.7"})  # a partial fill of the level at 100
    doomed = next(o for o in bob.get("/orders").json() if o["price"] == "99.00000000")
    bob.delete(f"/orders/{doomed['id']}")
    order_entry = RawFix(fix_port)
    order_entry.logon(BOB)
    cl = new_id()
    order_entry.send("D", [(11, cl), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "101.00"),
                           (38, "1"), (59, "1")])
    order_id = order_entry.expect("8")[37]
    order_entry.send("G", [(11, new_id()), (37, order_id), (41, cl), (55, "BTC-USD"),
                           (40, "2"), (44, "105.00"), (38, "0.25")])
    assert order_entry.expect("8")[150] == "5"
    want, sequence = rest_book(rest, "BTC-USD")
    follow(client, book, int(snapshot[83]), sequence, trades)
    assert book == want
    assert book[("0", Decimal("105"))] == (Decimal("0.25"), 1)  # the modify moved it
    assert ("0", Decimal("101")) not in book and ("0", Decimal("99")) not in book
    assert book[("0", Decimal("100"))] == (Decimal("0.8"), 2)  # 0.3 and 0.5 left
    assert [(t[269], t[270], t[271], t[5797]) for t in trades] == [("2", "100", "0.7", "2")]
    order_entry.close()


def test_trades_only_and_what_level2_refuses(fix_server: tuple[Server, int],
                                             rest: Rest) -> None:
    client = md_logon(fix_server[0].md_port, VIEWER)  # type: ignore[attr-defined]
    try:
        _refusals_and_trades(client, rest)
    finally:
        client.close()
        rest(BOB).delete("/orders")


def _refusals_and_trades(client: RawFix, rest: Rest) -> None:
    subscribe(client, "bad-type", "BTC-USD", [(267, "1"), (269, "4")])
    refused = client.expect("Y")
    assert (refused[262], refused[281], refused[58]) == (
        "bad-type", "8", "Unsupported MDEntryType(269)=4")
    subscribe(client, "bad-depth", "BTC-USD", [(264, "10"), (266, "Y")])
    refused = client.expect("Y")
    assert (refused[281], refused[58]) == (
        "5", "Unsupported MarketDepth(264)=10: level 2 is the full book (0)")
    subscribe(client, "trades", "BTC-USD", [(267, "1"), (269, "2")])
    rest(BOB).post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "120.00",
                               "size": "0.1"})
    rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "sell", "price": "120.00",
                                 "size": "0.1"})
    trade = client.expect("X")  # no W, and no book entries before the trade
    assert (trade[262], trade[269], trade[270], trade[271], trade[5797]) == (
        "trades", "2", "120", "0.1", "2")


def test_security_status_follows_the_product_status(tmp_path: Path) -> None:
    server, _ = start_fix_server(data_dir=tmp_path / "data")
    try:
        client = md_logon(server.md_port, VIEWER)  # type: ignore[attr-defined]
        subscribe(client, "status", "BTC-USD", [(266, "Y")])
        assert client.expect("W")[262] == "status"
        token = (tmp_path / "data" / "admin.token").read_text().strip()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/admin/product.set-status",
                     json.dumps({"id": "BTC-USD", "status": "cancel_only"}),
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert conn.getresponse().status == 200
        status = client.expect("f")
        assert (status[262], status[55], status[1682], status[969], status[29003]) == (
            "status", "BTC-USD", "cancel_only", "0.01", "0.00000001")
        client.close()
    finally:
        server.stop()
