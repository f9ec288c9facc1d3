"""Fault injection for a server started by ``tests/durability/test_disk_faults.py``.

Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``; the test puts this
directory there and names the fault in ``SANDEX_TEST_FAULT``. The faults are SQLite's and
the kernel's own errors, produced for real, only the moment is chosen:

* ``full:N``: the journal may grow by N more pages (SQLite's ``max_page_count``); then every
  write fails with SQLITE_FULL, exactly as on a full disk;
* ``readonly:N``: after N written batches SQLite refuses writes (``query_only``): the
  SQLITE_READONLY a read-only file gives;
* ``erofs``: opening a file for writing under the data dir fails with EROFS, as on a
  read-only file system;
* ``engine:SIZE``: the engine raises IndexError *after* applying an order of SIZE (units of
  1e-8): memory changed, the journal not, as a real bug would leave it.
* ``slowsync:MS`` or ``slowsync:MS:OK``: each group commit the node writes on its event loop
  (``SqliteJournal.append_here``) waits MS milliseconds before its write, as a slow disk's
  sync would make it wait: requests that come meanwhile join the next batch and wait for it;
  with OK, the batches after the first OK are refused by SQLite (``query_only``: the
  SQLITE_READONLY of ``readonly``), so a batch with many waiters fails.
* ``cancels``: no fault, a witness: each cancel a batch's shared future refuses
  (``Node._refuse_cancel``: a task canceled while it waited for a group commit) is logged at
  INFO, "batch future: cancel refused", so a test can tell the path was taken.

Several faults are given separated by commas.
"""

from __future__ import annotations

import errno
import os
from typing import Any


def _full(pages: int) -> None:
    from sandex.journal.store import SqliteJournal

    opened = SqliteJournal.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        count = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {count + pages}")

    SqliteJournal.__init__ = init  # type: ignore[method-assign]


def _readonly(batches: int) -> None:
    from sandex.journal.store import SqliteJournal

    write = SqliteJournal.write  # what ``append`` and ``append_here`` write a batch with
    written = [0]

    def refusing(self: Any, records: list[bytes]) -> int:
        written[0] += 1
        if written[0] > batches:
            self._db.execute("PRAGMA query_only = 1")
        return write(self, records)  # type: ignore[no-any-return]

    SqliteJournal.write = refusing  # type: ignore[method-assign]


def _erofs() -> None:
    real_open = os.open

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    os.open = open_


def _engine(size: int) -> None:
    # a compiled Engine's methods cannot be replaced: this server runs the pure-Python core
    os.environ["SANDEX_PURE_PYTHON"] = "1"
    from sandex.core import Engine

    apply = Engine.apply

    def faulty(self: Any, command: Any) -> Any:
        events = apply(self, command)
        if getattr(command, "size", None) == size:
            raise IndexError("list index out of range")
        return events

    Engine.apply = faulty  # type: ignore[method-assign]


def _slowsync(ms: int, ok: int | None) -> None:
    import asyncio

    from sandex.journal.store import SqliteJournal

    append_here = SqliteJournal.append_here
    written = [0]

    async def slow(self: Any, records: list[bytes]) -> int:
        await asyncio.sleep(ms / 1000)
        written[0] += 1
        if ok is not None and written[0] > ok:
            self._db.execute("PRAGMA query_only = 1")
        return await append_here(self, records)  # type: ignore[no-any-return]

    SqliteJournal.append_here = slow  # type: ignore[method-assign]


def _cancels() -> None:
    import logging

    from sandex.node.node import Node

    refuse = Node._refuse_cancel

    def witnessed(self: Any, msg: Any = None) -> bool:
        logging.getLogger("sandex").info("batch future: cancel refused")
        return refuse(self, msg)

    Node._refuse_cancel = witnessed  # type: ignore[method-assign]


def _install(spec: str) -> None:
    for one in spec.split(","):
        _install_one(one)


def _install_one(spec: str) -> None:
    kind, _, value = spec.partition(":")
    if kind == "full":
        _full(int(value))
    elif kind == "readonly":
        _readonly(int(value))
    elif kind == "erofs":
        _erofs()
    elif kind == "engine":
        _engine(int(value))
    elif kind == "cancels":
        _cancels()
    elif kind == "slowsync":
        ms, _, ok = value.partition(":")
        _slowsync(int(ms), int(ok) if ok else None)
    else:
        raise SystemExit(f"SANDEX_TEST_FAULT: unknown fault {spec!r}")


if os.environ.get("SANDEX_TEST_FAULT"):
    _install(os.environ["SANDEX_TEST_FAULT"])
