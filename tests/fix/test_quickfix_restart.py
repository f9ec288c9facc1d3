"""Orders placed over FIX before a venue restart still get their ExecutionReports: the
key's first session after the restart adopts the profile's live orders (QuickFIX, a real
``sandex serve`` stopped and started again on the same data dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fix_kit import QuickFixClient, fix, new_id, start_fix_server
from tests.support.rest_kit import ALICE, BOB, RawClient

pytestmark = pytest.mark.skipif(
    fix is None, reason="quickfix-ssl (the test extras' FIX engine) is not installed")


def test_reports_of_orders_placed_before_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server, port = start_fix_server(data_dir=data)
    try:
        before = QuickFixClient(port, BOB, tmp_path / "before", extra_logon=[(8013, "N")])
        before.start()
        cl = new_id()
        before.send("D", [(11, cl), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "300.00"),
                          (38, "1"), (59, "1")])
        order_id = before.expect("8")[37]
        before.stop()
    finally:
        server.stop()
    server, port = start_fix_server(data_dir=data)
    try:
        after = QuickFixClient(port, BOB, tmp_path / "after")
        after.start()
        try:
            assert RawClient(server.port, ALICE).post("/orders", {
                "product_id": "BTC-USD", "side": "sell", "price": "300.00",
                "size": "0.4"}).status == 200
            fill = after.expect("8")
            assert (fill[150], fill[39], fill[11], fill[37], fill[32], fill[14],
                    fill[151]) == ("F", "1", cl, order_id, "0.4", "0.4", "0.6")
            cancel = new_id()
            after.send("F", [(11, cancel), (37, order_id), (55, "BTC-USD")])
            done = after.expect("8")
            assert (done[150], done[39], done[11], done[41], done[151]) == (
                "4", "4", cancel, cl, "0")
        finally:
            after.stop()
    finally:
        server.stop()
