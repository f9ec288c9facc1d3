"""Reset and named snapshots on a real server: what connected clients see (the feed closes
with 1012, buckets empty), and the ``sandex snapshot``/``sandex reset`` verbs offline and
online."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from sandex.server import default_scenario
from tests.admin.test_admin_cli import data_dir, sandex
from tests.clock.test_clock_server import admin, serve
from tests.support.feed_kit import feed, of_type
from tests.support.rest_kit import ALICE, RawClient, start_server

__all__ = ["data_dir"]  # the fixture, shared with the admin CLI tests


def test_a_reset_closes_the_feed_with_1012_and_empties_the_buckets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = serve(tmp_path, data, rate_limits=True)  # a virtual clock frozen at 2024-01-01
    try:
        alice = RawClient(server.port, ALICE)
        with feed(server) as ws:
            assert ws.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] == "subscriptions"
            placed = alice.post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                            "price": "1000", "size": "0.01"}).json()
            received = ws.until(of_type("received"))
            assert received["order_id"] == placed["id"]
            statuses = [alice.get("/accounts").status for _ in range(30)]  # 1 + 29: burst 30
            assert statuses == [200] * 29 + [429]
            status, reset = admin(server, data, "reset")
            assert status == 200 and reset["clock"]["frozen"]
            with pytest.raises(ConnectionClosed) as closed:
                ws.until(lambda m: False)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert alice.get(f"/orders/{placed['id']}").status == 404  # gone with the reset
        assert [alice.get("/accounts").status for _ in range(30)] == [200] * 29 + [429]
        with feed(server) as ws:  # a new connection sees the restored sequence
            assert ws.subscribe(["level2"], ["BTC-USD"], creds=ALICE)["type"] == "subscriptions"
            assert ws.until(of_type("snapshot"))["bids"] == []
    finally:
        server.stop()


def test_snapshot_verbs_offline_then_online(capsys: pytest.CaptureFixture[str],
                                            data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    code, start, _ = sandex(capsys, "state", *d)
    assert code == 0 and set(start) == {"position", "state_hash", "time"}
    code, listed, _ = sandex(capsys, "snapshot", "list", *d)
    assert code == 0 and [s["name"] for s in listed] == ["baseline"]
    assert listed[0]["state_hash"] == start["state_hash"]
    code, saved, _ = sandex(capsys, "snapshot", "save", "before-deposit", *d)
    assert code == 0 and saved["state_hash"] == start["state_hash"]
    code, _, _ = sandex(capsys, "deposit", "--profile", "a11ce000-0000-4000-8000-000000000001",
                        "--currency", "USD", "--amount", "5", *d)
    assert code == 0
    code, _, err = sandex(capsys, "snapshot", "restore", "nope", *d)
    assert (code, err) == (2, "sandex: Snapshot nope not found\n")
    code, restored, _ = sandex(capsys, "snapshot", "restore", "before-deposit", *d)
    assert code == 0 and restored["state_hash"] == start["state_hash"]
    server = start_server(data_dir=data_dir)
    try:
        alice = RawClient(server.port, ALICE)
        usd = next(a for a in alice.get("/accounts").json() if a["currency"] == "USD")
        assert usd["balance"] == "1000000.0000000000000000"
        alice.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "10",
                               "size": "1"})
        code, moved, _ = sandex(capsys, "state", *d)
        assert code == 0 and moved["state_hash"] != start["state_hash"]
        code, reset, _ = sandex(capsys, "reset", *d)
        assert code == 0 and reset["state_hash"] == start["state_hash"]
        assert alice.get("/orders").json() == []
        code, deleted, _ = sandex(capsys, "snapshot", "delete", "before-deposit", *d)
        assert code == 0 and deleted == {"name": "before-deposit", "deleted": True}
        code, listed, _ = sandex(capsys, "snapshot", "list", *d)
        assert [s["name"] for s in listed] == ["baseline"]
    finally:
        server.stop()


def test_the_demo_trades_the_same_after_every_reset(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{default_scenario().read_text()}\n[clock]\nmode = "virtual"\n'
                        'start = "2024-01-01T00:00:00Z"\nrate = 0\n')
    data = tmp_path / "data"
    server = start_server("--seed", "7", scenario=scenario, data_dir=data)  # seeded ids
    try:
        status, moved = admin(server, data, "clock.advance", by="30s")
        assert status == 200 and moved["fired"]["demo_ticks"] >= 30
        assert RawClient(server.port).get("/products/BTC-USD/trades").status == 200
        status, reset = admin(server, data, "reset")
        assert status == 200 and reset["clock"]["now"].startswith("2024-01-01T00:00:00.")
        status, again = admin(server, data, "clock.advance", by="30s")
        assert status == 200 and again["fired"]["demo_ticks"] >= 30
        assert again["now"].startswith("2024-01-01T00:00:30.")
        book = RawClient(server.port).get("/products/BTC-USD/book?level=2").json()
        assert book["bids"] and book["asks"]  # the maker quotes again on the restored book
        first_run = admin(server, data, "state", method="GET")[1]["state_hash"]
        admin(server, data, "reset")
        admin(server, data, "clock.advance", by="30s")
        second_run = admin(server, data, "state", method="GET")[1]["state_hash"]
        assert second_run == first_run  # the same 30 s of demo trading after each reset
    finally:
        server.stop()
