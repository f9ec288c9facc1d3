"""Which reader a replay's ``SqliteJournal.read_chunks`` uses: the journal's rows read in C
(``sandex.journal.rows``, built by ``setup.py`` where SQLite's header is), else Python's
``sqlite3``. The two give the same rows, checksums and errors; the C one releases the GIL
once a chunk instead of four times a row (docs/performance.md, issue 18's ninth pass), and
checks a chunk's checksums with the same zlib-ng ``crc32`` called from C (tenth pass).
A thread of its own reads 32 chunks ahead of the replay (thirteenth pass);
``SANDEX_READ_AHEAD=N`` sets how many, ``0`` reads each chunk on the replay's thread.
That thread also scans each chunk's lines for the decode (``use_scanner``: the node's
``applying.SCANNER``, fourteenth pass), so the replay's thread only makes the objects.

The C reader is not used when ``SANDEX_PURE_PYTHON=1`` is set (the tests run both ways),
when its build is older than its source, or when it calls another copy of SQLite than
``sqlite3`` does (two copies in one process drop each other's locks on the same file).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from zlib_ng import zlib_ng

from sandex import native

READ_AHEAD_ENV = "SANDEX_READ_AHEAD"
READ_AHEAD = 32  # chunks read ahead by default


class Rows(Protocol):
    """The rows of a journal file after a position to another, a chunk a call."""

    def chunk(self, size: int) -> tuple[list[object], list[object]]: ...

    def lines(self, size: int) -> tuple[int, bytes]:
        """Up to ``size`` rows checked here, their bodies joined by newlines (none holds
        one), and how many; ``(0, b"")`` at a row the caller checks (``chunk``)."""
        ...

    def close(self) -> None: ...


def _load() -> tuple[Callable[[Path, int, int], Rows] | None, str]:
    """The C reader's class, or ``None``; and what the banner says of it."""
    if native.WHY_PURE is not None and native.PURE_ENV in native.WHY_PURE:
        return None, f"journal rows read by Python's sqlite3 ({native.PURE_ENV} is set)"
    try:
        import sandex.journal.rows as rows
    except ImportError:
        return None, ("journal rows read by Python's sqlite3 (sandex.journal.rows is not built: no "
                      "SQLite header or C compiler at install)")
    import _sqlite3

    source = Path(__file__).with_name("rows.pyx")
    built = Path(rows.__file__ or "")
    if source.exists() and source.stat().st_mtime > built.stat().st_mtime:
        return None, ("journal rows read by Python's sqlite3 (sandex/journal/rows.pyx is "
                      "newer than its build)")
    if not rows.same_library(_sqlite3.__file__ or ""):
        return None, "journal rows read by Python's sqlite3 (it links another copy of SQLite)"
    if not rows.use_crc32(zlib_ng.__file__ or ""):  # then ``lines`` leaves every row to ``chunk``
        return rows.Rows, ("journal rows read in C (sandex.journal.rows; checksums checked in "
                           "Python: zlib-ng's zng_crc32 not found)")
    ahead = _read_ahead()
    rows.read_ahead(ahead)
    if ahead >= 2:
        return rows.Rows, ("journal rows read and checked in C (sandex.journal.rows), "
                           f"{ahead} chunks ahead on a thread of their own")
    return rows.Rows, "journal rows read and checked in C (sandex.journal.rows)"


def _read_ahead() -> int:
    """The chunks a replay reads ahead on a thread of the C reader's own: ``SANDEX_READ_AHEAD``
    (0 or 1: none, each chunk read on the replay's thread), else 32 (docs/performance.md,
    recovery's thirteenth pass)."""
    try:
        return max(0, int(os.environ.get(READ_AHEAD_ENV, str(READ_AHEAD))))
    except ValueError:
        return READ_AHEAD


OPEN, DESCRIPTION = _load()


def use_scanner(capsule: object) -> bool:
    """Have the C reader's thread scan each chunk it reads ahead with the scanner in
    ``capsule`` (``sandex.node.applying.SCANNER``: the journal knows nothing of commands),
    its records handed out by ``Rows.scanned``; ``None`` stops it. Whether the C reader
    takes it (it is built and used)."""
    if OPEN is None:
        return False
    import sandex.journal.rows as rows

    rows.use_scanner(capsule)
    return True


def describe() -> str:
    """One line for the start-up banner: how a replay reads the journal."""
    return DESCRIPTION
