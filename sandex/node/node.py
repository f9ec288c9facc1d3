"""The node: the single writer in front of the core, and the journal's group commit.

It stamps each command with a strictly increasing time (so times double as unique cursors),
applies it to the core or the key registry, and feeds the read models. ``execute`` is the
one entry point for adapters: it applies the command at once, then holds the reply until the
command is durable. Commands that arrive while a batch is being written form the next batch,
so one fsync covers many commands. A journal that is ``AppendsHere`` is awaited on the loop
itself: SQLite's (its transaction written into the page cache there, its fsync a kernel
request (io_uring) whose end the loop sees on an ``eventfd``: ``sandex.journal.walsync``) and
JetStream's (a network round trip); any other journal whose ``append`` blocks runs on a
writer thread, never blocking the event loop. On the loop, a batch smaller than the one
written before it gathers first (``_gather``: a loop turn at a time while commands keep
joining, to that size or until ``GATHER_TURNS`` turns add none), so that under load each
commit's fixed cost (SQLite's writes and locks, the sync) is shared by more commands.
Listeners (the feed) see a command's events only after its batch is durable, in order.
``execute_all`` applies several commands in one step with one wait (the scheduler's firings,
``sandex.node.scheduler``: GTT expiry, the demo's tick, an advance of the clock).

Fail-stop: if a batch cannot be written (disk full, read-only, I/O error) or applying a
command raises (a bug: memory may be half-changed), the node stops for good. It logs one
line saying what and where, fails every waiting request, answers no further command or read
(memory may be ahead of the disk) and calls ``on_failure`` (the server exits non-zero). The
journal keeps what it had: a restart replays it, and the command that raised is not in it.
A command stamped no later than the last one applied is refused the same way: stamps are
unique cursors, so a caller must stamp and execute in one event-loop step.

Named snapshots (``SaveSnapshot``) keep the whole state in memory, and in every snapshot
document; ``RestoreSnapshot`` puts it back: a new epoch in which sequences, ids (on a seeded
node) and a virtual clock's time go back to the snapshot's, so stamps continue from there.

In test mode a tracer (``Node.tracer``, ``sandex.api.tracer``) is told of each command
journaled and of how long its reply waited for the group commit; otherwise that costs one
attribute test per command.

In a cluster (``sandex.cluster``, docs/cluster.md) a follower's node has ``follower_of`` set:
commands are refused with ``NotLeader`` (503) and ``follow`` applies what the leader made
durable; a leader whose append is refused by the replicated journal (``JournalFenced``) or
never answered (``JournalUncertain``) stops with ``Deposed`` (503: outcome unknown), and the
server restarts it as a follower.

A refused command (a lone ``Rejected``) changed nothing, so it is neither journaled nor held;
a ``Duplicate`` (an exactly-once retry) changed nothing either, but its answer waits until
the original order is durable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time as clock
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol

from sandex.auth.keys import KeyRegistry
from sandex.core import (
    Command,
    Duplicate,
    Engine,
    Event,
    Rejected,
)
from sandex.errors import Error
from sandex.journal import (
    AppendsHere,
    Journal,
    JournalFenced,
    JournalUncertain,
    NullJournal,
    Primes,
)
from sandex.node import applying, image
from sandex.node.applying import TimeOutOfOrder as TimeOutOfOrder  # re-exported
from sandex.node.batched import Batched as Batched  # re-exported
from sandex.node.clock import Clock, ClockMode, SystemClock, VenueClock
from sandex.node.codec import encode
from sandex.node.commands import (
    ClockSet,
    CreateApiKey,
    DeleteSnapshot,
    KeyCreated,
    KeyRevoked,
    Restored,
    RestoreSnapshot,
    RevokeApiKey,
    SaveSnapshot,
    SetClock,
    SnapshotDeleted,
    SnapshotSaved,
)
from sandex.node.digest import node_hash
from sandex.node.ids import Ids
from sandex.node.saved import Saved
from sandex.node.scheduler import Scheduler
from sandex.node.tally import Tally
from sandex.node.writer import WriterThread
from sandex.views import FillsView, LedgerView, MarketView, OrdersView, TransfersView

COMMIT_BOUNDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                 1.0)
"""Upper bounds (seconds) of the group-commit time histogram (``GET /metrics``)."""

Listener = Callable[[list[Event]], None]
"""Called with each durable command's events (a ``Batched`` one: once per group commit)."""
log = logging.getLogger("sandex.node")
_UNCHANGED = (Rejected, Duplicate)  # a command answered so changed nothing: not journaled
# How many event-loop turns in a row without a command joining end ``_gather`` (0: off, each
# batch written as soon as the one before is durable). Two: a request read in one turn is
# applied in the next (its task is scheduled after the flusher's), so one quiet turn is not
# yet a sign that nothing more is coming.
GATHER_TURNS = int(os.environ.get("SANDEX_GATHER_TURNS", "2"))
SAVED_MAX = 32  # named snapshots kept at once (each holds a whole state in memory)


