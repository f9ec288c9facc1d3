"""Market data with QuickFIX (``quickfix-ssl``): the snapshot equals ``GET /book?level=3`` and
the increments that follow carry the feed's sequence numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.conftest import Rest
from tests.support.fix_kit import QuickFixClient, fix
from tests.support.rest_kit import BOB, VIEWER, Server

pytestmark = pytest.mark.skipif(
    fix is None, reason="quickfix-ssl (the test extras' FIX engine) is not installed")


def test_snapshot_and_increments_with_quickfix(fix_server: tuple[Server, int], tmp_path: Path,
                                               rest: Rest) -> None:
    server = fix_server[0]
    bob = rest(BOB)
    resting = bob.post("/orders", {"product_id": "ETH-USD", "side": "sell",
                                   "price": "7000.00", "size": "0.3"}).json()
    client = QuickFixClient(server.md_port, VIEWER, tmp_path / "md")  # type: ignore[attr-defined]
    client.start()
    try:
        request = fix.Message()
        request.getHeader().setField(fix.BeginString("FIXT.1.1"))
        request.getHeader().setField(fix.MsgType("V"))
        request.setField(262, "qf-md")
        request.setField(263, "1")
        request.setField(146, "1")
        group = fix.Group(146, 55)
        group.setField(55, "ETH-USD")
        request.addGroup(group)
        client.send_raw(request)
        snapshot = client.expect("W")
        book = bob.get("/products/ETH-USD/book?level=3").json()
        assert int(snapshot[83]) == book["sequence"]
        assert int(snapshot[268]) == len(book["bids"]) + len(book["asks"])
        asks = [(Decimal(p), Decimal(s), i) for p, s, i in book["asks"]]
        assert (Decimal("7000"), Decimal("0.3"), resting["id"]) in asks
        bob.delete(f"/orders/{resting['id']}")
        done = client.expect("X")
        assert (done[279], done[278], done[58], int(done[83])) == (
            "2", resting["id"], "CANCELED", book["sequence"] + 1)
    finally:
        client.stop()
        bob.delete("/orders")
