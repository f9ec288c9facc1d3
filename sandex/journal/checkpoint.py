"""The journal's WAL checkpoints, off the commit path.

SQLite's default copies the write-ahead log into the database file inside the commit that
takes the log past 1,000 pages: that one commit also writes the copied pages and fsyncs the
database file (1.2 ms on a quiet disk, 8.5 ms on a busy one), and every command waiting for
it waits longer. ``SqliteJournal`` turns that off on its writer connection
(``wal_autocheckpoint=0``) and hands checkpoints to a ``Checkpointer``: a second connection on
a thread of its own that runs ``PRAGMA wal_checkpoint(PASSIVE)`` once the writer has committed
about ``EVERY_PAGES`` pages since the last one.

A passive checkpoint never takes the writer's lock and never waits for it: it copies the
frames committed before it began, syncs the log first and the database file after (the
connection is ``synchronous=FULL``), and only then marks them copied. The writer goes on
appending meanwhile. A crash during a checkpoint loses nothing: the log stays the truth until
its frames are in the database file, and opening the journal again replays it (SQLite's own
recovery).

SQLite starts the log from its beginning again only at a write transaction that begins when
every frame has been copied. The thread therefore runs up to ``CATCH_UP`` checkpoints a wake,
each copying what the writer added during the one before, until one copies all; when the
writer is idle for a moment (below saturation, nearly always) the log is restarted and stays
about ``EVERY_PAGES`` long. A writer that never pauses could still outrun it, so after about
``CEILING_PAGES`` pages without the thread finding the log shorter than half that, the
writer runs a passive checkpoint itself, once: it copies only what the thread has not
(a few hundred pages at most), and its next transaction restarts the log.
It never waits for the thread: while the thread is checkpointing, it tries again after its
next commit.
The log is bounded by about ``CEILING_PAGES`` pages whatever the load, and a failed
background checkpoint (logged once; the log keeps every record) changes nothing else.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("sandex.journal")

EVERY_PAGES = 256  # about 1 MB of log between two background checkpoints
CATCH_UP = 4  # checkpoints at most per wake, until one copies every frame
CEILING_PAGES = 4096  # about 16 MB: the writer checkpoints once itself


class Checkpointer:
    """Runs passive checkpoints of one WAL-mode database on a thread of its own.

    The writer calls ``committed`` after each commit with the bytes it wrote (and checkpoints
    itself when that says so); the thread (and its connection) starts with the first
    checkpoint due, so a journal only read starts none.
    ``close`` stops the thread and closes its connection, before the writer's own close.
    """

    def __init__(self, path: Path, every_pages: int = EVERY_PAGES,
                 ceiling_pages: int = CEILING_PAGES) -> None:
        self.path = path
        self.every_pages = every_pages
        self.ceiling_pages = ceiling_pages
        self.checkpoints = 0  # completed by the thread (tests, benches)
        self._due = 0  # pages committed since the thread was last woken
        self._since_writer = 0  # pages committed since the writer last checkpointed itself
        self._wake = threading.Event()
        self._lock = threading.Lock()  # held by whoever checkpoints (thread or writer)
        self._closing = False
        self._thread: threading.Thread | None = None
        self._failed = False

    def committed(self, written: int) -> bool:
        """After a commit of ``written`` bytes of records: wake the thread when a checkpoint is
        due; return whether the writer should checkpoint itself now (the ceiling: ``here``).
        An estimate in pages: the records, plus the page each commit rewrites."""
        pages = 1 + (written >> 12)
        self._due += pages
        self._since_writer += pages
        if self._due >= self.every_pages:
            self._due = 0
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandex-checkpoint",
                                                daemon=True)
                self._thread.start()
            self._wake.set()
        return self._since_writer >= self.ceiling_pages

    def here(self, db: sqlite3.Connection) -> None:
        """The writer's own checkpoint at the ceiling, on its connection ``db``: copy what the
        thread has not, so the writer's next transaction starts the log again. Never waits:
        while the thread is checkpointing (its checkpoint would make this one find the log
        busy), it is left to the next commit. A failure only leaves the log longer."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self._since_writer = 0
        except sqlite3.Error as exc:
            self._since_writer = 0  # tried: again after another ceiling's worth
            log.warning("%s: checkpoint failed (the write-ahead log keeps every record): %s",
                        self.path, exc)
        finally:
            self._lock.release()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=FULL")  # sync the log before, the file after
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closing:
                    return
                self._checkpoint(db)
        except sqlite3.Error as exc:  # the connection itself failed: the writer takes over
            self._fail(exc)
        finally:
            if db is not None:
                db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        """Checkpoint until one finds the log as the one before left it (each reports the
        log's length when it began: a checkpoint that finds nothing new copies nothing and
        syncs nothing)."""
        before = -1
        for _ in range(CATCH_UP):
            try:  # fetchall: a statement left open would hold a read lock on the log
                with self._lock:
                    busy, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
            except sqlite3.Error as exc:
                self._fail(exc)
                return
            self.checkpoints += 1
            if frames < self.ceiling_pages // 2:
                self._since_writer = 0  # the log is short (restarted): no need for the writer
            if busy or frames == before or self._closing:
                return
            before = frames

    def _fail(self, exc: BaseException) -> None:
        if not self._failed:
            self._failed = True
            log.warning("%s: a background checkpoint failed (the write-ahead log keeps every "
                        "record; the writer checkpoints when it grows): %s", self.path, exc)

    def close(self) -> None:
        """Stop the thread (after the checkpoint it is running, if any) and close its
        connection."""
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
