"""The journal's storage: an append-only sequence of checksummed records.

``SqliteJournal`` is the embedded default: stdlib ``sqlite3`` in WAL mode, so a batch's
transaction is on disk (fsync of the WAL) when ``append`` returns, and survives a process
crash or a power cut. One transaction per batch is the group commit: one fsync covers every
command of the batch. That fsync is the journal's own (``sandex.journal.walsync``: the writer's
connection runs ``synchronous=OFF`` between commits, so SQLite syncs nothing inside a
transaction, not even the log's header when the log starts over; ``FULL`` while it
checkpoints, compacts or closes), so that a batch can also be written on the event loop and
its sync awaited there (``append_here``) with no sync on the loop.
The log is copied into the database file by checkpoints on a thread of their own
(``sandex.journal.checkpoint``), not inside a commit.

Each record carries a CRC-32 of its body, and positions are contiguous from 1 (or from
after the compaction point, see ``compact``). On open, positions are checked for gaps (a
cheap count) and the records after ``check_after`` (the newest snapshot) are checksummed: a
bad *last* record is a torn tail (written when the process died, never acknowledged) and is
removed with a log line; a bad or missing record anywhere else is corruption, and opening
refuses with the file and position, changing nothing. A ``deferred`` open (start-up, which
replays every record after the snapshot next) checksums only the last of them and leaves the
rest to ``read_chunks``, which refuses a bad one in the same words: each record is read once.
``read`` checksums every record it returns, so a replay from further back checks what it
reads; ``sandex verify`` checks all.

The ``meta`` table says how to read the records: ``format`` (``FORMAT`` for a journal this
code wrote or upgraded) and ``format2_from``, the first position written in format 2 (the
records before it are format 1, see ``sandex.node.codec``). A journal of an unknown or newer
format is refused before anything is written.

A storage fault (disk full, read-only file system, locked, I/O error) is raised as
``StorageError`` naming the file and what the fault is, on open as on ``append``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from sandex.journal import reader
from sandex.journal.checkpoint import Checkpointer
from sandex.journal.checksum import crc32
from sandex.journal.walsync import WalSync

log = logging.getLogger("sandex.journal")

FORMAT = 2  # 1: records before format2_from are format 1 (class-name tags)
KNOWN_FORMATS = (1, 2)
CHUNK = 4096  # records per ``read_chunks`` chunk (replay)
_flat = chain.from_iterable  # the rows' values in one list (``write``)
INSERT_ROWS = 64  # rows per INSERT statement of ``append`` (so at most 64 distinct statements)


class JournalCorrupt(RuntimeError):
    """The journal cannot be trusted; the message names the file and the position."""


class JournalFormatError(JournalCorrupt):
    """The journal was written in a format this code does not read (a newer sandex)."""


class StorageError(RuntimeError):
    """The file system or SQLite refused: the message names the file and the fault."""


class JournalUncertain(StorageError):
    """A replicated journal did not answer an append in time: the batch may or may not be in
    it (``sandex.cluster``); the writer must read the log again before going on."""


class JournalFenced(RuntimeError):
    """A replicated journal refused an append because another writer extended the log
    first (``sandex.cluster``): this writer was deposed, and nothing of the batch is kept."""


# What a storage fault is, by SQLite's primary result code and by errno.
_SQLITE_FAULTS = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "it is read-only (read-only file system or no write permission)",
    sqlite3.SQLITE_BUSY: "it is locked by another process",
    sqlite3.SQLITE_LOCKED: "it is locked by another process",
    sqlite3.SQLITE_IOERR: "an I/O error (the disk or the file system failed)",
    sqlite3.SQLITE_CANTOPEN: "it cannot be opened (missing directory or no permission)",
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_AUTH: "permission denied",
    sqlite3.SQLITE_NOTADB: "it is not a SQLite database",
    sqlite3.SQLITE_CORRUPT: "it is damaged (SQLite reports corruption)",
}
_OS_FAULTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "an I/O error (the disk or the file system failed)",
}


SYNC_OFF = "PRAGMA synchronous=OFF"  # the writer's level between commits (``_open``)
SYNC_FULL = "PRAGMA synchronous=FULL"  # its level while it checkpoints, compacts, closes


def describe(exc: BaseException) -> str:
    """A storage fault as what it is (``the disk is full``), with the system's own words."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        what = _SQLITE_FAULTS.get(code & 0xFF) if isinstance(code, int) else None
        said = f"SQLite: {exc}"
    elif isinstance(exc, OSError):
        what = _OS_FAULTS.get(exc.errno) if exc.errno is not None else None
        said = exc.strerror or str(exc)
    else:
        what, said = None, repr(exc)
    return f"{what} ({said})" if what else said


