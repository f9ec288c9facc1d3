"""The journal's WAL checkpoints run off the commit path and keep the log bounded.

The writer connection never checkpoints by itself (``wal_autocheckpoint=0``); a second
connection on a thread of its own copies the log into the database file. These tests count
the checkpoints, watch the log's size, reopen what was written, and kill a writer mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandex.journal import SqliteJournal

RECORD = b"r" * 300


def wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def settle(journal: SqliteJournal, checkpoints: int) -> None:
    """Wait (at most 10 s) until the thread has run ``checkpoints`` checkpoints."""
    deadline = time.monotonic() + 10
    while journal._checkpointer.checkpoints < checkpoints and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_writer_does_not_checkpoint_and_the_thread_keeps_the_log_short(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    journal._checkpointer.every_pages = 32
    journal._checkpointer.ceiling_pages = 200
    largest = 0
    for i in range(3000):
        journal.append([RECORD])
        if i % 100 == 99:
            settle(journal, (i + 1) // 64)  # let the thread run on a loaded machine
            largest = max(largest, wal_bytes(path))
    assert journal._checkpointer.checkpoints >= 3000 // 64
    # 3,000 commits of 300 bytes write over 3,000 log frames (12 MB) without checkpoints;
    # with them, the log restarts from its beginning and stays near its ceiling.
    assert 0 < largest < 1000 * 4096
    journal.close()
    assert not path.with_name(path.name + "-wal").exists()  # the writer's close copied all
    reopened = SqliteJournal(path)
    assert reopened.last_position == 3000
    assert [body for _, body in reopened.read(2990)] == [RECORD] * 10
    reopened.verify()
    reopened.close()


def test_a_journal_that_is_only_read_starts_no_thread(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)
    journal.append([RECORD] * 3)
    journal.close()
    reopened = SqliteJournal(path)
    assert len(list(reopened.read())) == 3
    assert reopened._checkpointer._thread is None
    reopened.close()


def test_the_writer_checkpoints_itself_when_the_thread_is_behind(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)
    journal._checkpointer.every_pages = 10**9  # the thread is never woken
    journal._checkpointer.ceiling_pages = 50
    largest = 0
    for _ in range(2000):
        journal.append([RECORD])
        largest = max(largest, wal_bytes(path))
    assert journal._checkpointer._thread is None and journal._checkpointer.checkpoints == 0
    assert 0 < largest < 120 * 4096  # the ceiling, not 2,000 frames
    journal.close()
    reopened = SqliteJournal(path)
    assert reopened.last_position == 2000
    reopened.close()


WRITER = """
import sys
from pathlib import Path
from sandex.journal import SqliteJournal
journal = SqliteJournal(Path(sys.argv[1]))
journal._checkpointer.every_pages = 8
while True:
    position = journal.append([b"k" * 500] * 3)
    print(position, flush=True)
"""


def test_a_writer_killed_while_checkpoints_run_keeps_every_acknowledged_record(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    acknowledged = 0
    try:
        for line in process.stdout:
            acknowledged = int(line)
            if acknowledged >= 6000:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert acknowledged >= 6000
    journal = SqliteJournal(path)
    assert journal.last_position >= acknowledged
    assert journal.last_position % 3 == 0  # whole batches only
    journal.verify()
    assert sum(1 for _ in journal.read()) == journal.last_position
    journal.close()
