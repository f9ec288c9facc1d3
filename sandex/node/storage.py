"""A node's data directory: open (snapshot + journal replay), snapshot, verify.

Layout under ``--data-dir``: ``journal.sqlite3`` (the command log, see ``sandex.journal``)
and ``snapshots/`` (see ``sandex.node.snapshot``). Start-up loads the newest valid snapshot
and replays the journal after it; ``verify`` replays the whole journal from zero and checks
it reproduces the snapshot's state hash.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from sandex.core import Duplicate, Rejected
from sandex.journal import Journal, JournalCorrupt, NullJournal, SqliteJournal
from sandex.node import snapshot
from sandex.node.clock import Clock
from sandex.node.codec import decode
from sandex.node.ids import Ids
from sandex.node.node import Node

log = logging.getLogger("sandex.storage")

JOURNAL_FILE = "journal.sqlite3"
SNAPSHOT_DIR = "snapshots"
PROGRESS_EVERY_S = 2.0


def open_node(data_dir: Path | None, clock: Clock | None = None,
              seed: int | None = None) -> Node:
    """A node recovered from ``data_dir`` (``None``: ephemeral, in memory)."""
    if data_dir is None:
        return Node(clock, Ids(seed), NullJournal())
    data_dir.mkdir(parents=True, exist_ok=True)
    journal = SqliteJournal(data_dir / JOURNAL_FILE)
    try:
        node = Node(clock, None, journal)
        latest = snapshot.latest(data_dir / SNAPSHOT_DIR)
        if latest is not None:
            if latest.position > journal.last_position:
                raise JournalCorrupt(
                    f"{journal.path}: ends at position {journal.last_position}, but snapshot "
                    f"{latest.path} is at position {latest.position}: records are missing")
            node.load_state(latest.state, latest.position)
            node.snapshot_position = latest.position
            log.info("loaded snapshot at position %d", latest.position)
        replay(node, journal, after=node.position)
        assert node.position == journal.last_position, "replay stopped short"
    except BaseException:
        journal.close()
        raise
    node.ids = Ids(seed, stream=node.position)
    return node


def replay(node: Node, journal: Journal, after: int = 0, until: int | None = None) -> None:
    """Apply the journal's records after ``after`` (to ``until``) to ``node``, in order."""
    end = journal.last_position if until is None else until
    if end <= after:
        return
    log.info("replaying journal positions %d..%d", after + 1, end)
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    for position, body in journal.read(after):
        if position > end:
            break
        try:
            command = decode(body)
        except msgspec.DecodeError as exc:
            raise JournalCorrupt(f"{_name(journal)}: record at position {position} does not "
                                 f"decode: {exc}") from None
        events = node.apply(command)  # type: ignore[arg-type]
        if events and type(events[0]) in (Rejected, Duplicate):
            raise JournalCorrupt(f"{_name(journal)}: replay diverged at position {position}: "
                                 f"{type(command).__name__} was refused "
                                 f"({events[0].message})")  # type: ignore[attr-defined]
        node.position = node.durable_position = position
        now = time.monotonic()
        if now >= next_report:
            next_report = now + PROGRESS_EVERY_S
            log.info("replaying journal: %d of %d", position, end)
    log.info("replayed to position %d in %.2f s", end, time.monotonic() - started)


async def take_snapshot(node: Node, data_dir: Path) -> Path | None:
    """Snapshot ``node`` at its current position without stalling the event loop.

    A forked child holds a copy-on-write image of the state at this instant (the cut) and
    pickles, hashes and writes it; the parent goes on serving, waits for the cut to be
    durable in the journal and for the child, then publishes the file. Without ``fork``
    the state is pickled on the loop. ``None`` if nothing changed since the last snapshot
    or the child failed (logged; the journal still has everything).
    """
    position = node.position
    if position == node.snapshot_position:
        return None
    temporary = snapshot.temporary_path(data_dir / SNAPSHOT_DIR, position)
    loop = asyncio.get_running_loop()
    if hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:  # the child: never returns into the event loop
            code = 1
            try:
                snapshot.write_temporary(temporary, position, node.dump_state(),
                                         snapshot.node_hash(node))
                code = 0
            finally:
                os._exit(code)
        await node.synced()
        _, status = await loop.run_in_executor(None, os.waitpid, pid, 0)
        if status != 0:
            log.error("snapshot at position %d failed in its child (status %d)", position,
                      status)
            return None
    else:
        state, hash_ = node.dump_state(), snapshot.node_hash(node)
        await node.synced()
        await loop.run_in_executor(None, snapshot.write_temporary, temporary, position,
                                   state, hash_)
    path = await loop.run_in_executor(None, snapshot.publish, temporary)
    node.snapshot_position = max(node.snapshot_position, position)
    return path


def snapshot_now(node: Node, data_dir: Path) -> Path | None:
    """Synchronous snapshot for a node with nothing in flight (offline tools, shutdown)."""
    if node.position == node.snapshot_position:
        return None
    path = snapshot.write(data_dir / SNAPSHOT_DIR, node.position, node.dump_state(),
                          snapshot.node_hash(node))
    node.snapshot_position = node.position
    return path


@dataclass(frozen=True)
class Verified:
    position: int  # the snapshot's position (0: there is none)
    expected: str | None  # the snapshot's state hash
    replayed: str  # the hash replay from zero gave at that position
    journal_end: int

    @property
    def ok(self) -> bool:
        return self.expected is None or self.expected == self.replayed


def verify(data_dir: Path) -> Verified:
    """Replay the whole journal from zero; compare with the newest snapshot's state hash."""
    if not (data_dir / JOURNAL_FILE).exists():
        raise FileNotFoundError(f"{data_dir / JOURNAL_FILE}: no journal here")
    journal = SqliteJournal(data_dir / JOURNAL_FILE)
    try:
        latest = snapshot.latest(data_dir / SNAPSHOT_DIR)
        node = Node(None, None, NullJournal())
        if latest is not None:
            replay(node, journal, 0, latest.position)
            if node.position != latest.position:
                raise JournalCorrupt(f"{journal.path}: ends at position {node.position}, "
                                     f"before the snapshot's {latest.position}")
            at_snapshot = snapshot.node_hash(node)
        replay(node, journal, node.position)
        if latest is None:
            return Verified(0, None, snapshot.node_hash(node), node.position)
        return Verified(latest.position, latest.state_hash, at_snapshot, node.position)
    finally:
        journal.close()


def _name(journal: Journal) -> str:
    return str(getattr(journal, "path", "journal"))
