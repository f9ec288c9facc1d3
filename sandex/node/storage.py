"""A node's data directory: open (snapshot + journal replay), snapshot, verify.

Layout under ``--data-dir``: ``journal.sqlite3`` (the command log, see ``sandex.journal``)
and ``snapshots/`` (see ``sandex.node.snapshot``). Start-up loads the newest usable snapshot
(its document decodes under this code's schema and its state hashes to the hash recorded
with it) and replays the journal after it; if none is usable it logs one warning and replays
the journal from position 1: a stale snapshot costs replay time, never correctness.
``verify`` checksums the whole journal, replays it from the start, and says of each snapshot
whether it is usable. ``compact`` removes the records a verified snapshot covers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from sandex.journal import Journal, JournalCorrupt, NullJournal, SqliteJournal, reader
from sandex.node import snapshot
from sandex.node.applying import SCANNER, apply_run, decode_lines
from sandex.node.clock import Clock
from sandex.node.codec import FORMAT, JournalCommand, decode, decode_many
from sandex.node.ids import Ids
from sandex.node.node import Node

log = logging.getLogger("sandex.storage")

JOURNAL_FILE = "journal.sqlite3"
SNAPSHOT_DIR = "snapshots"
PROGRESS_EVERY_S = 2.0  # between progress lines of a long replay (checked once a chunk)
CHUNK = 512  # records read, checked and decoded at a time by a replay (docs/performance.md)
# the C reader's thread finds a chunk's fields and parses its integers (``applying.SCANNER``)
SCANNING = SCANNER is not None and reader.use_scanner(SCANNER)


def open_node(data_dir: Path | None, clock: Clock | None = None,
              seed: int | None = None, journal: Journal | None = None) -> Node:
    """A node recovered from ``data_dir`` (``None``: ephemeral, in memory), whose journal is
    ``journal`` if given (a replicated one, ``sandex.cluster``), else the data dir's file."""
    if data_dir is None and journal is None:
        return Node(clock, Ids(seed), NullJournal())
    paths: list[Path] = []
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        paths = snapshot.paths(data_dir / SNAPSHOT_DIR)
    if journal is None:
        assert data_dir is not None
        # Only the last record after the newest snapshot is checksummed here (a torn tail):
        # the replay checksums what it reads, so each record is read once.
        journal = SqliteJournal(data_dir / JOURNAL_FILE, check_after=max(
            (snapshot.position_of(p) for p in paths), default=0), deferred=True)
    try:
        node = _from_snapshots(paths, journal, clock)
        replay(node, journal, after=node.position)
        assert node.position == journal.last_position, "replay stopped short"
    except BaseException:
        journal.close()
        raise
    node.ids = Ids(seed, stream=node.position)
    node.resume()
    return node


def _from_snapshots(paths: list[Path], journal: Journal, clock: Clock | None) -> Node:
    """A node at the newest usable snapshot, else a fresh one (one warning either way)."""
    problems: list[str] = []
    for path in paths:
        node = Node(clock, None, journal)
        problem = _load(node, path, journal)
        if problem is None:
            if problems:
                log.warning("skipping snapshot: %s; loaded %s instead", "; ".join(problems),
                            path)
            log.info("loaded snapshot at position %d", node.position)
            return node
        problems.append(problem)
    if problems:
        log.warning("skipping snapshot: %s; rebuilding the state from the journal",
                    "; ".join(problems))
    if journal.first_position > 1:
        raise JournalCorrupt(f"{_name(journal)}: records up to position "
                             f"{journal.first_position - 1} were compacted away and no usable "
                             "snapshot covers them")
    return Node(clock, None, journal)


def _load(node: Node, path: Path, journal: Journal) -> str | None:
    """Load the snapshot at ``path`` into ``node``: ``None``, or why it is not usable."""
    try:
        latest = snapshot.read(path)
    except (OSError, ValueError) as exc:
        return str(exc)
    if latest.position > journal.last_position:
        raise JournalCorrupt(
            f"{_name(journal)}: ends at position {journal.last_position}, but snapshot "
            f"{latest.path} is at position {latest.position}: records are missing")
    if latest.position < journal.first_position - 1:
        return f"{path}: older than the journal's first record ({journal.first_position})"
    try:
        node.load_state(latest.state, latest.position)
    except Exception as exc:  # a document that does not fit this code: replay instead
        return f"{path}: cannot be restored ({exc!r})"
    if snapshot.node_hash(node) != latest.state_hash:
        return f"{path}: the restored state does not hash to the snapshot's state hash"
    node.snapshot_position = latest.position
    return None


