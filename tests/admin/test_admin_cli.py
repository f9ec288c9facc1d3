"""The admin CLI: every command against a running server and on a stopped data dir, with the
changes visible to API clients afterwards, and one-line errors with exit status 2."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandex.admin.presence import DataDirLock
from sandex.api.admin import AdminGateway
from sandex.api.http import ApiError, Request
from sandex.cli import main
from sandex.node import Node
from sandex.node.storage import verify
from sandex.server import build
from tests.support.rest_kit import ALICE, SCENARIO, RawClient, Server, start_server

BOB_PROFILE = "b0b00000-0000-4000-8000-000000000002"


def sandex(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """Run the CLI in-process: (exit status, parsed JSON stdout or None, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir loaded with the test scenario, no server running (made as ``serve`` does:
    under the data dir's lock, so it is its owner's only)."""
    lock = DataDirLock(tmp_path / "data")
    lock.acquire()
    try:
        node = build(SCENARIO, data_dir=tmp_path / "data").node
        asyncio.run(node.close())
    finally:
        lock.release()
    return tmp_path / "data"


@pytest.fixture
def running(data_dir: Path) -> Any:
    server = start_server(data_dir=data_dir)
    yield server
    server.stop()


def test_every_command_online_reaches_api_clients(capsys: pytest.CaptureFixture[str],
                                                 data_dir: Path, running: Server) -> None:
    d = ("--data-dir", str(data_dir))
    code, profile, _ = sandex(capsys, "profile", "create", "--name", "desk", *d)
    assert code == 0 and profile["name"] == "desk" and profile["balances"] == {}
    assert (profile["maker_fee_rate"], profile["taker_fee_rate"]) == ("0.004", "0.006")
    pid = profile["id"]
    code, profiles, _ = sandex(capsys, "profile", "list", *d)
    assert code == 0 and pid in {p["id"] for p in profiles}

    code, key, _ = sandex(capsys, "key", "create", "--profile", pid, "--permissions",
                          "view,trade", *d)
    assert code == 0 and key["profile_id"] == pid and key["permissions"] == ["trade", "view"]
    creds = (key["key"], key["secret"], key["passphrase"])
    client = RawClient(running.port, creds)
    assert {a["balance"] for a in client.get("/accounts").json()} == {"0.0000000000000000"}

    code, deposit, _ = sandex(capsys, "deposit", "--profile", pid, "--currency", "USD",
                              "--amount", "2500.5", *d)
    assert code == 0 and (deposit["amount"], deposit["balance"]) == ("2500.5", "2500.5")
    code, withdrawal, _ = sandex(capsys, "withdraw", "--profile", pid, "--currency", "USD",
                                 "--amount", "500", *d)
    assert code == 0 and withdrawal["balance"] == "2000.5"
    balances = {a["currency"]: a["balance"] for a in client.get("/accounts").json()}
    assert balances["USD"] == "2000.5000000000000000"

    code, product, _ = sandex(capsys, "product", "add", "--id", "doge-usd", "--quote-increment",
                              "0.0001", "--base-increment", "1", *d)
    assert code == 0 and product == {
        "id": "DOGE-USD", "base_currency": "DOGE", "quote_currency": "USD",
        "base_increment": "1", "quote_increment": "0.0001", "min_market_funds": "1",
        "status": "online"}
    assert client.get("/products/DOGE-USD").json()["quote_increment"] == "0.00010000"
    code, product, _ = sandex(capsys, "product", "set-status", "--id", "DOGE-USD", "--status",
                              "cancel_only", *d)
    assert code == 0 and product["status"] == "cancel_only"
    assert client.get("/products/DOGE-USD").json()["cancel_only"] is True

    code, fees, _ = sandex(capsys, "fees", "set", "--profile", pid, "--maker", "0.001",
                           "--taker", "0.0025", *d)
    assert code == 0 and fees == {"id": pid, "maker_fee_rate": "0.001",
                                  "taker_fee_rate": "0.0025"}
    assert client.get("/fees").json()["taker_fee_rate"] == "0.0025"

    code, keys, _ = sandex(capsys, "key", "list", "--profile", pid, *d)
    assert code == 0 and [k["key"] for k in keys] == [creds[0]] and "secret" not in keys[0]
    code, revoked, _ = sandex(capsys, "key", "revoke", creds[0], *d)
    assert code == 0 and revoked == {"key": creds[0], "revoked": True}
    reply = client.get("/accounts")
    assert (reply.status, reply.json()) == (401, {"message": "Invalid API Key"})

    code, _, err = sandex(capsys, "product", "add", "--id", "DOGE-USD", *d)
    assert (code, err) == (2, "sandex: Product already exists\n")


def test_offline_commands_are_journaled_and_seen_after_a_restart(
        capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    code, deposit, _ = sandex(capsys, "deposit", "--profile", BOB_PROFILE, "--currency", "BTC",
                              "--amount", "0.25", *d)
    assert code == 0 and deposit["balance"] == "100.25"
    code, key, _ = sandex(capsys, "key", "create", "--profile", BOB_PROFILE, "--key",
                          "0123456789abcdef0123456789abcdef", "--passphrase", "offline", *d)
    assert code == 0 and key["key"] == "0123456789abcdef0123456789abcdef"
    assert verify(data_dir).journal_end > 0

    server = start_server(data_dir=data_dir)
    try:
        client = RawClient(server.port, (key["key"], key["secret"], "offline"))
        balances = {a["currency"]: a["balance"] for a in client.get("/accounts").json()}
        assert balances["BTC"] == "100.2500000000000000"
    finally:
        server.stop()


def test_wrong_input_is_one_line_and_exit_status_2(capsys: pytest.CaptureFixture[str],
                                                   data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    cases = [
        (("deposit", "--profile", BOB_PROFILE, "--currency", "USD", "--amount", "abc", *d),
         "sandex: --amount: 'abc' is not a number with at most 16 decimals\n"),
        (("deposit", "--profile", "nobody", "--currency", "USD", "--amount", "1", *d),
         "sandex: profile nobody not found\n"),
        (("deposit", "--profile", BOB_PROFILE, "--currency", "XYZ", "--amount", "1", *d),
         "sandex: currency XYZ not found\n"),
        (("withdraw", "--profile", BOB_PROFILE, "--currency", "USD", "--amount", "1e9", *d),
         "sandex: Insufficient funds\n"),
        (("product", "set-status", "--id", "BTC-USD", "--status", "paused", *d),
         "sandex: --status: 'paused' is not one of online, post_only, limit_only, cancel_only, "
         "disabled\n"),
        (("key", "create", "--profile", BOB_PROFILE, "--permissions", "admin", *d),
         "sandex: --permissions: 'admin': each must be view, trade or transfer\n"),
        (("key", "revoke", "feedface", *d), "sandex: key feedface not found\n"),
        (("profile", "create", "--name", "x", "--id", "not-a-uuid", *d),
         "sandex: --id: 'not-a-uuid' is not a lower-case UUID\n"),
        (("fees", "set", "--profile", BOB_PROFILE, "--maker", "0.001", *d),
         "sandex: the following arguments are required: --taker\n"),
        (("deposit", "--profile", BOB_PROFILE, "--data-dir", str(data_dir / "nope"),
          "--currency", "USD", "--amount", "1"),
         f"sandex: {data_dir / 'nope'}: no sandex data here (start `sandex serve --data-dir "
         f"{data_dir / 'nope'}` once, or pass --url and --token)\n"),
    ]
    for argv, expected in cases:
        code, out, err = sandex(capsys, *argv)
        assert (code, out, err.replace("sandex deposit: ", "sandex: ").replace(
            "sandex fees set: ", "sandex: ")) == (2, None, expected), argv


def test_the_cli_as_a_program(data_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sandex.cli", "profile", "list", "--data-dir",
                           str(data_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = sorted(p["name"] for p in json.loads(done.stdout))
    assert names == ["alice-savings", "default", "default"]  # Alice's two, Bob's one


def test_a_second_server_on_the_same_data_dir_is_refused(running: Server,
                                                         data_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sandex.cli", "serve", "--port", "1",
                           "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr == (f"sandex: {data_dir} is in use by another sandex (a server at "
                           f"http://127.0.0.1:{running.port}, pid {running.process.pid})\n")


# -- the endpoint itself ------------------------------------------------------------------------
def call(gateway: AdminGateway, client: str, token: str, path: str) -> Any:
    request = Request("POST", path, path, "", {"authorization": f"Bearer {token}"}, b"{}",
                      client)
    try:
        return asyncio.run(gateway(request)).status
    except ApiError as exc:
        return exc.status, exc.message


def test_the_endpoint_answers_only_loopback_clients_with_the_token() -> None:
    gateway = AdminGateway(Node(), "s3cret")
    assert call(gateway, "10.1.2.3", "s3cret", "/admin/profile.list") == (
        403, "The admin endpoint only answers on localhost")
    assert call(gateway, "127.0.0.1", "wrong", "/admin/profile.list") == (
        401, "Invalid admin token")
    assert call(gateway, "::1", "s3cret", "/admin/profile.delete") == (
        404, "Unknown admin command profile.delete")
    assert call(gateway, "127.0.0.1", "s3cret", "/admin/profile.list") == 200
    assert ALICE  # the scenario's keys are untouched by any of this


def test_every_command_offline(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    pid = "0ff11e00-0000-4000-8000-000000000001"
    steps: list[tuple[tuple[str, ...], Any]] = [
        (("profile", "create", "--name", "offline", "--id", pid, "--maker-fee-rate", "0.001",
          "--taker-fee-rate", "0.002"),
         lambda r: (r["id"], r["maker_fee_rate"], r["taker_fee_rate"]) == (pid, "0.001",
                                                                            "0.002")),
        (("profile", "list"), lambda r: pid in {p["id"] for p in r}),
        (("key", "create", "--profile", pid, "--key", "f" * 32, "--permissions", "view"),
         lambda r: (r["key"], r["permissions"]) == ("f" * 32, ["view"])),
        (("key", "list", "--profile", pid), lambda r: [k["key"] for k in r] == ["f" * 32]),
        (("key", "revoke", "f" * 32), lambda r: r == {"key": "f" * 32, "revoked": True}),
        (("deposit", "--profile", pid, "--currency", "ETH", "--amount", "3"),
         lambda r: r["balance"] == "3"),
        (("withdraw", "--profile", pid, "--currency", "ETH", "--amount", "1.5"),
         lambda r: r["balance"] == "1.5"),
        (("product", "add", "--id", "ETH-EUR", "--status", "post_only"),
         lambda r: (r["id"], r["quote_currency"], r["status"]) == ("ETH-EUR", "EUR",
                                                                    "post_only")),
        (("product", "set-status", "--id", "ETH-EUR", "--status", "disabled"),
         lambda r: r["status"] == "disabled"),
        (("fees", "set", "--profile", pid, "--maker", "0", "--taker", "0.0001"),
         lambda r: (r["maker_fee_rate"], r["taker_fee_rate"]) == ("0", "0.0001")),
    ]
    before = verify(data_dir).journal_end
    for argv, expected in steps:
        code, result, err = sandex(capsys, *argv, *d)
        assert code == 0 and err == "" and expected(result), (argv, result, err)
    # every change is one journaled command (the two lists, none), and replays from zero
    assert verify(data_dir).journal_end == before + len(steps) - 2
    code, profiles, _ = sandex(capsys, "profile", "list", *d)
    [mine] = [p for p in profiles if p["id"] == pid]
    assert mine["balances"] == {"ETH": "1.5"} and mine["taker_fee_rate"] == "0.0001"
