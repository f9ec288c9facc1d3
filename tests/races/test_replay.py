"""A race run on a data dir: the journal records the interleaving the gate made, replays to
the same state hash (``sandex verify``, a restart), and the same script gives the same journal
byte for byte. Also the command line doors (``sandex gate ...``, ``sandex inject``)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ccxt
import pytest

from sandex.admin.ops import AdminError, run_offline
from sandex.node import Node
from sandex.testing import TESTING_SCENARIO, Venue
from tests.support.rest_kit import start_server

BTC = "BTC/USD"
TAKER = {"product_id": "BTC-USD", "side": "buy", "type": "market", "size": "0.01"}
OID_A = "a0000000-0000-4000-8000-00000000000a"
OID_B = "b0000000-0000-4000-8000-00000000000b"


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin's scenario with its clock frozen at a fixed time: stamps are reproducible."""
    path = tmp_path_factory.mktemp("scenario") / "frozen.toml"
    path.write_text(TESTING_SCENARIO.read_text().replace(
        "rate = 1 ", 'rate = 0\nstart = "2024-01-01T00:00:00Z"\n', 1))
    return path


def race(venue: Venue) -> None:
    """Cancel vs fill, then two places released in reverse order."""
    trader = venue.ccxt()
    order = trader.create_order(BTC, "limit", "sell", 0.01, 60000)
    venue.gate.close({"type": "cancel", "order_id": order["id"]})
    with ThreadPoolExecutor(2) as pool:
        cancel = pool.submit(trader.cancel_order, order["id"], BTC)
        venue.gate.wait(1)
        venue.inject(venue.counterparty, {"place": TAKER})
        venue.gate.open()
        with pytest.raises(ccxt.BaseError, match="Order already done"):
            cancel.result(10)
        venue.gate.close({"type": "place"})
        places = [pool.submit(trader.create_order, BTC, "limit", "buy", 0.01, 50000,
                              {"client_oid": oid}) for oid in (OID_A, OID_B)]
        a, b = venue.gate.wait(2)
        venue.gate.release(ids=[b["id"] if a["client_oid"] == OID_A else a["id"]])
        venue.gate.release(n=1)
        for place in places:
            place.result(10)


def run(data_dir: Path, scenario: Path) -> tuple[str, list[bytes]]:
    server = start_server("--seed", "1", scenario=scenario, data_dir=data_dir)
    try:
        venue = Venue(server.url, (data_dir / "admin.token").read_text().strip())
        race(venue)
        state_hash = venue.state_hash()
    finally:
        server.stop()
    with sqlite3.connect(data_dir / "journal.sqlite3") as db:
        records = [bytes(row[0]) for row in db.execute(
            "SELECT body FROM journal ORDER BY position")]
    return state_hash, records


def test_the_journal_replays_the_race_and_is_the_same_every_run(tmp_path: Path,
                                                                frozen: Path) -> None:
    state_hash, records = run(tmp_path / "one", frozen)
    commands = [json.loads(r) for r in records if b'"place_order"' in r or b'"cancel' in r]
    kinds = [(c["command"], c.get("side"), c.get("client_oid")) for c in commands]
    # The released cancel came after the fill and was refused: a refusal changes nothing, so
    # it is not journaled. The two places are in release order, not arrival order.
    assert kinds == [("place_order", "sell", None), ("place_order", "buy", None),  # taker
                     ("place_order", "buy", OID_B), ("place_order", "buy", OID_A)]
    verify = subprocess.run([sys.executable, "-m", "sandex.cli", "verify", "--data-dir",
                             str(tmp_path / "one")], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout
    assert f": OK: replay from zero to position {len(records)} gives {state_hash}" in (
        verify.stdout)
    server = start_server(scenario=frozen, data_dir=tmp_path / "one")  # a restart replays
    try:
        token = (tmp_path / "one" / "admin.token").read_text().strip()
        assert Venue(server.url, token).state_hash() == state_hash
    finally:
        server.stop()
    assert run(tmp_path / "two", frozen) == (state_hash, records)


def sandex_cli(*args: str, url: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandex.cli", *args, "--url", url, "--token",
                           token], capture_output=True, text=True, timeout=30)


def test_the_command_line_closes_lists_releases_opens_and_injects(tmp_path: Path,
                                                                  frozen: Path) -> None:
    token = "races-cli-token-0123456789"
    os.environ["SANDEX_ADMIN_TOKEN"] = token
    try:
        server = start_server("--seed", "1", scenario=frozen)
    finally:
        del os.environ["SANDEX_ADMIN_TOKEN"]
    try:
        venue = Venue(server.url, token)
        cli = lambda *args: sandex_cli(*args, url=server.url, token=token)  # noqa: E731
        closed = cli("gate", "close", "--type", "place", "--client-oid", OID_A)
        assert json.loads(closed.stdout)["matches"] == [{"type": "place", "client_oid": OID_A}]
        with ThreadPoolExecutor(1) as pool:
            place = pool.submit(venue.ccxt().create_order, BTC, "limit", "buy", 0.01, 50000,
                                {"client_oid": OID_A})
            [held] = venue.gate.wait(1)
            listed = json.loads(cli("gate", "held").stdout)["held"]
            assert [h["id"] for h in listed] == [held["id"]]
            bad = cli("gate", "release", "999")
            assert (bad.returncode, bad.stderr) == (
                2, "sandex: no held request has id 999 (see the held list)\n")
            assert json.loads(cli("gate", "release", str(held["id"])).stdout)["released"] == [
                held["id"]]
            placed = place.result(10)
        assert json.loads(cli("gate", "open").stdout)["closed"] is False
        injected = cli("inject", "--profile", venue.counterparty.profile_id, "--place",
                       json.dumps(TAKER | {"side": "sell"}))
        assert json.loads(injected.stdout)["status"] == "pending"
        assert venue.ccxt().fetch_order(placed["id"], BTC)["status"] == "closed"
        refused = cli("inject", "--profile", venue.counterparty.profile_id, "--cancel",
                      placed["id"])
        assert (refused.returncode, refused.stderr) == (2, "sandex: order not found\n")
    finally:
        server.stop()


def test_offline_the_race_controls_say_they_need_a_running_server() -> None:
    for name in ("gate.held", "gate.close", "reply.open", "feed.held", "inject"):
        with pytest.raises(AdminError, match="act on a running server"):
            run_offline(Node(), name, {})