class Tracer(Protocol):
    """What sees each journaled command in test mode (``sandex.api.tracer``): its events and
    journal position as applied, and how long its reply waited for the group commit."""

    def applied(self, command: Command, events: list[Event], position: int) -> Any: ...

    def committed(self, note: Any, waited_s: float) -> None: ...


class RestoreWatch:
    """For a ``Batched`` listener that acts only on a ``Restored``: which commands of a group
    commit restored a snapshot, found with one integer test for a commit that holds none
    (almost all). The node counts the restores it applies (``Node.restores``); a commit is
    looked through only while some of those have not yet been seen here (a restore applied
    but not yet durable makes the commits before it looked through too, finding nothing)."""

    __slots__ = ("node", "seen")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.seen: int = node.restores

    def restores(self, batches: list[list[Event]]) -> list[list[Event]]:
        """The events of each command of ``batches`` that restored a snapshot, in order."""
        if self.node.restores == self.seen:
            return []
        found = [events for events in batches if events and type(events[0]) is Restored]
        self.seen += len(found)
        return found


class NodeStopped(RuntimeError):
    """The node has stopped (see the module docstring): it accepts and answers nothing more."""


class NodeUnavailable(NodeStopped):
    """A refusal that is not a fault: answered 503 with ``error`` (a cluster's follower, or a
    deposed leader)."""

    error = Error.LEADER_CHANGED

    def fill(self) -> tuple[object, ...]:
        """What ``error``'s text is formatted with."""
        return ()


class NotLeader(NodeUnavailable):
    """This node follows the leader's journal: it answers reads, and no command. Its one
    argument says where the leader is."""

    error = Error.NOT_LEADER

    def fill(self) -> tuple[object, ...]:
        return (self.args[0] if self.args else "unknown",)


class Deposed(NodeUnavailable):
    """Another node took over the journal (``sandex.cluster``): this one stops, and what was
    in flight has an unknown outcome (503: retry with the same ``client_oid``)."""


class JournalFailed(NodeStopped):
    """The journal could not be written: memory is ahead of disk, so the node stops."""


class EngineFault(NodeStopped):
    """Applying a command raised: memory may be half-changed, so the node stops."""


