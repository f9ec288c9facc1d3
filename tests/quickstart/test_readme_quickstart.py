"""The README's quickstart, as a new user runs it: a clean clone, ``make run``, paste the
printed credentials into ccxt, see a fill; a second ``make run`` keeps data and keys."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import ccxt
import pytest

from tests.support.rest_kit import free_port

ROOT = Path(__file__).resolve().parents[2]


def make_run(clone: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    """``make run`` on ``port``; its banner's credentials and lines once it is ready."""
    process = subprocess.Popen(["make", "run", f"ARGS=--port {port}"], cwd=clone,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True,
                               # built plain: the suite's own `make test` ran the default,
                               # profile-guided build (twice the compile) already
                               env={**os.environ, "PYTHON": "python3", "SANDEX_PGO": "0"})
    lines: list[str] = []
    fields: dict[str, str] = {}
    deadline = time.monotonic() + 600  # the first run creates a virtualenv, installs, compiles
    try:
        while "passphrase" not in fields:
            assert time.monotonic() < deadline, f"no credentials printed: {lines}"
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, f"make run ended: {lines}"
            lines.append(line.rstrip("\n"))
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("key", "secret", "passphrase"):
                fields[parts[0]] = parts[1]
    except BaseException:
        # make, its install or compile, and a server started late would outlive the test
        # (seen: servers of timed-out runs still up half an hour later)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        raise
    return process, fields, lines


def stop(process: subprocess.Popen[str]) -> int:
    """SIGTERM the server (make's child); make then exits with the server's status."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert children, "make run has no server process"
    for child in children:
        os.kill(int(child), signal.SIGTERM)
    return process.wait(30)


def exchange(port: int, creds: dict[str, str]) -> ccxt.coinbaseexchange:
    ex = ccxt.coinbaseexchange({"apiKey": creds["key"], "secret": creds["secret"],
                                "password": creds["passphrase"], "timeout": 10000})
    url = f"http://127.0.0.1:{port}"
    ex.urls["api"] = {"public": url, "private": url}
    return ex


def wait_for_liquidity(ex: ccxt.coinbaseexchange) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        book = ex.fetch_order_book("BTC/USD")
        if book["asks"] and book["bids"]:
            return book
        assert time.monotonic() < deadline, "the demo market maker never quoted"
        time.sleep(0.2)


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                    reason="needs make and git")
def test_quickstart_from_a_clean_clone(tmp_path: Path) -> None:
    clone = tmp_path / "sandex"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port = free_port()
    process, creds, lines = make_run(clone, port)
    try:
        assert f"  REST       http://127.0.0.1:{port}" in lines
        assert f"  feed       ws://127.0.0.1:{port}" in lines
        assert "  data       sandex-data, journal position" in "\n".join(lines)
        assert "  admin      .venv/bin/sandex profile list --data-dir sandex-data" in lines
        ex = exchange(port, creds)
        wait_for_liquidity(ex)
        fill = ex.create_order("BTC/USD", "market", "buy", 0.001)
        trades = ex.fetch_my_trades("BTC/USD")
        assert [t["order"] for t in trades] == [fill["id"]]
        assert sum(t["amount"] for t in trades) == pytest.approx(0.001)
        resting = ex.create_order("BTC/USD", "limit", "buy", 0.001, 1000)
        assert ex.fetch_order(resting["id"], "BTC/USD")["status"] == "open"
        ex.cancel_order(resting["id"], "BTC/USD")
        assert ex.fetch_open_orders("BTC/USD") == []
        admin = subprocess.run([".venv/bin/sandex", "profile", "list", "--data-dir",
                                "sandex-data"], cwd=clone, capture_output=True, text=True,
                               timeout=60)  # the admin hint, online through the server
        assert admin.returncode == 0, admin.stderr
        assert "8058d771-2d88-4f0f-ab6e-299c153d4308" in {p["id"] for p in json.loads(
            admin.stdout)}
    finally:
        assert stop(process) == 0
    assert (clone / "sandex-data" / "journal.sqlite3").exists()

    process, again, _ = make_run(clone, port)
    try:
        assert again == creds
        assert [t["order"] for t in exchange(port, again).fetch_my_trades("BTC/USD")] == [
            fill["id"]]
    finally:
        assert stop(process) == 0
