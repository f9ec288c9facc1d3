"""Faults through a real server: a full or read-only journal, an engine fault, a data dir
that cannot be used at start-up, and what the data dir lets others read.

Each running server's fault is injected by ``faults/sitecustomize.py`` (see there): the
errors are SQLite's and the kernel's own. While clients place, cancel and read orders, the
fault stops the server (exit status 1, one log line naming the fault); restarted on the
healthy data dir, every acknowledged order and fill is there (the crash test's check).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.crash_kit import ALICE, BOB, Seen, check_survivors, trader
from tests.support.rest_kit import SCENARIO, RawClient, free_port, start_server

FAULTS = Path(__file__).parent / "faults"
CHECKOUT = Path(__file__).parents[2]  # the sandex under test


def inject(monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """Servers started from now on in this test run with ``fault``.

    The checkout comes right after the faults on the server's path: ``sitecustomize`` imports
    sandex before Python puts the current directory on the path, so without it that import
    (and so the whole server) is the installed sandex's, an editable install's checkout,
    which need not be this one (another git worktree's)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(FAULTS), str(CHECKOUT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("SANDEX_TEST_FAULT", fault)


def heal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDEX_TEST_FAULT")


def trade_until_the_server_stops(data_dir: Path) -> tuple[Seen, int, str]:
    """Clients trade until the journal fails; what they were told, exit status, log."""
    server = start_server("--no-rate-limit", data_dir=data_dir)
    seen = Seen()
    threads = [threading.Thread(target=trader, daemon=True,
                                args=(server.port, ALICE if i % 2 == 0 else BOB,
                                      "buy" if i % 2 == 0 else "sell", i, seen))
               for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        code = server.process.wait(60)
    finally:
        server.stop()
    for thread in threads:
        thread.join(15)
    return seen, code, server.log()


def survivors(data_dir: Path, seen: Seen) -> list[str]:
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        return check_survivors(server.port, seen)
    finally:
        server.stop()


def critical_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " CRITICAL " in line]


@pytest.mark.parametrize(("fault", "said"), [
    ("full:40", "the disk is full (SQLite: database or disk is full)"),
    ("readonly:60", "it is read-only (read-only file system or no write permission) "
                    "(SQLite: attempt to write a readonly database)"),
], ids=["disk full", "read-only"])
def test_a_journal_fault_stops_the_server_and_loses_no_acknowledged_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, said: str) -> None:
    data_dir = tmp_path / "data"
    inject(monkeypatch, fault)
    seen, code, log = trade_until_the_server_stops(data_dir)
    assert code == 1, log
    [line] = critical_lines(log)
    assert "journal write failed at position" in line and said in line, line
    assert "cannot rollback" not in log
    assert len(seen.placed) > 20, f"only {len(seen.placed)} orders acknowledged before the fault"
    heal(monkeypatch)
    assert survivors(data_dir, seen) == []


def test_an_engine_fault_answers_no_success_and_stops_the_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    inject(monkeypatch, f"engine:{77 * 10**6}")
    server = start_server("--no-rate-limit", data_dir=data_dir)
    alice = RawClient(server.port, ALICE)
    order = {"product_id": "BTC-USD", "side": "buy", "price": "100", "size": "0.01"}
    try:
        kept = alice.post("/orders", order)
        assert kept.status == 200
        assert alice.post("/orders", {**order, "size": "0.77"}).status == 500
        # nothing is answered from memory that holds the half-applied order (or the server
        # is already gone)
        with contextlib.suppress(OSError, http.client.HTTPException):
            assert alice.get("/orders?status=all").status == 500
        code = server.process.wait(20)
    finally:
        server.stop()
    assert code == 1
    [line] = critical_lines(server.log())
    assert "applying PlaceOrder (stamped " in line, line
    assert "raised IndexError('list index out of range')" in line
    assert "after journal position " in line
    heal(monkeypatch)
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        orders = RawClient(server.port, ALICE).get("/orders?status=all").json()
    finally:
        server.stop()
    assert [o["id"] for o in orders if o["size"] == "0.77000000"] == []
    assert kept.json()["id"] in {o["id"] for o in orders}


def serve_once(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``sandex serve`` expected to refuse at start-up (it would otherwise run on)."""
    return subprocess.run(
        [sys.executable, "-m", "sandex.cli", "serve", "--port", str(free_port()),
         "--scenario", str(SCENARIO), "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60, env={**os.environ})


def made(data_dir: Path) -> Path:
    """A data dir a server has run on and left."""
    start_server(data_dir=data_dir).stop()
    return data_dir


def test_starting_on_a_full_disk_is_one_line_and_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inject(monkeypatch, "full:0")
    done = serve_once(tmp_path / "data")
    journal = tmp_path / "data" / "journal.sqlite3"
    assert (done.returncode, done.stderr) == (2, f"sandex: {journal}: cannot write the journal: "
                                                 "the disk is full (SQLite: database or disk "
                                                 "is full)\n")


def test_starting_on_a_read_only_file_system_is_one_line_and_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = made(tmp_path / "data")
    inject(monkeypatch, "erofs")
    done = serve_once(data_dir)
    assert (done.returncode, done.stderr) == (
        2, f"sandex: {data_dir}: cannot use the data dir: it is on a read-only file system "
           "(Read-only file system)\n")


def test_starting_on_a_locked_journal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import sqlite3

    data_dir = made(tmp_path / "data")
    holder = sqlite3.connect(data_dir / "journal.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing to the journal
    try:
        done = serve_once(data_dir)
    finally:
        holder.close()
    assert (done.returncode, done.stderr) == (
        2, f"sandex: {data_dir / 'journal.sqlite3'}: cannot open the journal: it is locked by "
           "another process (SQLite: database is locked)\n")


def test_starting_on_a_data_dir_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    server = start_server(data_dir=tmp_path / "data")
    try:
        done = serve_once(tmp_path / "data")
    finally:
        server.stop()
    assert done.returncode == 2
    assert done.stderr.startswith(f"sandex: {tmp_path / 'data'} is in use by another sandex")
    assert done.stderr.count("\n") == 1


def modes(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): oct(stat.S_IMODE(p.stat().st_mode))
            for p in [data_dir, *data_dir.rglob("*")]}


def test_the_data_dir_is_its_owners_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir=data_dir)
    try:
        assert RawClient(server.port, ALICE).post(  # so that a snapshot is written on stop
            "/orders", {"product_id": "BTC-USD", "side": "buy", "price": "100",
                        "size": "0.01"}).status == 200
        running = modes(data_dir)  # server.json is written before the server answers
    finally:
        server.stop()
    stopped = modes(data_dir)
    for name in (".", "snapshots"):
        assert stopped[name] == "0o700", stopped
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm", "lock",
                 "admin.token", "server.json"):
        assert running[name] == "0o600", running
    assert [m for n, m in stopped.items() if n.startswith("snapshots/")] == ["0o600"]


def test_access_others_had_is_removed_at_start_with_a_log_line(tmp_path: Path) -> None:
    data_dir = made(tmp_path / "data")
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    server = start_server(data_dir=data_dir)
    server.stop()
    assert set(modes(data_dir).values()) <= {"0o700", "0o600"}, modes(data_dir)
    [line] = [line for line in server.log().splitlines() if "removed group and other" in line]
    assert "admin.token" in line and "journal.sqlite3" in line and "snapshots" in line
