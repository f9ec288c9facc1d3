"""The virtual clock through a real server: admin moves, frozen buckets, GTT expiry, restart.

Each test runs ``sandex serve`` on a data dir whose scenario starts a virtual clock frozen at
2024-01-01 (clients still sign with their real clock: ``auth_window = "wall"``).
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from sandex.server import default_scenario
from sandex.timefmt import iso, parse_iso
from tests.support.clients_kit import make_cbpro, make_ccxt
from tests.support.feed_kit import feed, of_type
from tests.support.rest_kit import ALICE, BOB, SCENARIO, RawClient, Server, start_server

START = "2024-01-01T00:00:00Z"
MINUTE_US = 60_000_000


def scenario(tmp_path: Path, rate_limits: bool = False) -> Path:
    text = SCENARIO.read_text().replace("rate_limits = false",
                                        f"rate_limits = {str(rate_limits).lower()}")
    path = tmp_path / "scenario.toml"
    path.write_text(f'{text}\n[clock]\nmode = "virtual"\nstart = "{START}"\nrate = 0\n')
    return path


def admin(server: Server, data_dir: Path, command: str, method: str = "POST",
          **args: Any) -> tuple[int, Any]:
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, f"/admin/{command}", json.dumps(args) if method == "POST" else None,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    return reply.status, json.loads(reply.read())


def get_admin(server: Server, data_dir: Path, command: str) -> tuple[int, Any]:
    return admin(server, data_dir, command, method="GET")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def serve(tmp_path: Path, data_dir: Path, rate_limits: bool = False) -> Server:
    return start_server(scenario=scenario(tmp_path, rate_limits), data_dir=data_dir)


def test_a_frozen_clock_refills_no_bucket_until_it_moves(tmp_path: Path, data_dir: Path) -> None:
    server = serve(tmp_path, data_dir, rate_limits=True)
    try:
        alice = RawClient(server.port, ALICE)
        statuses = [alice.get("/accounts").status for _ in range(31)]
        assert statuses == [200] * 30 + [429]  # private burst: 30
        refused = alice.get("/accounts")
        assert (refused.status, refused.json()) == (429, {"message": "Private rate limit exceeded"})
        status, clock = admin(server, data_dir, "clock.advance", by="1s")  # 15 tokens a second
        assert status == 200 and clock["now"] == iso(clock_us(clock))
        statuses = [alice.get("/accounts").status for _ in range(16)]
        assert statuses == [200] * 15 + [429]
    finally:
        server.stop()


def clock_us(clock: dict[str, Any]) -> int:
    parsed = parse_iso(clock["now"])
    assert parsed is not None
    return parsed


def test_gtt_orders_expire_at_their_expire_time_under_advance(tmp_path: Path,
                                                             data_dir: Path) -> None:
    server = serve(tmp_path, data_dir)
    try:
        ccxt_bob = make_ccxt(server, BOB)
        cbpro_alice = make_cbpro(server, ALICE)
        with feed(server) as ws:
            assert ws.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] == "subscriptions"
            first = ccxt_bob.create_order("BTC/USD", "limit", "buy", 0.01, 1000,
                                          {"time_in_force": "GTT", "cancel_after": "min"})
            status, _ = admin(server, data_dir, "clock.advance", by="20s")
            assert status == 200
            second = cbpro_alice.place_limit_order("BTC-USD", "buy", price="1001", size="0.01",
                                                   time_in_force="GTT", cancel_after="min")
            first_at = parse_iso(first["info"]["created_at"])
            second_at = parse_iso(second["created_at"])
            assert first_at is not None and second_at is not None
            _, before = admin(server, data_dir, "clock")
            assert before["next_due"] == {"kind": "expiry", "at": iso(first_at + MINUTE_US)}
            status, clock = admin(server, data_dir, "clock.advance", by="2h")
            assert status == 200 and clock["fired"] == {"expiries": 2, "demo_ticks": 0}
            assert clock_us(clock) == clock_us(before) + 7200 * 1_000_000
            assert clock["next_due"] is None
            done = ws.take(2, of_type("done"))
        assert [(m["order_id"], m["time"], m["reason"]) for m in done] == [
            (first["id"], iso(first_at + MINUTE_US), "canceled"),
            (second["id"], iso(second_at + MINUTE_US), "canceled")]
        gone = RawClient(server.port, BOB).get(f"/orders/{first['id']}")
        assert gone.status == 404  # an order canceled unfilled is purged, as Coinbase does
        assert cbpro_alice.get_order(second["id"]) == {"message": "NotFound"}
    finally:
        server.stop()


def test_bad_clock_input_is_a_400_message_and_changes_nothing(tmp_path: Path,
                                                             data_dir: Path) -> None:
    server = serve(tmp_path, data_dir)
    try:
        _, before = admin(server, data_dir, "clock")
        assert (before["mode"], before["rate"], before["frozen"]) == ("virtual", 0.0, True)
        bad: list[tuple[str, dict[str, Any], str]] = [
            ("clock.advance", {"by": "-90s"}, "Clock cannot move backwards"),
            ("clock.advance", {"by": "soon"}, "is not a duration like 90s, 15m, 2h or 1d"),
            ("clock.advance", {"by": "401d"}, "at most 400 days"),
            ("clock.advance", {"to": "2023-12-31T00:00:00Z"}, "Clock cannot move backwards"),
            ("clock.advance", {"until": "next-expiry"}, "no GTT order is waiting"),
            ("clock.advance", {}, "give exactly one of"),
            ("clock.rate", {"rate": -1}, "must be between 0 (frozen) and"),
            ("clock.rate", {"rate": "fast"}, "is not a number")]
        for command, args, message in bad:
            status, body = admin(server, data_dir, command, **args)
            assert status == 400 and set(body) == {"message"}, (command, args, body)
            assert message in body["message"], (command, args, body)
        _, after = admin(server, data_dir, "clock")
        assert after == before
        assert get_admin(server, data_dir, "clock") == (200, before)
        status, body = get_admin(server, data_dir, "clock.freeze")
        assert (status, body) == (400, {"message": "clock.freeze changes the venue: send it "
                                                    "with POST"})
        status, body = admin(server, data_dir, "clock.advance", by="400d")
        assert status == 200 and clock_us(body) == clock_us(before) + 400 * 86_400_000_000
    finally:
        server.stop()


def test_a_restart_resumes_a_virtual_clock_frozen_at_the_last_stamp(tmp_path: Path,
                                                                    data_dir: Path) -> None:
    server = serve(tmp_path, data_dir)
    try:
        assert admin(server, data_dir, "clock.rate", rate="1000")[0] == 200
        order = RawClient(server.port, ALICE).post("/orders", {
            "product_id": "BTC-USD", "side": "buy", "price": "1000", "size": "0.01"}).json()
    finally:
        server.stop()
    last = parse_iso(order["created_at"])
    server = serve(tmp_path, data_dir)
    try:
        _, clock = admin(server, data_dir, "clock")
        assert (clock["mode"], clock["frozen"], clock_us(clock)) == ("virtual", True, last)
        assert last is not None
        assert RawClient(server.port).get("/time").json()["iso"] == iso(last)
    finally:
        server.stop()


def test_an_advance_fires_every_demo_tick_on_the_way(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(default_scenario().read_text()
                    + f'\n[clock]\nmode = "virtual"\nstart = "{START}"\nrate = 0\n')
    server = start_server(scenario=path, data_dir=data_dir)
    try:
        _, before = admin(server, data_dir, "clock")
        status, clock = admin(server, data_dir, "clock.advance", by="30s")
        assert status == 200 and clock["fired"] == {"expiries": 0, "demo_ticks": 30}
        assert clock_us(clock) == clock_us(before) + 30 * 1_000_000
        trades = RawClient(server.port).get("/products/BTC-USD/trades?limit=100").json()
        times = sorted({parse_iso(t["time"]) for t in trades})
        assert times and all(t is not None and clock_us(before) < t < clock_us(clock)
                             for t in times)
        assert all(t % 1_000_000 < 1000 for t in times if t is not None)  # at a tick's time
    finally:
        server.stop()
