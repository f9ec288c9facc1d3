"""The journal's commit sync: ``append_here`` on the event loop, the sync a kernel request
(io_uring) or, without it, the loop's executor; every path as durable as ``append``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from sandex.journal import SqliteJournal, StorageError
from sandex.journal.uring import UringSync


def test_appends_on_the_loop_are_kept_in_order_with_the_blocking_ones(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)

    async def run() -> list[int]:
        ends = [await journal.append_here([b"a%d" % n] * 3) for n in range(3)]
        await journal.close_here()
        return ends

    assert asyncio.run(run()) == [3, 6, 9]
    assert journal.append([b"z"]) == 10
    journal.close()
    again = SqliteJournal(path)
    assert [body for _, body in again.read(0)] == [b"a0"] * 3 + [b"a1"] * 3 + [b"a2"] * 3 + [b"z"]
    again.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="io_uring")
def test_on_linux_the_sync_is_a_kernel_request(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    assert journal._wal.by_kernel
    journal.close()


def test_without_io_uring_the_sync_runs_on_the_executor(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UringSync, "open", classmethod(lambda cls, fd: None))
    synced: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), real(fd))[1])
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    assert not journal._wal.by_kernel

    async def run() -> int:
        return await journal.append_here([b"x", b"y"])

    assert asyncio.run(run()) == 2
    assert synced == [journal._wal.fd]
    journal.close()


def test_a_failed_sync_is_a_storage_error_naming_the_file(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    wal = journal._wal
    saved = os.dup(wal.fd)
    os.close(wal.fd)  # a sync of a closed descriptor: EBADF, from the kernel or from fdatasync
    try:
        async def run() -> int:
            return await journal.append_here([b"x"])

        with pytest.raises(StorageError, match=r"journal\.sqlite3: cannot write the journal"):
            asyncio.run(run())
        with pytest.raises(StorageError, match="cannot write the journal"):
            journal.append([b"y"])
    finally:
        os.dup2(saved, wal.fd)
        os.close(saved)
    journal.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="io_uring")
def test_a_sync_whose_waiter_was_canceled_is_waited_for_before_the_next(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")

    async def run() -> int:
        first = asyncio.ensure_future(journal.append_here([b"a"]))
        await asyncio.sleep(0)  # written, its sync submitted
        first.cancel()
        end = await journal.append_here([b"b"])
        await journal.close_here()
        return end

    assert asyncio.run(run()) == 2
    journal.close()


def test_sqlite_syncs_nothing_in_a_commit_but_its_checkpoints_and_close_are_synced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between commits the writer runs ``synchronous=OFF`` (the commit's sync, and the log's
    header when the log starts over, are ``WalSync``'s); its own checkpoint at the log's
    ceiling and its close, which copy the log into the database file, run at FULL."""
    from sandex.journal.checkpoint import Checkpointer

    levels: list[tuple[str, int]] = []
    real_here = Checkpointer.here

    def here(self: Checkpointer, db: object) -> None:
        levels.append(("here", db.execute("PRAGMA synchronous").fetchone()[0]))  # type: ignore[attr-defined]
        real_here(self, db)  # type: ignore[arg-type]

    monkeypatch.setattr(Checkpointer, "here", here)
    monkeypatch.setattr(Checkpointer, "committed", lambda self, written: True)  # the ceiling
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)
    level = journal._db.execute("PRAGMA synchronous").fetchone()[0]
    assert level == 0  # OFF

    async def run() -> None:
        for n in range(3):
            await journal.append_here([b"r%d" % n])
        await journal.close_here()

    asyncio.run(run())
    journal.append([b"r3"])
    assert levels == [("here", 2)] * 4  # FULL, on the loop's executor and blocking alike
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 0  # back to OFF

    class Closing:  # the connection, noting its level when closed
        def __init__(self, db: object) -> None:
            self.db = db

        def execute(self, *args: object) -> object:
            return self.db.execute(*args)  # type: ignore[attr-defined]

        def close(self) -> None:
            levels.append(("close", self.db.execute("PRAGMA synchronous").fetchone()[0]))  # type: ignore[attr-defined]
            self.db.close()  # type: ignore[attr-defined]

    journal._db = Closing(journal._db)  # type: ignore[assignment]
    journal.close()
    assert levels[-1] == ("close", 2)
    assert not Path(f"{path}-wal").exists()  # the last checkpoint copied it all
    again = SqliteJournal(path)
    assert [body for _, body in again.read(0)] == [b"r0", b"r1", b"r2", b"r3"]
    again.close()
