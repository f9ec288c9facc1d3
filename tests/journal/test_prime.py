"""Waking the journal's disk before a commit that is known to come (``WalSync.prime``,
``Node.prime_storage``, the scheduler's runner waking ``PRIME_LEAD_S`` early)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from sandex.journal import MemoryJournal, SqliteJournal, walsync
from sandex.journal.uring import UringSync
from sandex.node import Node
from sandex.node.scheduler import PRIME_LEAD_S, Firing


@pytest.fixture(autouse=True)
def _slow_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """"Recently synced" stretched to a minute, so a loaded machine's pauses between two
    lines of a test never turn into idling (``_idle`` makes the log idle instead)."""
    monkeypatch.setattr(walsync, "PRIME_IDLE_S", 60.0)


def _idle(journal: SqliteJournal) -> None:
    journal._wal._synced_at -= walsync.PRIME_IDLE_S  # as if the log idled that long


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="io_uring")
def test_a_prime_is_a_kernel_request_on_a_ring_of_its_own_after_the_log_idled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    wal = journal._wal
    assert wal.by_kernel and not journal.prime()  # the log was opened just now
    _idle(journal)
    assert journal.prime()
    primer = wal._primer
    assert primer is not None and primer is not wal._kernel and primer.pending
    primer.wait()  # the sync asked for ends, and succeeds
    assert not primer.pending and not journal.prime()  # the prime counts as a sync
    _idle(journal)
    primer.submit()  # as if the prime before still ran: no second one
    with monkeypatch.context() as patch:  # still running (an empty sync may end at once)
        patch.setattr(UringSync, "reap", lambda self: False)
        assert not journal.prime()
    primer.wait()
    _idle(journal)
    assert journal.prime() and wal._primer is primer  # the same ring
    journal.close()
    assert wal._primer is None and not wal.prime()  # closed: nothing to sync


def test_without_io_uring_a_prime_syncs_the_log_on_a_thread_only_after_the_log_idled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UringSync, "open", classmethod(lambda cls, fd: None))
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    synced: list[tuple[int, str]] = []
    done = threading.Event()
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        synced.append((fd, threading.current_thread().name))
        real(fd)
        done.set()

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    assert not journal.prime()  # the log was opened just now
    _idle(journal)
    assert journal.prime()
    assert done.wait(5)
    assert synced == [(journal._wal.fd, "sandex-prime")]
    assert not journal.prime()  # the prime counts as a sync
    journal.append([b"a"])
    _idle(journal)
    journal.append([b"b"])  # a commit's sync: the log is awake
    assert not journal.prime()
    journal.close()
    assert not journal._wal.prime()  # closed: nothing to sync


def test_closing_waits_for_a_prime_on_its_thread(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UringSync, "open", classmethod(lambda cls, fd: None))
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    entered, seen = threading.Event(), []

    def slow(fd: int) -> None:
        entered.set()
        time.sleep(0.2)
        seen.append(os.fstat(fd).st_size)  # still this log's descriptor: not closed under it

    _idle(journal)
    monkeypatch.setattr(os, "fdatasync", slow)
    assert journal.prime() and entered.wait(5)
    journal._wal.close()
    assert len(seen) == 1 and journal._wal.fd == -1
    journal._wal = walsync.WalSync(Path(f"{journal.path}-wal"))  # for the journal's own close
    monkeypatch.undo()
    journal.close()


def test_a_node_primes_only_a_journal_that_sleeps_and_only_with_nothing_in_flight(
        tmp_path: Path) -> None:
    assert not Node(journal=MemoryJournal()).prime_storage()
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    node = Node(journal=journal)
    _idle(journal)
    node._filling = []  # a batch filling up: its commit comes anyway
    assert not node.prime_storage()
    node._filling = None
    assert node.prime_storage()
    journal.close()


class _Tick:
    """A timer due once, at ``due``, noting the loop's time when it fires."""

    kind, rank = "tick", 1

    def __init__(self, due: int) -> None:
        self.next: int | None = due
        self.fired_at: float | None = None

    def due(self, now: int) -> int | None:
        return self.next

    def fire(self, at: int) -> Firing:
        self.fired_at, self.next = time.monotonic(), None
        return Firing(())

    def rearm(self, now: int) -> None:
        pass


def test_the_runner_primes_once_just_before_the_timer_it_sleeps_toward(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    node = Node(journal=journal)
    primed: list[tuple[float, bool]] = []
    real = node.prime_storage

    def prime_storage() -> bool:
        started = real()
        primed.append((time.monotonic(), started))
        return started

    node.prime_storage = prime_storage  # type: ignore[method-assign]
    _idle(journal)

    started_at = time.monotonic()

    async def run() -> _Tick:
        tick = _Tick(node.now() + 100_000)  # due in 0.1 s
        node.scheduler.add(tick)
        runner = asyncio.create_task(node.scheduler.run())
        while tick.fired_at is None:
            await asyncio.sleep(0.01)
        runner.cancel()
        return tick

    tick = asyncio.run(run())
    journal.close()
    assert len(primed) == 1 and primed[0][1]
    assert tick.fired_at is not None
    # just before the firing, not when the runner began sleeping (0.1 - PRIME_LEAD_S in);
    # a loaded machine only makes both later
    assert started_at + (0.1 - PRIME_LEAD_S) / 2 < primed[0][0] < tick.fired_at
