"""The journal: the append-only log of every command the node applies, in order.

``SqliteJournal`` keeps checksummed records with contiguous positions in a SQLite file (WAL,
each commit's log synced before it counts), truncating a torn tail on open and refusing any
other corruption with ``JournalCorrupt``; ``MemoryJournal`` is the same interface in a list,
``NullJournal`` (``--ephemeral``) keeps nothing; a journal that is ``AppendsHere`` (SQLite's,
JetStream's) is appended to on the node's event loop. Records are opaque bytes here;
``sandex.node.codec`` turns commands into records and back.
"""

from sandex.journal.store import (
    AppendsHere,
    Journal,
    JournalCorrupt,
    JournalFenced,
    JournalFormatError,
    JournalUncertain,
    MemoryJournal,
    NullJournal,
    Primes,
    SqliteJournal,
    StorageError,
)

__all__ = ["AppendsHere", "Journal", "JournalCorrupt", "JournalFenced", "JournalFormatError",
           "JournalUncertain", "MemoryJournal", "NullJournal", "Primes", "SqliteJournal",
           "StorageError"]