_F = TypeVar("_F", bound=Callable[..., Any])


def _storage_faults(doing: str) -> Callable[[_F], _F]:
    """Turn SQLite's and the OS's errors in a method into ``StorageError`` naming the file."""
    def wrap(method: _F) -> _F:
        @functools.wraps(method)
        def wrapper(self: SqliteJournal, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.Error, OSError) as exc:
                db = getattr(self, "_db", None)
                if doing == "open" and db is not None:
                    db.close()  # a refused open leaves no connection behind
                raise StorageError(f"{self.path}: cannot {doing} the journal: "
                                   f"{describe(exc)}") from exc
        return wrapper  # type: ignore[return-value]
    return wrap


@functools.cache
def _insert_sql(rows: int) -> str:
    """The INSERT of ``rows`` journal rows (positions, checksums, bodies) in one statement."""
    return "INSERT INTO journal VALUES " + ", ".join(["(?, ?, ?)"] * rows)


class Journal(Protocol):
    """What the node needs of a journal: append a batch durably, read back in order.

    ``blocking``: whether ``append`` waits on I/O (the node then calls it on a writer thread
    and group-commits); a journal in memory is appended to in line.
    """

    last_position: int
    blocking: bool
    legacy_end: int  # the records up to here are in record format 1
    first_position: int  # 1, or the first record kept after a compaction

    def append(self, records: list[bytes]) -> int: ...

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]: ...

    def close(self) -> None: ...


@runtime_checkable
class AppendsHere(Protocol):
    """A ``blocking`` journal whose appends can also be awaited on the node's event loop
    (``append_here``: the same guarantees as ``append``, no writer thread): SQLite's (the
    sync a kernel request) and the JetStream journal (network round trips). ``close_here``
    releases what ``append_here`` opened on that loop, before ``close``."""

    async def append_here(self, records: list[bytes]) -> int: ...

    async def close_here(self) -> None: ...


@runtime_checkable
class Primes(Protocol):
    """A journal whose storage may be slow to wake after idling: ``prime`` starts, without
    waiting, what wakes it for a commit that is known to come (SQLite's: a sync of its log
    with nothing new, ``WalSync.prime``); whether it started one."""

    def prime(self) -> bool: ...


class NullJournal:
    """``--ephemeral``: positions advance, nothing is kept (nothing could be replayed)."""

    blocking = False
    legacy_end = 0
    first_position = 1

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
    legacy_end = 0
    first_position = 1

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


class _CursorRows:
    """``reader.Rows`` by ``sqlite3``: a cursor's rows, ``fetchmany`` a chunk."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def chunk(self, size: int) -> tuple[list[object], list[object]]:
        rows = self._cursor.fetchmany(size)
        if not rows:
            return [], []
        crcs, bodies = zip(*rows, strict=True)
        return list(crcs), list(bodies)

    def lines(self, size: int) -> tuple[int, bytes]:
        """None checked here: every row is the caller's to check (``chunk``)."""
        return 0, b""

    def close(self) -> None:
        self._cursor.close()


