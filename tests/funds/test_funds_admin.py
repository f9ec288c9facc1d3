"""``crypto.receive`` through its doors: the CLI offline (a stopped data dir) and online (a
running server), and the pytest plugin's ``Venue.receive_crypto``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from sandex.admin.presence import DataDirLock
from sandex.cli import main
from sandex.funds import deposit_address
from sandex.server import build
from sandex.testing.venue import Venue
from tests.support.rest_kit import ALICE, ALICE_PROFILE, SCENARIO, RawClient, start_server

BTC_ADDRESS = deposit_address(ALICE_PROFILE, "BTC", "bitcoin").address


def sandex(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    lock = DataDirLock(tmp_path / "data")
    lock.acquire()
    try:
        node = build(SCENARIO, data_dir=tmp_path / "data").node
        asyncio.run(node.close())
    finally:
        lock.release()
    return tmp_path / "data"


def test_cli_offline_then_online(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    code, received, _ = sandex(capsys, "crypto", "receive", "--address", BTC_ADDRESS,
                               "--amount", "0.5", "--delay", "0s", *d)
    assert code == 0 and received["profile_id"] == ALICE_PROFILE
    assert (received["currency"], received["amount"], received["network"]) == ("BTC", "0.5",
                                                                                "bitcoin")
    code, _, err = sandex(capsys, "crypto", "receive", "--address", "bc1qnobody", "--amount",
                          "1", *d)
    assert code != 0 and "is not a deposit address of this venue" in err
    server = start_server(data_dir=data_dir)
    try:
        alice = RawClient(server.port, ALICE)
        [done] = alice.get("/transfers").json()
        assert done["id"] == received["id"] and done["completed_at"] is not None
        assert done["details"]["crypto_address"] == BTC_ADDRESS
        code, pending, _ = sandex(capsys, "crypto", "receive", "--address", BTC_ADDRESS,
                                  "--amount", "0.25", *d)
        assert code == 0
        listed = alice.get(f"/transfers/{pending['id']}").json()
        assert listed["completed_at"] is None and listed["amount"] == "0.25000000"
        btc = next(a for a in alice.get("/accounts").json() if a["currency"] == "BTC")
        assert btc["balance"] == "100.5000000000000000"
    finally:
        server.stop()


def test_the_testing_venue_receives_crypto(tmp_path: Path) -> None:
    """``sandex.testing.Venue.receive_crypto``, the door a bot's tests use (admin HTTP)."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\n'
                        'start = "2024-01-01T00:00:00Z"\nrate = 0\n')
    server = start_server(scenario=scenario, data_dir=tmp_path / "data")
    try:
        venue = Venue(server.url, (tmp_path / "data" / "admin.token").read_text().strip())
        received = venue.receive_crypto(BTC_ADDRESS, "0.125")
        assert received["amount"] == "0.125" and received["profile_id"] == ALICE_PROFILE
        alice = RawClient(server.port, ALICE)
        assert alice.get(f"/transfers/{received['id']}").json()["completed_at"] is None
        assert venue.clock.advance("10m")["fired"]["transfers"] == 1
        done = alice.get(f"/transfers/{received['id']}").json()
        assert done["completed_at"] is not None
        assert done["details"]["crypto_transaction_hash"] == received["crypto_transaction_hash"]
        quick = venue.receive_crypto(BTC_ADDRESS, 1, delay="30s")
        assert quick["settles_at"] > received["settles_at"]
    finally:
        server.stop()