class Node:
    """Engine, keys and read models, changed only through ``apply``/``execute``."""

    def __init__(self, clock: Clock | None = None, ids: Ids | None = None,
                 journal: Journal | None = None) -> None:
        self.clock = VenueClock(clock if clock is not None else SystemClock())
        self.scheduler = Scheduler(self)  # GTT expiry, the demo's tick: fired at their times
        self.ids = ids if ids is not None else Ids()
        self.journal: Journal = journal if journal is not None else NullJournal()
        # ``journal.blocking``, read once: a class attribute read through the instance is not
        # specialised by Python 3.11 (~200 instructions a command in ``submit``)
        self._blocking = self.journal.blocking
        self.engine = Engine()
        self.keys = KeyRegistry()
        self.fills = FillsView()
        self.ledger = LedgerView()
        self.market = MarketView()
        self.orders = OrdersView(self.engine)
        self.transfers = TransfersView()
        self._last_time = 0  # the latest time stamped or applied
        self._applied_time = 0  # the time of the last command applied (strictly increasing)
        self.position = 0  # the last command applied (replay moves it to the journal's end)
        self.durable_position = 0  # the last command on disk
        self.snapshot_position = 0  # the position of the newest snapshot written or loaded
        self.saved: dict[str, Saved] = {}  # named snapshots (``SaveSnapshot``)
        self.listeners: list[Listener] = []  # called with each durable command's events
        self.failure: BaseException | None = None  # what stopped the node, as raised
        self._stopped: NodeStopped | None = None  # ... and what callers get from now on
        self.on_failure: Callable[[BaseException], None] | None = None
        self._records: list[bytes] = []  # the batch filling up
        self._events: list[list[Event]] = []
        self._written_events: list[list[Event]] = []  # the batch being written's
        # Who waits for the batch filling up, and for the batch on the writer thread: one
        # future a batch, shared by its waiters (each task awaits it), whose ``cancel`` is
        # ``_refuse_cancel``: a canceled request ends alone, the batch's future stays.
        self._filling: asyncio.Future[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        self._refuse = self._refuse_cancel  # bound once: set on each batch's future
        self._writer = WriterThread("sandex-journal")
        # the event loop the node's callers run on (one thread's: the node is its single
        # writer), kept while it runs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._append_here = (self.journal.append_here if isinstance(self.journal, AppendsHere)
                             else None)  # appended on the event loop (JetStream)
        self._prime = self.journal.prime if isinstance(self.journal, Primes) else None
        self.batches = 0  # group commits written (commands per fsync = position / batches)
        self.commit_seconds = Tally(COMMIT_BOUNDS)  # each group commit's write + fsync
        self.tracer: Tracer | None = None  # test mode only (``[testing] request_ids``)
        # A cluster's follower (``sandex.cluster``): who leads; commands are refused (503)
        self.follower_of: str | None = None
        self.epoch = 0  # the leader epoch of the last ``Takeover`` applied (0: none)
        self.restores: int = 0  # ``Restored`` events made so far (``RestoreWatch``)

    # -- time ---------------------------------------------------------------------------------
    def stamp(self) -> int:
        """The time for the next command: now, but always after the previous stamp."""
        now = self.clock.now_us()
        if now <= self._last_time:
            now = self._last_time + 1
        self._last_time = now
        return now

    def stamp_at(self, time: int) -> int:
        """The stamp for a command due at ``time`` (a timer's firing: a GTT expiry, a demo
        tick): ``time``, or just after the previous stamp if that is later."""
        if time <= self._last_time:
            time = self._last_time + 1
        self._last_time = time
        return time

    def now(self) -> int:
        """The current time for reads (never earlier than the last stamp)."""
        return max(self.clock.now_us(), self._last_time)

    def resume(self) -> None:
        """After recovery: a virtual clock resumes frozen at the last stamp."""
        if self.clock.mode is ClockMode.VIRTUAL:
            self.clock.set(ClockMode.VIRTUAL, 0.0, self._last_time)

    # -- writing ------------------------------------------------------------------------------
    async def execute(self, command: Command) -> list[Event]:
        """Apply ``command``; return its events once it is durable."""
        events, durable = self.submit(command)
        if durable is not None:
            await durable
        return events

    def submit(self, command: Command) -> tuple[list[Event], Awaitable[None] | None]:
        """``execute`` in two steps: apply ``command`` now and return its events with what
        to await before answering with them (``None``: nothing). For a caller that awaits
        that itself (the REST order handlers): no coroutine of the node's own between the
        caller and the group commit, on the way in and on the resume after it."""
        if self._stopped is not None or self.follower_of is not None:
            raise self._refusal()
        try:  # ``_apply_or_stop`` written out: a call less per command
            events = self.apply(command)
        except Exception as exc:
            raise self._apply_failed(command, exc) from exc
        if events:
            kind = type(events[0])
            if kind is Rejected:
                return events, None  # changed nothing
            if kind is Duplicate:  # the retry's answer waits for the original order
                return events, self._wait(new_records=False) if self.in_flight else None
        tracer = self.tracer
        note = tracer.applied(command, events, self.position + 1) if tracer is not None \
            else None
        if not self._blocking:  # in memory: no I/O to wait for, no batch to form
            self.position = self.durable_position = self.journal.append([encode(command)])
            self._notify([events])
            return events, None
        self.position += 1
        self._records.append(encode(command))
        self._events.append(events)
        if tracer is None:
            filling = self._filling  # the batch filling up's future (all but its first
            if filling is not None:  # command): ``_wait`` written out, a call less
                return events, filling
            return events, self._wait(new_records=True)
        started = clock.perf_counter()
        return events, self._traced_wait(note, tracer, self._wait(new_records=True), started)

    @staticmethod
    async def _traced_wait(note: Any, tracer: Tracer, waiter: asyncio.Future[None],
                           started: float) -> None:
        """``waiter`` (the group commit's), then its time told to the tracer (test mode)."""
        await waiter
        tracer.committed(note, clock.perf_counter() - started)

    async def execute_all(self, commands: Iterable[Command]) -> list[list[Event]]:
        """Apply each of ``commands`` in one event-loop step, pulling each only once the one
        before was applied (so each is stamped when pulled); return their events once the
        last is durable: one wait for them all, one group commit if nothing else is writing.

        As in ``execute``: a refusal is not journaled, a ``Duplicate`` waits for what was
        applied before it, and a command that raises stops the node.
        """
        if self._stopped is not None or self.follower_of is not None:
            raise self._refusal()
        results: list[list[Event]] = []
        blocking, journaled, waits = self._blocking, False, False
        tracer = self.tracer
        try:
            for command in commands:
                events = self._apply_or_stop(command)
                results.append(events)
                if events and type(events[0]) in _UNCHANGED:
                    waits = waits or type(events[0]) is Duplicate
                    continue
                if tracer is not None:
                    tracer.applied(command, events, self.position + 1)
                if not blocking:
                    self.position = self.durable_position = self.journal.append(
                        [encode(command)])
                    self._notify([events])
                    continue
                self.position += 1
                self._records.append(encode(command))
                self._events.append(events)
                journaled = True
        finally:  # even if pulling a command raised: what was applied gets written
            waiter = self._wait(new_records=True) if journaled and self._stopped is None else None
        if waiter is not None:
            await waiter
        elif waits:
            await self.synced()
        return results

    def _wait(self, new_records: bool) -> asyncio.Future[None]:
        """A future resolved when the newest batch is durable: the one filling up (which
        ``new_records`` have just joined; started, with the writer loop, if need be), else
        the one being written."""
        loop = self._loop  # ``get_running_loop`` is a ``getpid`` system call (Python 3.11)
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
        waiter = self._filling
        if waiter is None:
            waiter = self._writing
            if waiter is not None and not new_records:
                return waiter
            waiter = self._filling = loop.create_future()
            # one future for the whole batch: a task canceled while it awaits it calls its
            # ``cancel``, which must not cancel it for the others (``_refuse_cancel``)
            waiter.cancel = self._refuse  # type: ignore[method-assign]
            if self._writing is None:
                if self._append_here is not None:
                    self._flusher = loop.create_task(self._flush())
                else:  # next step, so that the rest of this one joins the batch
                    loop.call_soon(self._write_next, loop)
        return waiter

    def _refuse_cancel(self, msg: Any = None) -> bool:
        """A batch's future's ``cancel`` (set on the instance: an ``asyncio.Future`` of exactly
        that type, so that the C task's fast path stays): refused, as for a future done. The
        task canceled while it awaited it (the only caller: a task's ``cancel`` calls its
        waiter's) then marks itself to be canceled at its next step; ``_release_canceled``,
        on the next loop turn, gives it that step at once (today's timing: a canceled future
        wakes its task on the next turn too) instead of at the batch's commit."""
        loop = self._loop
        if loop is not None:
            loop.call_soon(self._release_canceled)
        return False

    def _release_canceled(self) -> None:
        """Wake now each task marked canceled that awaits a batch's future: its wake-up taken
        off the future and called, the future not done, so the task's step raises
        ``CancelledError`` into it (asyncio's C and Python tasks both: a pending task's
        ``_must_cancel`` overrides the exception its wake-up meets). The other waiters stay."""
        for waiter in (self._writing, self._filling):
            if waiter is None or waiter.done():
                continue  # a batch done wakes its canceled tasks itself
            for callback, _ in list(waiter._callbacks or ()):
                if getattr(getattr(callback, "__self__", None), "_must_cancel", False):
                    waiter.remove_done_callback(callback)
                    callback(waiter)

    def record(self, command: Command) -> list[Event]:
        """Apply and journal ``command`` synchronously (start-up and offline administration)."""
        if self._stopped is not None or self.follower_of is not None:
            raise self._refusal()
        if self._filling is not None or self._writing is not None:
            raise RuntimeError("record() while a group commit is in flight")
        events = self._apply_or_stop(command)
        if not events or type(events[0]) not in (Rejected, Duplicate):
            try:
                self.journal.append([encode(command)])
            except Exception as exc:  # the caller reports it (start-up, offline tools)
                self._journal_failed(exc, self.position + 1, self.position + 1, quiet=True)
                raise
            self.position = self.durable_position = self.journal.last_position
            self._notify([events])
        return events

    async def _flush(self) -> None:
        """Append batches on the loop (``AppendsHere``: SQLite, JetStream) until none is
        left."""
        here = self._append_here
        assert here is not None
        last = 0  # the records of the batch written before
        while self._filling is not None:
            if len(self._records) < last and GATHER_TURNS:
                await self._gather(last)
                if self._filling is None:  # the node stopped meanwhile
                    return
            waiters, records, events = self._filling, self._records, self._events
            last = len(records)
            self._writing, self._filling, self._records, self._events = waiters, None, [], []
            self._written_events = events
            first = self.durable_position + 1
            try:
                started = clock.perf_counter()
                await here(records)
                took = clock.perf_counter() - started
            except BaseException as exc:  # a fenced or unanswered append: stop
                self._journal_failed(exc, first, first + len(records) - 1)
                return
            self._committed(len(records), events, waiters, took)

    async def _gather(self, target: int) -> None:
        """Let the batch filling up grow to ``target`` records (the size of the batch written
        before it) while commands keep joining it: a loop turn at a time, until it has them
        or ``GATHER_TURNS`` turns in a row added none (the load fell: it goes as it is)."""
        idle = 0
        seen = len(self._records)
        while idle < GATHER_TURNS:
            await asyncio.sleep(0)
            if self._filling is None:
                return
            now = len(self._records)
            if now >= target:
                return
            idle = idle + 1 if now == seen else 0
            seen = now

    def _write_next(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the batch filling up to the writer thread (on the loop). The thread calls
        ``_written`` back on the loop itself: no task or future in between, so the reports
        leave one event-loop step sooner than through ``run_in_executor``."""
        if self._filling is None:  # the node stopped meanwhile
            return
        waiters, records, events = self._filling, self._records, self._events
        self._writing, self._filling, self._records, self._events = waiters, None, [], []
        self._written_events = events
        self._writer.submit(self._write, loop, records, events, waiters)

    def _write(self, loop: asyncio.AbstractEventLoop, records: list[bytes],
               events: list[list[Event]], waiters: asyncio.Future[None]) -> None:
        """Write one batch (on the writer thread), then hand the outcome to the loop."""
        started = clock.perf_counter()
        try:
            self.journal.append(records)
        except BaseException as exc:  # disk full, I/O error: stop rather than diverge
            loop.call_soon_threadsafe(self._write_failed, exc, len(records))
            return
        loop.call_soon_threadsafe(self._written, loop, len(records), events, waiters,
                                  clock.perf_counter() - started)

    def _write_failed(self, exc: BaseException, count: int) -> None:
        first = self.durable_position + 1
        self._journal_failed(exc, first, first + count - 1)

    def _written(self, loop: asyncio.AbstractEventLoop, count: int,
                 events: list[list[Event]], waiters: asyncio.Future[None],
                 took: float) -> None:
        """A batch is durable (on the loop): release it, and write the next if one filled."""
        self._committed(count, events, waiters, took)
        if self._filling is not None and self._stopped is None:
            self._write_next(loop)

    def _committed(self, count: int, events: list[list[Event]],
                   waiters: asyncio.Future[None], took: float) -> None:
        """A batch of ``count`` records is durable: its events to the listeners, then its
        replies (its one future: each task awaiting it resumes, in the order they came)."""
        if self._stopped is not None:  # an engine fault while this batch was written
            return
        self.durable_position += count
        self.batches += 1
        self.commit_seconds.add(took)
        self._writing = None
        self._written_events = []
        self._notify(events)
        if not waiters.done():  # (its ``cancel`` refuses: only ``_stop`` sets it otherwise)
            waiters.set_result(None)

    def _apply_or_stop(self, command: Command) -> list[Event]:
        """``apply``, stopping the node if it raises (memory may be half-changed)."""
        try:
            return self.apply(command)
        except Exception as exc:
            raise self._apply_failed(command, exc) from exc

    def _apply_failed(self, command: Command, exc: Exception) -> EngineFault:
        """Stop the node: applying ``command`` raised ``exc``; what to raise to the caller."""
        error = EngineFault(
            f"applying {type(command).__name__} (stamped {command.time}) after journal "
            f"position {self.position} raised {exc!r}; the node stops: memory may be "
            f"ahead of the journal (durable to position {self.durable_position} so far), "
            "which does not hold this command")
        self._stop(exc, error, exc_info=exc)
        return error

    def _journal_failed(self, exc: BaseException, first: int, last: int,
                        quiet: bool = False) -> None:
        where = f"position {first}" if first == last else f"positions {first}..{last}"
        if isinstance(exc, JournalFenced | JournalUncertain):  # a cluster: 503, outcome unknown
            self._stop(exc, Deposed(f"stepping down at {where}: {exc}"), quiet=quiet)
            return
        self._stop(exc, JournalFailed(
            f"journal write failed at {where}: {exc}; the node stops: nothing more is "
            f"accepted or answered, the journal ends at position {self.durable_position}"),
            quiet=quiet)

    def _refusal(self) -> NodeStopped:
        """A fresh copy of what stopped the node, for one more caller (a follower's
        refusal: ``NotLeader``)."""
        if self._stopped is None:
            return NotLeader(self.follower_of)
        return type(self._stopped)(*self._stopped.args)

    def _stop(self, exc: BaseException, error: NodeStopped,
              exc_info: BaseException | None = None, quiet: bool = False) -> None:
        """Stop for good: log ``error``, fail every waiter, tell ``on_failure``."""
        if self._stopped is not None:
            return
        self.failure, self._stopped = exc, error
        if not quiet:
            log.critical("%s", error, exc_info=exc_info)
        for waiter in (self._writing, self._filling):
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)  # to each task awaiting it, as ``error`` itself
        self._writing = self._filling = None  # nothing is in flight any more: it failed
        self._records, self._events, self._written_events = [], [], []
        if self.on_failure is not None:
            self.on_failure(exc)

    def _notify(self, batches: list[list[Event]]) -> None:
        for listener in self.listeners:
            try:
                if type(listener) is Batched:
                    listener.on_batch(batches)
                else:
                    for events in batches:
                        listener(events)
            except Exception:  # a listener's bug must not stall the commit loop
                log.exception("listener %r failed", listener)

    @property
    def in_flight(self) -> bool:
        """Whether some applied command is not yet durable (always, once the node stopped:
        memory may then be ahead of the disk for good)."""
        return (self._filling is not None or self._writing is not None
                or self._stopped is not None)

    def pending_events(self) -> Iterator[Event]:
        """The events of the commands applied and not yet durable, oldest first (the batch
        being written, then the one filling up): what memory shows that the disk does not."""
        for batch in (self._written_events, self._events):
            for events in batch:
                yield from events

    def prime_storage(self) -> bool:
        """Wake the journal's disk for commands that are known to come (the scheduler's next
        timer), if it has one that sleeps (``Primes``) and nothing is in flight (nor has the
        node stopped); whether a prime started."""
        prime = self._prime
        return prime is not None and not self.in_flight and prime()

    async def synced(self) -> None:
        """Wait until every command applied so far is durable (and its events delivered).

        Raises ``NodeStopped`` once the node has stopped: a read must then not be answered.
        """
        if self._stopped is not None:
            raise self._refusal()
        if self.in_flight:
            await self._wait(new_records=False)

    def depose(self, why: str) -> None:
        """Another node leads now (``sandex.cluster``): stop with ``Deposed`` (503 to what
        was in flight; the server restarts as a follower)."""
        self._stop(JournalFenced(why), Deposed(why))

    def follow(self, first: int, commands: list[Command]) -> None:
        """Apply commands the leader made durable, from position ``first`` (a cluster
        follower's tail, ``sandex.cluster``), and hand their events to the listeners.

        A command refused here was accepted by the leader: the replicas diverged, and the node
        stops (``EngineFault``), as for a command that raises.
        """
        if self._stopped is not None:
            raise self._refusal()
        if first != self.position + 1:
            raise ValueError(f"follow from position {first}, the node is at {self.position}")
        batches: list[list[Event]] = []
        try:
            for command in commands:
                events = self._apply_or_stop(command)
                if events and type(events[0]) in _UNCHANGED:
                    error = EngineFault(f"{type(command).__name__} at journal position "
                                        f"{self.position + 1} was refused on replay: this "
                                        "node diverged from the leader; the node stops")
                    self._stop(error, error)
                    raise error
                self.position = self.durable_position = self.position + 1
                batches.append(events)
        finally:
            self._notify(batches)

    async def close(self) -> None:
        """Finish the batch in flight and release the journal."""
        if self._stopped is None:
            await self.synced()
        self._writer.shutdown()
        if isinstance(self.journal, AppendsHere):
            await self.journal.close_here()
        self.journal.close()

    # -- applying -----------------------------------------------------------------------------
    apply = applying.apply  # (node, command) -> events: memory only (``sandex.node.applying``)

    def _set_clock(self, command: SetClock) -> list[Event]:
        self.clock.set(command.mode, command.rate, command.time)
        return [ClockSet(command.time, command.mode, command.rate)]

    def _snapshot_command(self, command: SaveSnapshot | RestoreSnapshot | DeleteSnapshot
                          ) -> list[Event]:
        name = command.name
        if isinstance(command, SaveSnapshot):
            if name not in self.saved and len(self.saved) >= SAVED_MAX:
                limit = Error.SNAPSHOT_LIMIT
                return [Rejected(limit.name, limit.format(SAVED_MAX))]
            saved = Saved.of(name, self.position + 1, command.time,
                             node_hash(self.engine, self.keys, self.clock.mode), self._parts())
            self.saved[name] = saved
            return [SnapshotSaved(command.time, name, saved.state_hash)]
        found = self.saved.get(name)
        if found is None:
            return [Rejected(Error.SNAPSHOT_NOT_FOUND.name, Error.SNAPSHOT_NOT_FOUND.format(name))]
        if isinstance(command, DeleteSnapshot):
            del self.saved[name]
            return [SnapshotDeleted(command.time, name)]
        if found.state_hash != command.state_hash:  # a replay that saved another state
            return [Rejected(Error.SNAPSHOT_DIVERGED.name, Error.SNAPSHOT_DIVERGED.format(name))]
        self._take(found.parts())
        self.ids = self.ids.fork(f"restore/{name}")
        self.restores += 1
        return [Restored(command.time, name, found.state_hash,
                         self.position + 1)]

    def _apply_key(self, command: CreateApiKey | RevokeApiKey) -> list[Event]:
        if isinstance(command, RevokeApiKey):
            if not self.keys.revoke(command.key):
                return [Rejected(Error.INVALID_API_KEY.name, Error.INVALID_API_KEY.format())]
            return [KeyRevoked(command.time, command.key)]
        profile = self.engine.profiles.get(command.profile_id)
        if profile is None:
            return [Rejected(Error.PROFILE_NOT_FOUND.name, Error.PROFILE_NOT_FOUND.format())]
        try:  # the key holds the profile table's own id object (an equal string): each probe
            # by it (the gateway's, the engine's, the views', the limiter's) hits by identity
            self.keys.add(command.key, command.secret, command.passphrase_hash, command.salt,
                          command.permissions, profile.id, command.time, command.kdf)
        except ValueError as exc:
            return [Rejected(Error.INVALID_FIELD.name, Error.INVALID_FIELD.format(f"key: {exc}"))]
        return [KeyCreated(command.time, command.key, command.profile_id)]

    # -- snapshots ----------------------------------------------------------------------------
    def dump_state(self) -> bytes:
        """Everything replay would rebuild, as of ``position``: a ``NodeImage`` document."""
        return image.encode(image.export(
            self._parts(), [saved.document() for saved in self.saved.values()]))

    def _parts(self) -> image.NodeParts:
        return image.NodeParts(self.engine, self.keys, self.fills, self.ledger, self.market,
                               self.orders, self._last_time, self.clock.mode, self.clock.rate,
                               self.transfers)

    def load_state(self, data: bytes, position: int) -> None:
        """Take the state of a ``dump_state`` document at ``position``; raise (changing
        nothing) if it does not decode or is inconsistent."""
        state = image.decode(data)
        self._take(image.restore(state))
        self.saved = {saved.name: Saved.read(saved) for saved in state.saved}
        self.position = self.durable_position = position

    def _take(self, parts: image.NodeParts) -> None:
        """Hold ``parts`` as the state, the clock at its time (its mode and rate)."""
        (self.engine, self.keys, self.fills, self.ledger, self.market, self.orders,
         self._last_time) = parts[:7]
        self.transfers = parts.transfers
        self._applied_time = self._last_time  # every command after the cut was stamped later
        self.clock.set(parts.clock_mode, parts.clock_rate, self._last_time)