class SqliteJournal:
    """Records in ``journal.sqlite3`` under a data directory (see the module docstring)."""

    blocking = True
    _ceiling = False  # whether the last write reached the log's ceiling (``Checkpointer``)

    @_storage_faults("open")
    def __init__(self, path: Path, check_after: int = 0, deferred: bool = False) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._open(check_after, deferred)
        except BaseException:
            self._db.close()  # a refused open leaves no connection (nor -wal/-shm) behind
            raise

    def _open(self, check_after: int, deferred: bool) -> None:
        found = self._meta("format")
        if found is not None and found not in KNOWN_FORMATS:
            raise JournalFormatError(f"{self.path}: journal format {found!r}; this sandex "
                                     f"reads formats up to {FORMAT}: refusing to open it")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Checkpoints run on a connection of their own, off the commit path (checkpoint.py).
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = Checkpointer(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS journal ("
                         "position INTEGER PRIMARY KEY, crc INTEGER NOT NULL, body BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value)")
        # Take the write lock once: a journal another program is writing is refused now (as
        # locked), not at the first acknowledged write.
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("COMMIT")
        compacted = self._meta("compacted_to")
        self.first_position = 1 + (compacted if isinstance(compacted, int) else 0)
        after = max(check_after, self.first_position - 1)
        # Deferred (a replay reads every record next anyway): only the last is checked now; the
        # rest are checked by the ``read`` that replays them. A bad last record takes the full
        # check first, so more than one bad record still refuses before anything is removed.
        # A format-1 journal is upgraded below, so it is checked whole before that write.
        self.last_position = (self._check_last(after) if deferred and found == FORMAT
                              else self._check(after))
        if found != FORMAT:  # a new journal, or format 1: what follows is format 2
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('format2_from', ?)",
                             (self.last_position + 1,))
            self._db.execute("COMMIT")
        format2_from = self._meta("format2_from")
        self.legacy_end = format2_from - 1 if isinstance(format2_from, int) else 0
        # From here on a commit is synced by ``_wal`` (what FULL did after each commit): the
        # log exists (the write lock was taken above), so its descriptor stays valid while
        # this connection is open
        self._wal = WalSync(Path(f"{self.path}-wal"))
        # OFF, not NORMAL: in WAL mode they differ only in the syncs this connection makes
        # itself, which are the log's header when a checkpointed log starts over (NORMAL
        # syncs it inside the transaction's INSERT: on the event loop, ~1 commit in 250) and
        # its own checkpoints. The header is covered by ``_wal``'s sync of that commit (an
        # fdatasync flushes the whole file, header and frames); the checkpoints and the
        # close, which copy the log into the database file, run at FULL (``_safely``)
        self._db.execute(SYNC_OFF)

    def _meta(self, name: str) -> object:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a new file
                return None
            raise
        return None if row is None else row[0]

    def _extent(self) -> tuple[int, int, int]:
        """The journal's record count, first and last position (0 if empty). Three
        queries: ``MIN`` and ``MAX`` alone are one B-tree descent each, and ``COUNT(*)``
        alone counts the cells of each page; together in one query they scan every row."""
        db = self._db
        count = db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
        low = db.execute("SELECT MIN(position) FROM journal").fetchone()[0]
        high = db.execute("SELECT MAX(position) FROM journal").fetchone()[0]
        return int(count), int(low or 0), int(high or 0)

    def _check(self, after: int) -> int:
        """Check positions are contiguous, and the records after ``after``; drop a torn
        tail; return the last good position."""
        count, low, high = self._extent()
        if count and (low != self.first_position or high - low + 1 != count):
            self._find_gap()
        expected = max(after, self.first_position - 1) + 1
        bad: int | None = None
        for position, crc, body in self._db.execute(
                "SELECT position, crc, body FROM journal WHERE position >= ? ORDER BY position",
                (expected,)):
            if bad is not None:
                raise JournalCorrupt(f"{self.path}: record at position {bad} is corrupt "
                                     "(checksum mismatch) and is not the last")
            if not isinstance(body, bytes) or crc32(body) != crc:
                bad = position
            expected = position + 1
        if bad is not None:
            log.warning("%s: torn tail: record at position %d was never acknowledged; "
                        "truncated", self.path, bad)
            self._db.execute("DELETE FROM journal WHERE position = ?", (bad,))
            return bad - 1
        return int(high) if count else self.first_position - 1

    def _check_last(self, after: int) -> int:
        """``_check`` for a journal whose records are all read next: check positions are
        contiguous and the last record after ``after``; if it is bad, the full check."""
        count, low, high = self._extent()
        if count and (low != self.first_position or high - low + 1 != count):
            self._find_gap()
        if not count or high <= after:
            return int(high) if count else self.first_position - 1
        crc, body = self._db.execute("SELECT crc, body FROM journal WHERE position = ?",
                                     (high,)).fetchone()
        if not isinstance(body, bytes) or crc32(body) != crc:
            return self._check(after)
        return int(high)

    def _find_gap(self) -> None:
        expected = self.first_position
        for (position,) in self._db.execute("SELECT position FROM journal ORDER BY position"):
            if position != expected:
                break
            expected += 1
        raise JournalCorrupt(f"{self.path}: gap in the journal: position {expected} "
                             f"is missing (next is {position})")

    def verify(self) -> None:
        """Checksum every record (``sandex verify``); ``JournalCorrupt`` names the first bad."""
        for _ in self.read(self.first_position - 1):
            pass

    @_storage_faults("write")
    def append(self, records: list[bytes]) -> int:
        """Write ``records`` in one transaction; durable when this returns.

        On failure nothing of the batch is kept (rolled back, by SQLite itself after a full
        disk or an I/O error) and ``StorageError`` says what failed.
        """
        position = self.write(records)
        self._wal.now()
        if self._ceiling:
            self._checkpoint_here()
        return position

    async def append_here(self, records: list[bytes]) -> int:
        """``append`` on the event loop: the transaction written here (into the page cache),
        its sync awaited (``WalSync.later``: a kernel request, no Python thread blocked)."""
        position = self.write(records)
        try:
            await self._wal.later()
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot write the journal: "
                               f"{describe(exc)}") from exc
        if self._ceiling:  # copies pages and syncs the database file: not on the loop
            await asyncio.get_running_loop().run_in_executor(None, self._checkpoint_here)
        return position

    def _checkpoint_here(self) -> None:
        """The writer's own checkpoint at the log's ceiling (``Checkpointer.here``), with the
        syncs of a checkpoint: the log's before, the database file's after."""
        with self._safely():
            self._checkpointer.here(self._db)

    @contextlib.contextmanager
    def _safely(self) -> Iterator[None]:
        """This connection at ``synchronous=FULL`` meanwhile (what copies the log into the
        database file, or writes another file, syncs it), then back to OFF."""
        self._db.execute(SYNC_FULL)
        try:
            yield
        finally:
            self._db.execute(SYNC_OFF)

    async def close_here(self) -> None:
        """Stop watching for ``append_here``'s syncs on this loop."""
        self._wal.close_here()

    def prime(self) -> bool:
        """Wake the disk for a commit that is known to come (``WalSync.prime``)."""
        return self._wal.prime()

    @_storage_faults("write")
    def write(self, records: list[bytes]) -> int:
        """Write ``records`` in one transaction, not yet synced (``append`` syncs it);
        ``StorageError`` as for ``append``."""
        first = self.last_position + 1
        db = self._db
        # A batch of up to INSERT_ROWS records is one INSERT, which SQLite runs as a
        # transaction of its own (autocommit: all its rows or none; the log's sync is the
        # caller's, ``WalSync``): no BEGIN and COMMIT statements, each a step and a reset
        # with the GIL released and taken back around both
        single = len(records) <= INSERT_ROWS
        if not single:
            db.execute("BEGIN")
        try:
            # Up to INSERT_ROWS rows a statement (one step each), not one ``executemany`` step
            # a row: the same rows for about a quarter fewer instructions a record. A body is
            # bound from a ``bytearray``: the same BLOB, but ``bytes`` is not among the types
            # ``sqlite3`` binds without asking for an adapter first (a failed attribute
            # lookup whose AttributeError message is formatted and dropped, ~3,000
            # instructions a record). Each row's three values are made by ``zip`` and ``map``
            # in C, not a Python loop's tuple a record (the same list, in the same order)
            for start in range(0, len(records), INSERT_ROWS):
                part = records if single else records[start:start + INSERT_ROWS]
                position = first + start
                db.execute(_insert_sql(len(part)), list(_flat(zip(
                    range(position, position + len(part)), map(crc32, part),
                    map(bytearray, part), strict=False))))
            if not single:
                db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # SQLite may already have rolled back (disk full)
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error as rollback:  # keep the cause, not this consequence
                    log.warning("%s: rollback after a failed write failed too: %s",
                                self.path, rollback)
            raise
        self.last_position = first + len(records) - 1
        # the log's ceiling (checkpoint.py): the writer's own checkpoint, after the sync
        self._ceiling = self._checkpointer.committed(sum(map(len, records)))
        return self.last_position

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """The records after ``after``, in order, each checked against its checksum."""
        for position, crc, body in self._db.execute(
                "SELECT position, crc, body FROM journal WHERE position > ? ORDER BY position",
                (after,)):
            if not isinstance(body, bytes) or crc32(body) != crc:
                raise self._corrupt(position)
            yield position, body

    def read_chunks(self, after: int = 0, until: int | None = None,
                    size: int = CHUNK) -> Iterator[tuple[int, list[bytes]]]:
        """``read`` in chunks (replay): the records after ``after`` (to ``until``), as the
        first position of each chunk and up to ``size`` bodies, contiguous, each checked
        against its checksum (a whole chunk in a few C calls). The rows are read in C where
        ``sandex.journal.rows`` is built (``sandex.journal.reader``), else by ``sqlite3``."""
        end = self.last_position if until is None else min(until, self.last_position)
        # Positions were found contiguous on open (and appends keep them so): the rows in
        # order are the positions in order, checked by their number at the end.
        rows = self._rows(after, end)
        first = after + 1
        try:
            while bodies := self._checked(rows, first, size):
                yield first, bodies
                first += len(bodies)
        finally:
            rows.close()
        if first <= end:
            self._find_gap()  # fewer rows than positions: one is missing

    def read_lines(self, after: int = 0, until: int | None = None, size: int = CHUNK
                   ) -> Iterator[tuple[int, int, bytes, list[bytes] | None, bytes | None]]:
        """``read_chunks`` as a replay decodes them: each chunk's first position, how many
        records, their bodies joined by newlines, the bodies, and the lines' scan; ``None``
        for the bodies when the C reader checked the chunk (``Rows.lines``: no body holds a
        newline, so the lines are the bodies); the scan is what the C reader's thread wrote
        of them (``reader.use_scanner``, ``Rows.scanned``), else ``None``. Same records,
        checks and refusals as ``read_chunks``."""
        end = self.last_position if until is None else min(until, self.last_position)
        rows = self._rows(after, end)
        scanned = getattr(rows, "scanned", None)
        first = after + 1
        try:
            while True:
                count, joined = rows.lines(size)
                if count:
                    yield first, count, joined, None, scanned() if scanned else None
                    first += count
                    continue
                bodies = self._checked(rows, first, size)  # at a row ``lines`` left
                if not bodies:
                    break
                yield first, len(bodies), b"\n".join(bodies), bodies, None
                first += len(bodies)
        finally:
            rows.close()
        if first <= end:
            self._find_gap()  # fewer rows than positions: one is missing

    def _checked(self, rows: reader.Rows, first: int, size: int) -> list[bytes]:
        """``rows``' next chunk (from position ``first``), each body checked against its
        checksum; empty at the end."""
        crcs, bodies = rows.chunk(size)
        try:
            good = list(map(crc32, bodies)) == crcs
        except TypeError:  # a body that is not a BLOB
            good = False
        if not good:
            for position, crc, body in zip(range(first, first + len(bodies)), crcs, bodies,
                                           strict=True):
                if not isinstance(body, bytes) or crc32(body) != crc:
                    raise self._corrupt(position)
        return bodies  # type: ignore[return-value]  # all bytes: checked above

    def _rows(self, after: int, end: int) -> reader.Rows:
        """The rows after ``after`` to ``end``: read in C on a read-only connection of the
        reader's own when it is built and opens, else by ``sqlite3`` on this connection."""
        if reader.OPEN is not None:
            try:
                return reader.OPEN(self.path, after, end)
            except sqlite3.Error as exc:  # e.g. no read-only access: sqlite3 reads it
                log.debug("%s: the C reader did not open (%s): reading with sqlite3",
                          self.path, exc)
        return _CursorRows(self._db.execute(
            "SELECT crc, body FROM journal WHERE position > ? AND position <= ? "
            "ORDER BY position", (after, end)))

    def _corrupt(self, position: int) -> JournalCorrupt:
        last = " and is not the last" if position < self.last_position else ""
        return JournalCorrupt(f"{self.path}: record at position {position} is corrupt "
                              f"(checksum mismatch){last}")

    def compact(self, upto: int, archive: Path | None = None) -> int:
        """Take the records up to ``upto`` out of the journal (a verified snapshot covers
        them), first copying them to a new SQLite file ``archive`` if given; return how many.
        Later opens start at ``upto + 1``."""
        upto = min(upto, self.last_position)
        if upto < self.first_position:
            return 0
        with self._safely():  # the archive is a file of its own, synced by SQLite
            removed = self._compact(upto, archive)
        self._wal.now()
        self.first_position = upto + 1
        return removed

    def _compact(self, upto: int, archive: Path | None) -> int:
        if archive is not None:
            self._db.execute("ATTACH DATABASE ? AS archive", (str(archive),))
            try:
                self._db.execute("CREATE TABLE archive.journal AS SELECT * FROM journal "
                                 "WHERE position <= ?", (upto,))
            finally:
                self._db.execute("DETACH DATABASE archive")
        self._db.execute("BEGIN")
        removed = self._db.execute("DELETE FROM journal WHERE position <= ?", (upto,)).rowcount
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('compacted_to', ?)", (upto,))
        self._db.execute("COMMIT")
        return int(removed)

    def close(self) -> None:
        self._checkpointer.close()  # its connection first: the writer's close checkpoints all
        self._wal.close()
        try:  # that last checkpoint syncs the database file before the log is removed
            self._db.execute(SYNC_FULL)
        except sqlite3.Error as exc:  # closed anyway: the log stays, and is read next time
            log.warning("%s: could not ask for a synced close: %s", self.path, exc)
        self._db.close()
