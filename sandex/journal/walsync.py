"""The sync that makes a ``SqliteJournal`` commit durable: ``fdatasync`` of its write-ahead log.

SQLite's ``synchronous=FULL`` in WAL mode is ``NORMAL`` plus one sync of the log at the end
of each commit; the journal runs ``OFF`` (in WAL mode: ``NORMAL`` without the log header's
sync when a checkpointed log starts over, which this sync covers too) and makes that sync
itself (``now``), or has the
kernel make it while the event loop goes on (``later``: ``sandex.journal.uring``, the end
seen on an ``eventfd`` the loop watches). That lets a group commit be written on the event
loop (SQLite's part of a commit is a few ``pwrite`` calls into the page cache) and awaited
there, with no Python thread blocked in the sync (io_uring's worker is a kernel thread of
this process): no writer thread to hand each batch to and to take the interpreter lock back
from twice a commit. Where io_uring is not
available, ``later`` runs the same ``fdatasync`` on the loop's default executor.

Linux AIO (``IOCB_CMD_FDSYNC``) was tried first: the kernel runs its sync on the shared
per-CPU ``events`` workqueue, whose worker came late on a busy core (sync latency p50 0.6-2.8
ms, p90 3.8-12 ms against a thread's 0.3-1.7 and 0.7-5.2 on the loaded machine); io_uring's
worker is this process's own (p50 0.45-0.47, p90 0.67-5.5 in the same runs).

``prime`` wakes the disk before a commit that is known to come (the scheduler's next timer):
a sync with nothing new to write, on a second io_uring ring that nobody waits on (a thread
where there is no io_uring), when the log has not been synced for ``PRIME_IDLE_S``. On the
machine sandex is measured on (a VM's virtual disk), the first sync after about a second of
idling takes ~5 ms in one case out of five to ten, and a sync with nothing to write a few
milliseconds before it takes that away (docs/fix.md, "The disk woken before the tick").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path

from sandex.journal.uring import UringSync

PRIME_IDLE_S = 0.1  # ``prime`` does nothing if the log was synced more recently than this


class WalSync:
    """``fdatasync`` of the write-ahead log at ``wal`` (opened read-only: a sync needs no
    more), blocking (``now``) or awaited on an event loop (``later``)."""

    def __init__(self, wal: Path) -> None:
        self.fd = os.open(wal, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._kernel = UringSync.open(self.fd)
        except BaseException:
            os.close(self.fd)
            raise
        self._loop: asyncio.AbstractEventLoop | None = None  # whose reader watches ``_kernel``
        self._waiter: asyncio.Future[None] | None = None
        self._synced_at = time.monotonic()  # when the last sync (or prime) started
        self._primer: UringSync | None = None  # ``prime``'s ring, opened at its first
        self._priming = threading.Lock()  # held by a prime's thread while it uses ``fd``

    @property
    def by_kernel(self) -> bool:
        """Whether ``later`` is a kernel request (io_uring), not an executor's thread."""
        return self._kernel is not None

    def now(self) -> None:
        """Sync the log; everything written to it before is on disk when this returns."""
        self._synced_at = time.monotonic()
        os.fdatasync(self.fd)

    def later(self) -> asyncio.Future[None]:
        """Start a sync of the log (on the running loop); the future is done when everything
        written to it before this call is on disk (``OSError`` if the sync failed)."""
        self._synced_at = time.monotonic()
        loop = self._loop  # ``get_running_loop`` is a ``getpid`` system call (Python 3.11)
        if loop is None or not loop.is_running():
            loop = asyncio.get_running_loop()
        kernel = self._kernel
        if kernel is None:
            return loop.run_in_executor(None, os.fdatasync, self.fd)
        if loop is not self._loop:
            self.close_here()
            loop.add_reader(kernel.ready, self._reap)
            self._loop = loop
        if kernel.pending:  # the waiter of the sync before was canceled: that sync is older
            kernel.wait()
        kernel.submit()
        self._waiter = waiter = loop.create_future()
        return waiter

    def prime(self) -> bool:
        """Start a sync with nothing new to write, unless the log was synced in the last
        ``PRIME_IDLE_S``; whether one started. It wakes the disk for the commit that follows;
        nothing waits for it, and a failure is the next commit's to report. A kernel request
        on a second ring of its own where io_uring works (~55 µs of CPU here), else on a
        thread (~180 µs)."""
        started = time.monotonic()
        if started - self._synced_at < PRIME_IDLE_S or self.fd < 0:
            return False
        self._synced_at = started
        if self._kernel is not None:
            with contextlib.suppress(OSError):  # no second ring: the thread below
                return self._prime_by_kernel()
        threading.Thread(target=self._prime_sync, name="sandex-prime", daemon=True).start()
        return True

    def _prime_by_kernel(self) -> bool:
        primer = self._primer
        if primer is None:
            primer = self._primer = UringSync(self.fd)
        elif primer.pending:
            with contextlib.suppress(OSError):  # the prime before failed: nobody's concern
                if not primer.reap():
                    return False  # the prime before still runs: the disk is awake
        primer.submit()
        return True

    def _prime_sync(self) -> None:
        with self._priming, contextlib.suppress(OSError):
            if self.fd >= 0:
                os.fdatasync(self.fd)

    def _reap(self) -> None:
        """The eventfd is readable (on the loop): the sync asked for is done."""
        assert self._kernel is not None
        try:
            if not self._kernel.reap():
                return
        except OSError as exc:
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            return
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close_here(self) -> None:
        """Stop watching for syncs on the loop that ``later`` ran on (on that loop)."""
        if self._loop is not None and self._kernel is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._kernel.ready)
        self._loop = None

    def close(self) -> None:
        """Release the log's descriptor (and the kernel context: waits for a sync in flight)."""
        for ring in (self._kernel, self._primer):
            if ring is not None:
                ring.close()
        self._kernel = self._primer = None
        with self._priming:  # a prime in flight ends first
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
