"""The journal: the append-only log of every command the node applies, in order.

``SqliteJournal`` keeps checksummed records with contiguous positions in a SQLite file (WAL,
``synchronous=FULL``), truncating a torn tail on open and refusing any other corruption with
``JournalCorrupt``; ``MemoryJournal`` is the same interface with nothing on disk; ``encode``
and ``decode`` turn commands into records and back. It is not yet wired into the node: the
node's group commit will use it.
"""

from sandex.journal.codec import decode, encode
from sandex.journal.store import JournalCorrupt, MemoryJournal, SqliteJournal

__all__ = ["JournalCorrupt", "MemoryJournal", "SqliteJournal", "decode", "encode"]
