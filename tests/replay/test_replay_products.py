"""``create_products_from``: a recorded ``GET /products`` reply creates the venue products a
recording needs, through each door (admin HTTP, the pytest plugin, the scenario's
``[replay]``; the CLI's in test_replay_cli.py), with the reply's increments; products the
venue has are left as they are. The scenario's ``[replay]`` with ``start = true`` replays at
once, and ``reset`` takes the venue back to it loaded and paused at its start."""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.replay.test_replay_live import admin
from tests.support.recordings_kit import framed, level2_messages, write
from tests.support.rest_kit import SCENARIO, Server, start_server

XBT = {"id": "XBT-USD", "base_currency": "XBT", "quote_currency": "USD",
       "base_increment": "0.00100000", "quote_increment": "0.05000000",
       "min_market_funds": "5", "max_market_funds": "1000000", "status": "online",
       "display_name": "XBT-USD", "margin_enabled": False, "post_only": False,
       "limit_only": False, "cancel_only": False, "status_message": "",
       "auction_mode": False, "fx_stablecoin": False, "trading_disabled": False}
BTC = {**XBT, "id": "BTC-USD", "base_currency": "BTC", "display_name": "BTC-USD",
       "base_increment": "0.1", "quote_increment": "5", "min_market_funds": "100"}


def products_file(tmp: Path) -> Path:
    """A recorded ``GET /products`` reply: XBT-USD (new) and BTC-USD (the venue has it)."""
    path = tmp / "products.json"
    path.write_text(json.dumps([XBT, BTC], indent=1))
    return path


def recording(tmp: Path, events: int = 60) -> Path:
    return write(tmp / "xbt-l2.jsonl", framed(level2_messages(events, product="XBT-USD")))


def rest(server: Server, target: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", target)
    reply = conn.getresponse()
    return reply.status, json.loads(reply.read())


def increments(product: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    return (Decimal(product["base_increment"]), Decimal(product["quote_increment"]),
            Decimal(product["min_market_funds"]))


def assert_created(get: Any) -> None:
    """``get(target)`` answers ``(status, body)`` of a public REST GET."""
    status, xbt = get("/products/XBT-USD")
    assert status == 200, xbt
    assert increments(xbt) == (Decimal("0.001"), Decimal("0.05"), Decimal("5"))
    assert (xbt["base_currency"], xbt["quote_currency"], xbt["status"]) == (
        "XBT", "USD", "online")
    status, btc = get("/products/BTC-USD")  # the venue's own, left alone
    assert increments(btc) == (Decimal("0.00000001"), Decimal("0.01"), Decimal("1"))


def assert_replayed_on_xbt(get: Any) -> None:
    _, book = get("/products/XBT-USD/book?level=2")
    prices = [Decimal(p) for side in ("bids", "asks") for p, _s, _n in book[side]]
    assert prices and all(p % Decimal("0.05") == 0 for p in prices)


def test_the_admin_door_creates_the_products_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", data_dir=data_dir)
    try:
        bad = tmp_path / "bad.json"
        bad.write_text("<html>503 Service Unavailable</html>")
        status, reply = admin(server, data_dir, "replay.load", {
            "source": str(recording(tmp_path)), "format": "coinbase-level2",
            "create_products_from": str(bad)})
        assert status == 400 and reply["message"].startswith(
            f"{bad}: not a GET /products reply"), reply
        assert rest(server, "/products/XBT-USD")[0] == 404
        status, loaded = admin(server, data_dir, "replay.load", {
            "source": str(recording(tmp_path)), "format": "coinbase-level2",
            "create_products_from": str(products_file(tmp_path)), "speed": "max",
            "start": True})
        assert status == 200, loaded
        assert "XBT-USD" in loaded["products"]  # no mapping: every product of the venue
        status, done = admin(server, data_dir, "replay.wait", {"timeout": 30})
        assert done["state"] == "finished", done
        assert_created(lambda target: rest(server, target))
        assert_replayed_on_xbt(lambda target: rest(server, target))
        _, listed = rest(server, "/products")
        assert [p["id"] for p in listed].count("XBT-USD") == 1
    finally:
        server.stop()


def test_the_plugin_door_creates_the_products(sandex, tmp_path: Path) -> None:
    loaded = sandex.replay.load(recording(tmp_path), format="coinbase-level2",
                                products={"XBT-USD": "XBT-USD"}, speed="max",
                                create_products_from=products_file(tmp_path), start=True)
    assert loaded["products"] == ["XBT-USD"]
    assert sandex.replay.wait(30)["state"] == "finished"
    def get(target: str) -> tuple[int, Any]:
        with urllib.request.urlopen(sandex.rest_url + target, timeout=30) as reply:
            return reply.status, json.loads(reply.read())

    assert_created(get)
    assert_replayed_on_xbt(get)


def scenario(tmp: Path, extra: str = "") -> Path:
    """The test venue with a ``[replay]`` of XBT-USD, paths relative to the scenario."""
    folder = tmp / "scenarios"
    (folder / "recordings").mkdir(parents=True)
    recording(folder / "recordings", 2_000)
    products_file(folder)
    path = folder / "replay.toml"
    path.write_text(SCENARIO.read_text() + '\n[replay]\nsource = "recordings/xbt-l2.jsonl"\n'
                    'format = "coinbase-level2"\nproducts = { "XBT-USD" = "XBT-USD" }\n'
                    'create_products_from = "products.json"\nspeed = "max"\n' + extra)
    return path


def test_a_scenario_replay_starts_at_once_and_reset_keeps_it_paused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", scenario=scenario(tmp_path, "start = true\n"),
                          data_dir=data_dir)
    try:
        deadline = time.monotonic() + 30
        while (status := admin(server, data_dir, "replay.status", {})[1])["state"] == "running":
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status["state"] == "finished" and status["events"] >= 2_000, status
        assert status["source"] == [str(tmp_path / "scenarios/recordings/xbt-l2.jsonl")]
        assert_created(lambda target: rest(server, target))
        assert_replayed_on_xbt(lambda target: rest(server, target))
        status_code, _ = admin(server, data_dir, "reset", {})
        assert status_code == 200
        _, again = admin(server, data_dir, "replay.status", {})
        assert (again["state"], again["events"], again["line"]) == ("paused", 0, 0), again
        assert_created(lambda target: rest(server, target))  # made before the baseline
        _, book = rest(server, "/products/XBT-USD/book?level=2")
        assert (book["bids"], book["asks"]) == ([], [])
        _, stepped = admin(server, data_dir, "replay.step", {"events": 1})  # the snapshot
        assert stepped["events"] == 1 and stepped["state"] == "paused"
        _, book = rest(server, "/products/XBT-USD/book?level=2")
        assert book["bids"] and book["asks"]
    finally:
        server.stop()


def test_a_scenario_replay_with_a_bad_products_file_stops_the_server(tmp_path: Path) -> None:
    path = scenario(tmp_path)
    (path.parent / "products.json").write_text("{}")
    try:
        start_server("--no-demo", scenario=path, data_dir=tmp_path / "data").stop()
    except RuntimeError as exc:
        assert f"{path}: [replay]: {path.parent / 'products.json'}: not a GET /products " \
               f"reply (a JSON list)" in str(exc)
    else:
        raise AssertionError("the server started")
