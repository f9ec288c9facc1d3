"""Storage faults are reported as what they are, and a failed batch leaves nothing behind.

SQLite's own limits make the faults real: ``max_page_count`` reached is SQLITE_FULL exactly
as a full disk is, and ``query_only`` is SQLITE_READONLY as a read-only file is.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from sandex.journal import SqliteJournal, StorageError
from sandex.journal.store import describe


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
    journal._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    written = 0
    with pytest.raises(StorageError) as caught:
        for _ in range(1000):
            journal.append([b"x" * 300] * 4)
            written += 4
    message = str(caught.value)
    assert message == (f"{tmp_path / 'journal.sqlite3'}: cannot write the journal: the disk is "
                       "full (SQLite: database or disk is full)")
    assert "rollback" not in message and written > 0
    assert journal.last_position == written
    journal.close()
    reopened = SqliteJournal(tmp_path / "journal.sqlite3")  # every acknowledged batch is there
    assert reopened.last_position == written
    reopened.close()


def test_a_read_only_journal_is_reported_as_such(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    journal.append([b"a"])
    journal._db.execute("PRAGMA query_only = 1")
    with pytest.raises(StorageError, match="cannot write the journal: it is read-only"):
        journal.append([b"b", b"c"])
    assert journal.last_position == 1 and not journal._db.in_transaction
    journal._db.execute("PRAGMA query_only = 0")
    assert journal.append([b"b"]) == 2  # nothing of the refused batch was kept
    assert [body for _, body in journal.read()] == [b"a", b"b"]
    journal.close()


def test_opening_what_is_not_a_journal_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot open the journal: it is not a SQLite "
                                           "database"):
        SqliteJournal(path)


def test_opening_in_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open the journal: it cannot be opened"):
        SqliteJournal(tmp_path / "nowhere" / "journal.sqlite3")


@pytest.mark.parametrize(("exc", "expected"), [
    (OSError(errno.ENOSPC, "No space left on device"),
     "the disk is full (No space left on device)"),
    (OSError(errno.EROFS, "Read-only file system"),
     "it is on a read-only file system (Read-only file system)"),
    (OSError(errno.EACCES, "Permission denied"), "permission denied (Permission denied)"),
    (OSError(errno.ENOENT, "No such file or directory"), "No such file or directory"),
])
def test_os_errors_are_named(exc: OSError, expected: str) -> None:
    assert describe(exc) == expected


def test_a_locked_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    SqliteJournal(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("INSERT INTO meta VALUES ('x', 1)")
    finally:
        other.close()
        holder.close()
    assert describe(caught.value) == ("it is locked by another process (SQLite: database is "
                                      "locked)")