def replay(node: Node, journal: Journal, after: int = 0, until: int | None = None) -> None:
    """Apply the journal's records after ``after`` (to ``until``) to ``node``, in order: read,
    checked and decoded a chunk at a time."""
    end = journal.last_position if until is None else until
    if end <= after:
        return
    log.info("replaying journal positions %d..%d", after + 1, end)
    collecting = gc.isenabled()
    gc.disable()  # a replay builds long-lived state only: no cycle collection while it runs
    # from nothing, the orders view's orders put once at the end (``OrdersView.defer``)
    orders = node.orders
    deferred = orders is not None and orders.defer()
    try:
        _replay(node, journal, after, end)
    finally:
        if deferred:
            orders.settle()
        if collecting:
            gc.enable()


def _replay(node: Node, journal: Journal, after: int, end: int) -> None:
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    legacy_end = journal.legacy_end
    commands: list[JournalCommand] | None = None  # the last chunk's, applied: ``spare``
    for first, count, joined, bodies, scan in _chunks(journal, after, end):
        last = first + count - 1
        if first > legacy_end:
            commands = _decode_lines(journal, first, count, joined, bodies, scan, commands)
        else:
            if bodies is None:  # no body holds a newline: the lines are the bodies
                bodies = joined.split(b"\n")
            if last <= legacy_end:
                commands = _decode(journal, first, bodies, 1)
            else:  # the chunk where format 2 begins
                split = legacy_end - first + 1
                commands = (_decode(journal, first, bodies[:split], 1)
                            + _decode(journal, legacy_end + 1, bodies[split:], FORMAT))
        refused = apply_run(node, commands, first)
        if refused is not None:
            position, refusal = refused
            raise JournalCorrupt(f"{_name(journal)}: replay diverged at position {position}: "
                                 f"{type(commands[position - first]).__name__} was refused "
                                 f"({refusal.message})")  # type: ignore[attr-defined]
        node.durable_position = last
        now = time.monotonic()
        if now >= next_report:
            next_report = now + PROGRESS_EVERY_S
            log.info("replaying journal: %d of %d", last, end)
    log.info("replayed to position %d in %.2f s", end, time.monotonic() - started)


Chunk = tuple[int, int, bytes, list[bytes] | None, bytes | None]
"""A replay's chunk: its first position, how many records, their bodies joined by newlines,
the bodies (``None``: none holds a newline, they are the lines; ``read_lines``), and the
lines' scan by the C reader's thread (``SCANNER``; ``None``: none)."""


def _chunks(journal: Journal, after: int, end: int) -> Iterator[Chunk]:
    """The records after ``after`` to ``end`` in chunks: the SQLite journal's own chunked
    read, else ``read`` gathered."""
    if isinstance(journal, SqliteJournal):
        yield from journal.read_lines(after, end, CHUNK)
        return
    bodies: list[bytes] = []
    first = after + 1
    for position, body in journal.read(after):
        if position > end:
            break
        bodies.append(body)
        if len(bodies) == CHUNK:
            yield first, len(bodies), b"\n".join(bodies), bodies, None
            first, bodies = position + 1, []
    if bodies:
        yield first, len(bodies), b"\n".join(bodies), bodies, None


def _decode_lines(journal: Journal, first: int, count: int, joined: bytes,
                  bodies: list[bytes] | None, scan: bytes | None = None,
                  spare: list[JournalCommand] | None = None) -> list[JournalCommand]:
    """The ``count`` format 2 commands of a chunk (``_chunks``) from position ``first``, in
    one decoder call (``applying.decode_lines``: the commonest in C, from ``scan`` when the
    reader's thread scanned them; ``spare``, the last chunk's commands, applied: the
    objects only it holds refilled, none allocated for them); ``JournalCorrupt`` naming the
    first record that does not decode."""
    try:
        commands = decode_lines(joined, scan, spare)
    except msgspec.DecodeError:
        commands = []
    if len(commands) == count:
        return commands
    # a bad record, or one holding a newline (then ``bodies`` is given): record by record
    return _decode(journal, first, joined.split(b"\n") if bodies is None else bodies,
                   FORMAT)


def _decode(journal: Journal, first: int, bodies: list[bytes], format: int
            ) -> list[JournalCommand]:
    """The commands in ``bodies`` (from position ``first``); ``JournalCorrupt`` naming the
    first record that does not decode."""
    try:
        return decode_many(bodies, format)
    except msgspec.DecodeError:
        pass
    for position, body in enumerate(bodies, first):
        try:
            decode(body, format)
        except msgspec.DecodeError as exc:
            raise JournalCorrupt(f"{_name(journal)}: record at position {position} does not "
                                 f"decode: {exc}") from None
    raise AssertionError("a chunk that does not decode, of records that do")


CHILD_NICENESS = 19
"""The snapshot child's priority: behind the server on a shared core. At the server's own
priority a child encoding 400,000 orders' state took its core for seconds (on a server
pinned to one core, paced FIX orders' p99 went to 40 ms); niced, it runs when the server
waits."""


