"""Exactly-once ``client_oid`` (a deliberate improvement on Coinbase, which does not
deduplicate): a retried ``POST /orders`` answers with the order already placed, also after a
restart, and ``GET /orders/client:<oid>`` says what happened to a request that timed out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.support.clients_kit import make_cbpro, make_ccxt, new_oid, raw_accounts
from tests.support.rest_kit import ALICE, BOB, RawClient, start_server


def test_a_retried_order_is_placed_once_across_a_restart(tmp_path: Path) -> None:
    server = start_server(data_dir=tmp_path)
    oid = new_oid()
    try:
        exchange = make_ccxt(server)
        first = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 19000,
                                      {"client_oid": oid})
        retry = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 19000,
                                      {"client_oid": oid})
        assert retry["id"] == first["id"]
        assert retry["clientOrderId"] == oid and retry["status"] == "open"
        # held once: 0.5 x 19000, plus the 0.6 % taker fee
        assert raw_accounts(server, ALICE)["USD"]["hold"] == Decimal("9557")
        open_orders = exchange.fetch_open_orders("BTC/USD")
        assert [o["id"] for o in open_orders] == [first["id"]]
    finally:
        server.stop()
    assert server.process.returncode == 0

    server = start_server(data_dir=tmp_path)
    try:
        client = make_cbpro(server)
        again = client.place_limit_order("BTC-USD", "buy", price="19000.00", size="0.5",
                                         client_oid=oid)
        assert again["id"] == first["id"] and again["client_oid"] == oid
        assert again["price"] == "19000.00000000" and again["size"] == "0.50000000"
        lookup = RawClient(server.port, ALICE).get(f"/orders/client:{oid}")
        assert lookup.status == 200 and lookup.json()["id"] == first["id"]
        assert raw_accounts(server, ALICE)["USD"]["hold"] == Decimal("9557")
    finally:
        server.stop()


def test_a_retry_after_the_order_filled_reports_the_fill(tmp_path: Path) -> None:
    server = start_server(data_dir=tmp_path)
    oid = new_oid()
    try:
        alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
        order = {"product_id": "BTC-USD", "side": "buy", "price": "21000.00", "size": "0.25",
                 "client_oid": oid}
        placed = alice.post("/orders", order)
        assert placed.status == 200
        sold = bob.post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                    "price": "21000.00", "size": "0.25"})
        assert sold.status == 200
        retry = alice.post("/orders", order)
        assert retry.status == 200
        body = retry.json()
        assert (body["id"], body["status"], body["filled_size"], body["settled"]) == (
            placed.json()["id"], "done", "0.25000000", True)
        assert body["done_reason"] == "filled"
    finally:
        server.stop()
