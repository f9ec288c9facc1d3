"""The journal's storage: an append-only sequence of checksummed records.

``SqliteJournal`` is the embedded default: stdlib ``sqlite3`` in WAL mode with
``synchronous=FULL``, so a batch's transaction is on disk (fsync of the WAL) when ``append``
returns, and survives a process crash or a power cut. One transaction per batch is the
group commit: one fsync covers every command of the batch.

Each record carries a CRC-32 of its body, and positions are contiguous from 1. On open the
whole journal is checked: a bad *last* record is a torn tail (written when the process
died, never acknowledged) and is removed with a log line; a bad or missing record anywhere
else is corruption, and opening refuses with the file and position, changing nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

log = logging.getLogger("sandex.journal")

FORMAT = 1


class JournalCorrupt(RuntimeError):
    """The journal cannot be trusted; the message names the file and the position."""


class Journal(Protocol):
    """What the node needs of a journal: append a batch durably, read back in order.

    ``blocking``: whether ``append`` waits on I/O (the node then calls it on a writer thread
    and group-commits); a journal in memory is appended to in line.
    """

    last_position: int
    blocking: bool

    def append(self, records: list[bytes]) -> int: ...

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]: ...

    def close(self) -> None: ...


class NullJournal:
    """``--ephemeral``: positions advance, nothing is kept (nothing could be replayed)."""

    blocking = False

    def __init__(self) -> None:
        self.last_position = 0

    def append(self, records: list[bytes]) -> int:
        self.last_position += len(records)
        return self.last_position

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        return iter(())

    def close(self) -> None:
        pass


class MemoryJournal:
    """The same interface as ``SqliteJournal``, kept in a list (tests)."""

    blocking = False

    def __init__(self) -> None:
        self._records: list[bytes] = []
        self.last_position = 0

    def append(self, records: list[bytes]) -> int:
        self._records.extend(records)
        self.last_position = len(self._records)
        return self.last_position

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        for index in range(after, len(self._records)):
            yield index + 1, self._records[index]

    def close(self) -> None:
        pass


class SqliteJournal:
    """Records in ``journal.sqlite3`` under a data directory (see the module docstring)."""

    blocking = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS journal ("
                         "position INTEGER PRIMARY KEY, crc INTEGER NOT NULL, body BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value)")
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
        try:
            self.last_position = self._check()
        except BaseException:
            self._db.close()  # a refused open leaves no connection (nor -wal/-shm) behind
            raise

    def _check(self) -> int:
        """Verify every record; drop a torn tail; return the last good position."""
        expected = 1
        bad: int | None = None
        for position, crc, body in self._db.execute(
                "SELECT position, crc, body FROM journal ORDER BY position"):
            if bad is not None:
                raise JournalCorrupt(f"{self.path}: record at position {bad} is corrupt "
                                     "(checksum mismatch) and is not the last")
            if position != expected:
                raise JournalCorrupt(f"{self.path}: gap in the journal: position {expected} "
                                     f"is missing (next is {position})")
            if not isinstance(body, bytes) or zlib.crc32(body) != crc:
                bad = position
            expected = position + 1
        if bad is not None:
            log.warning("%s: torn tail: record at position %d was never acknowledged; "
                        "truncated", self.path, bad)
            self._db.execute("DELETE FROM journal WHERE position = ?", (bad,))
            return bad - 1
        return expected - 1

    def append(self, records: list[bytes]) -> int:
        """Write ``records`` in one transaction; durable when this returns."""
        first = self.last_position + 1
        rows = [(first + i, zlib.crc32(body), body) for i, body in enumerate(records)]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO journal VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.last_position = first + len(records) - 1
        return self.last_position

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        for position, _crc, body in self._db.execute(
                "SELECT position, crc, body FROM journal WHERE position > ? ORDER BY position",
                (after,)):
            yield position, body

    def close(self) -> None:
        self._db.close()
