"""QuickFIX validating everything against sandex's own data dictionaries
(``sandex/api/fix/spec``: UseDataDictionary=Y, ValidateUserDefinedFields=Y, fields out of
order and empty values checked): logon, place, fill, cancel, replace and market data all
reach the application (a message the dictionary refuses would be answered with a Reject
and never delivered, so each ``expect`` below is the proof)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.conftest import Rest
from tests.fix.test_market_data import entries
from tests.support.fix_kit import QuickFixClient, fix, new_id
from tests.support.rest_kit import ALICE, BOB, VIEWER, Server

pytestmark = pytest.mark.skipif(
    fix is None, reason="quickfix-ssl (the test extras' FIX engine) is not installed")


def test_order_entry_validates_against_the_sandex_dictionary(fix_port: int, tmp_path: Path,
                                                             rest: Rest) -> None:
    bob = QuickFixClient(fix_port, BOB, tmp_path / "strict", strict=True,
                         extra_logon=[(8013, "N")])
    bob.start()
    try:
        cl = new_id()
        bob.send("D", [(11, cl), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "200.00"),
                       (38, "1"), (59, "1"), (7928, "D")])
        ack = bob.expect("8")
        assert (ack[150], ack[39], ack[11]) == ("0", "0", cl)
        rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                     "price": "200.00", "size": "0.25"})
        fill = bob.expect("8")  # 1003, 1057 and the fee group are in the dictionary
        assert (fill[150], fill[39], fill[1003] != "", fill[1057], fill[136], fill[891]) == (
            "F", "1", True, "N", "1", "0")
        replaced_cl = new_id()
        bob.send("G", [(11, replaced_cl), (37, ack[37]), (41, cl), (55, "BTC-USD"),
                       (40, "2"), (44, "201.00"), (38, "2")])
        replaced = bob.expect("8")
        assert (replaced[150], replaced[39], replaced[41], replaced[151]) == (
            "5", "5", cl, "1.75")
        bob.send("G", [(11, new_id()), (37, new_id()), (41, cl), (55, "BTC-USD"),
                       (40, "2"), (44, "201.00"), (38, "2")])
        assert bob.expect("9")[434] == "2"
        bob.send("H", [(37, ack[37]), (55, "BTC-USD")])
        assert bob.expect("8")[150] == "I"
        cancel = new_id()
        bob.send("F", [(11, cancel), (41, replaced_cl), (55, "BTC-USD")])
        done = bob.expect("8")
        assert (done[150], done[39], done[11], done[41]) == ("4", "4", cancel, replaced_cl)
        bob.send("D", [(11, new_id()), (55, "NOPE-USD"), (54, "1"), (40, "2"), (44, "1"),
                       (38, "1"), (59, "1")])
        assert bob.expect("8")[150] == "8"
        gtd = new_id()  # 59=6 with 126: refused, then in the ack and the cancel's report
        bob.send("D", [(11, gtd), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "100.00"),
                       (38, "1"), (59, "6"), (126, "20990101-00:00:00.000")])
        refused = bob.expect("8")
        assert (refused[150], refused[58]) == ("8", "expire_time must be at most 90 days ahead")
        expire = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
        bob.send("D", [(11, gtd), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "100.00"),
                       (38, "1"), (59, "6"), (126, expire)])
        ack = bob.expect("8")
        assert (ack[150], ack[59], ack[126]) == ("0", "6", expire)
        bob.send("F", [(11, new_id()), (41, gtd), (55, "BTC-USD")])
        done = bob.expect("8")
        assert (done[150], done[39], done[59], done[126]) == ("4", "4", "6", expire)
        assert bob.logged_on.is_set()
    finally:
        bob.stop()
        rest(ALICE).delete("/orders")


def test_market_data_validates_against_the_sandex_dictionary(fix_server: tuple[Server, int],
                                                             tmp_path: Path,
                                                             rest: Rest) -> None:
    server = fix_server[0]
    resting = rest(BOB).post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                         "price": "150.00", "size": "0.4"}).json()
    client = QuickFixClient(server.md_port, VIEWER, tmp_path / "md",  # type: ignore[attr-defined]
                            strict=True)
    client.start()
    try:
        client.send("x", [(320, "list"), (559, "4")])
        assert client.expect("y")[560] == "0"
        request = fix.Message()
        request.getHeader().setField(fix.BeginString("FIXT.1.1"))
        request.getHeader().setField(fix.MsgType("V"))
        for tag, value in ((262, "strict-l2"), (263, "1"), (264, "0"), (266, "Y")):
            request.setField(tag, value)
        for kind in ("0", "1", "2"):
            group = fix.Group(267, 269)
            group.setField(269, kind)
            request.addGroup(group)
        symbol = fix.Group(146, 55)
        symbol.setField(55, "BTC-USD")
        request.addGroup(symbol)
        client.send_raw(request)
        snapshot = client.expect("W")
        book = rest(BOB).get("/products/BTC-USD/book?level=2").json()
        got = [(e[269], Decimal(e[270]), Decimal(e[271]), int(e[346]))
               for e in entries(client.last_fields, 269)]
        assert got == [(side, Decimal(p), Decimal(s), n)
                       for side, rows in (("0", book["bids"]), ("1", book["asks"]))
                       for p, s, n in rows]
        assert int(snapshot[83]) == book["sequence"]
        rest(BOB).delete(f"/orders/{resting['id']}")
        gone = client.expect("X")
        assert (gone[279], gone[269], gone[270], gone[271], int(gone[83])) == (
            "2", "0", "150", "0", book["sequence"] + 1)
    finally:
        client.stop()
        rest(BOB).delete("/orders")