async def take_snapshot(node: Node, data_dir: Path) -> Path | None:
    """Snapshot ``node`` at its current position without stalling the event loop.

    A forked child holds a copy-on-write image of the state at this instant (the cut) and
    encodes, hashes and writes it at ``CHILD_NICENESS``; the parent goes on serving, waits
    for the cut to be durable in the journal and for the child, then publishes the file.
    Without ``fork`` the state is encoded on the loop. ``None`` if nothing changed since the
    last snapshot or the child failed (logged; the journal still has everything).
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
                os.nice(CHILD_NICENESS)
                snapshot.write_temporary(temporary, position, node.dump_state(),
                                         snapshot.node_hash(node), paced=True)
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
class SnapshotCheck:
    path: Path
    position: int
    problem: str | None  # None: usable (loads, and replay reproduces its hash)


@dataclass(frozen=True)
class Verified:
    position: int  # the newest snapshot's position (0: there is none)
    expected: str | None  # the newest snapshot's state hash
    replayed: str  # the hash replay from the start gave at that position
    journal_end: int
    snapshots: tuple[SnapshotCheck, ...] = ()  # newest first

    @property
    def ok(self) -> bool:
        return all(check.problem is None for check in self.snapshots[:1])


def verify(data_dir: Path, journal: Journal | None = None) -> Verified:
    """Checksum the whole journal, replay it from the start, and check every snapshot: it
    loads under this code, and replay reproduces its state hash at its position.

    ``journal``: a replicated journal (``sandex.cluster``) to check instead of the data dir's
    file; the data dir's snapshots, if any, are checked against it."""
    if journal is None:
        if not (data_dir / JOURNAL_FILE).exists():
            raise FileNotFoundError(f"{data_dir / JOURNAL_FILE}: no journal here")
        journal = SqliteJournal(data_dir / JOURNAL_FILE)  # checks every record
    try:
        paths = sorted(snapshot.paths(data_dir / SNAPSHOT_DIR), key=snapshot.position_of)
        node = _verify_base(paths, journal)
        checks: list[SnapshotCheck] = []
        expected, at_newest = None, ""
        for path in paths:
            position = snapshot.position_of(path)
            if position < node.position:
                checks.append(SnapshotCheck(path, position, "older than the journal's "
                                            f"first record ({journal.first_position})"))
                continue
            replay(node, journal, node.position, position)
            if node.position != position:
                raise JournalCorrupt(f"{_name(journal)}: ends at position {node.position}, "
                                     f"before the snapshot's {position}")
            at_newest = snapshot.node_hash(node)
            problem = _load(Node(None, None, NullJournal()), path, journal)
            try:
                expected = snapshot.read(path).state_hash
            except (OSError, ValueError):
                expected = None
            if problem is None and expected != at_newest:
                problem = f"{path}: replay from the start does not reproduce its state hash"
            checks.append(SnapshotCheck(path, position, problem))
        replay(node, journal, node.position)
        if not checks:
            return Verified(0, None, snapshot.node_hash(node), node.position)
        newest = checks[-1]
        return Verified(newest.position, expected or "(unreadable)", at_newest, node.position,
                        tuple(reversed(checks)))
    finally:
        journal.close()


def _verify_base(paths: list[Path], journal: Journal) -> Node:
    """Where replay starts: a fresh node, or after a compaction the oldest usable snapshot
    that covers the removed records."""
    node = Node(None, None, NullJournal())
    if journal.first_position == 1:
        return node
    for path in paths:
        if snapshot.position_of(path) >= journal.first_position - 1 and _load(
                node, path, journal) is None:
            return node
        node = Node(None, None, NullJournal())
    raise JournalCorrupt(f"{_name(journal)}: records up to position {journal.first_position - 1} "
                         "were compacted away and no usable snapshot covers them")


def compact(data_dir: Path, result: Verified, archive: bool) -> tuple[int, Path | None]:
    """After ``verify`` gave ``result``: take the journal's records up to the newest snapshot
    out of it (into ``journal-archive-<first>-<last>.sqlite3`` if ``archive``). Returns how
    many were taken and the archive's path. ``JournalCorrupt`` if the snapshot is not usable."""
    if not result.snapshots or not result.ok:
        raise JournalCorrupt(f"{data_dir}: no usable snapshot to compact the journal up to")
    journal = SqliteJournal(data_dir / JOURNAL_FILE, check_after=result.journal_end)
    try:
        first, upto = journal.first_position, result.position
        target = data_dir / f"journal-archive-{first:012d}-{upto:012d}.sqlite3"
        removed = journal.compact(upto, target if archive else None)
    finally:
        journal.close()
    return removed, target if archive and removed else None


def _name(journal: Journal) -> str:
    return str(getattr(journal, "path", "journal"))
