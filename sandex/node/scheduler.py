"""The venue clock's scheduler: timers due at venue times, each fired at its own due time.

A timer (``Timer``) says when it is next due and, when fired, which commands to run; sources
today are GTT expiry (``ExpiryTimer``, always on), the settlement of transfers with the
outside world (``SettlementTimer``, always on) and the demo's tick (``sandex.demo``).
``firings(target)`` fires every timer due by ``target`` in order of due time; timers due at
the same microsecond fire by ``rank`` (expiries, 0, before demo ticks, 1), then in the order
they were added. A firing's commands are stamped at its due time (due, due + 1 µs, ...:
``Node.stamp_at``), never at "now", so a GTT order's ``done`` carries its expire_time however
late it is seen, and one run fires the same commands whether the clock ran or jumped. The
next firing is chosen only once the previous one's commands were applied (an expiry may
cancel a demo order, a demo order may rest with an expiry of its own).

Two ways to fire: ``fire_until`` (the runner, ``run``, when the clock reaches a due time, and
``advance``, for ``clock.advance``) applies whole firings in chunks through
``Node.execute_all``: one group commit per chunk, the event loop free between chunks;
``advance_commands`` yields the same commands for ``Node.record`` (a stopped data dir).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from sandex.core import (
    AdvanceClock,
    ClockAdvanced,
    Command,
    Done,
    Engine,
    Event,
    Received,
    TransferCompleted,
    TransferStarted,
)
from sandex.node.alarm import open_alarm
from sandex.node.batched import Batched
from sandex.node.clock import VenueClock
from sandex.node.commands import ClockSet, Restored

Results = list[list[Event]]  # the events of each command of a firing, in order

WAKE_MAX_S = 1.0  # the runner looks again at least this often (a clock moved, a timer added)
# the shortest sleep toward a due time: on a timerfd (``sandex.node.alarm``), and on the
# loop's millisecond timer (which may wake a fraction of a millisecond early)
SLEEP_MIN_S, SLEEP_MIN_LOOP_S = 0.00005, 0.0005
# A timer's commands are committed as soon as they are applied; when the runner sleeps longer
# than this toward a due time, it wakes this much before it to wake the journal's disk
# (``Node.prime_storage``: a sync with nothing new, so the firing's commit does not meet a
# disk that idled)
PRIME_LEAD_S = 0.01
CHUNK_COMMANDS = 4096  # a chunk of firings ends past this many commands ...
CHUNK_SECONDS = 0.01  # ... or this long on the event loop, so requests and the feed go on


class Host(Protocol):
    """What the scheduler uses of its node (``sandex.node.Node``)."""

    engine: Engine  # replaced by a restore: read it afresh each time
    clock: VenueClock
    listeners: list[Callable[[list[Event]], None]]

    def stamp_at(self, time: int) -> int: ...

    def now(self) -> int: ...

    async def execute_all(self, commands: Iterable[Command]) -> Results: ...

    def prime_storage(self) -> bool: ...


@dataclass
class Firing:
    """What one timer does at one due time: ``commands`` (each stamped when pulled) and
    ``count``, which tells from their events what the firing counts for in a reply."""

    commands: Iterable[Command]
    count: Callable[[Results], int] = lambda results: 1


class Timer(Protocol):
    """A source of due times. ``kind`` names it in ``fired`` counts; ``rank`` breaks ties."""

    kind: str
    rank: int

    def due(self, now: int) -> int | None:
        """The venue time it is next due (``None``: not armed); ``now`` is the venue time."""
        ...

    def fire(self, at: int) -> Firing:
        """Fire the firing due at ``at`` (called once all before it were applied)."""
        ...

    def rearm(self, now: int) -> None:
        """The venue clock went back to ``now`` (a restore): re-anchor on it."""
        ...


class ExpiryTimer:
    """GTT expiry: due at the engine's next expiry; fires one ``AdvanceClock`` stamped at it,
    which cancels every order due by then (``count``: the orders it expired)."""

    kind, rank = "expiries", 0

    def __init__(self, host: Host) -> None:
        self._host = host

    def due(self, now: int) -> int | None:
        return self._host.engine.next_expiry()

    def fire(self, at: int) -> Firing:
        return Firing(_advance(self._host, at), _expired)

    def rearm(self, now: int) -> None:
        """Nothing to do: the due time is read from the engine each time."""


class SettlementTimer:
    """Transfers with the outside world (``sandex.core.funds``): due when the next pending
    deposit or withdrawal settles; fires one ``AdvanceClock`` stamped then, which settles
    every transfer due by it (``count``: the transfers it settled)."""

    kind, rank = "transfers", 0
    listed = False  # counted in ``fired`` only once it fired (replies kept their shape)

    def __init__(self, host: Host) -> None:
        self._host = host

    def due(self, now: int) -> int | None:
        return self._host.engine.next_settlement()

    def fire(self, at: int) -> Firing:
        return Firing(_advance(self._host, at), _settled)

    def rearm(self, now: int) -> None:
        """Nothing to do: the due time is read from the engine each time."""


def _advance(host: Host, at: int) -> Iterator[Command]:
    yield AdvanceClock(time=host.stamp_at(at))


def _settled(results: Results) -> int:
    return sum(type(event) is TransferCompleted for events in results for event in events)


def _expired(results: Results) -> int:
    return sum(type(event) is Done for events in results for event in events)


@dataclass
class _Chunk:
    """The firings pulled into one chunk: each timer, its firing and how many commands it
    gave (to tally their results); ``last`` once no firing is left."""

    sizes: list[tuple[Timer, Firing, int]] = field(default_factory=list)
    last: bool = False  # no firing is left

    def tally(self, results: Results, fired: dict[str, int]) -> None:
        start = 0
        for timer, firing, size in self.sizes:
            fired[timer.kind] = fired.get(timer.kind, 0) + firing.count(
                results[start:start + size])
            start += size


class Scheduler:
    """The node's timers, fired in order (see the module)."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self.timers: list[Timer] = [ExpiryTimer(host), SettlementTimer(host)]
        self._lock = asyncio.Lock()  # one firer at a time: the runner or an advance
        self._alarm: asyncio.Event | None = None  # set to wake the runner early
        self._waiting_for: int | None = None  # the due time the runner sleeps toward

    # -- timers -----------------------------------------------------------------------------
    def add(self, timer: Timer) -> None:
        self.timers.append(timer)
        self.wake()

    def remove(self, timer: Timer) -> None:
        self.timers.remove(timer)

    def kinds(self) -> dict[str, int]:
        """Every timer kind, counted zero: the shape of a ``fired`` reply."""
        return {timer.kind: 0 for timer in self.timers if getattr(timer, "listed", True)}

    def next_due(self) -> tuple[int, Timer] | None:
        """The earliest due time and its timer (ties by rank, then order added)."""
        now = self._host.now()
        best: tuple[int, Timer] | None = None
        for timer in self.timers:
            due = timer.due(now)
            if due is not None and (best is None or (due, timer.rank) < (best[0], best[1].rank)):
                best = (due, timer)
        return best

    def rearm(self, now: int) -> None:
        """The venue clock went back to ``now`` (a snapshot restore): every timer re-anchors."""
        for timer in self.timers:
            timer.rearm(now)
        self.wake()

    # -- firing -----------------------------------------------------------------------------
    def firings(self, target: int) -> Iterator[tuple[Timer, Firing]]:
        """Each firing due by ``target``, in order; the next is chosen when pulled, so pull it
        only once the previous one's commands were applied."""
        while (next_due := self.next_due()) is not None and next_due[0] <= target:
            due, timer = next_due
            yield timer, timer.fire(due)

    def _chunk(self, firings: Iterator[tuple[Timer, Firing]], chunk: _Chunk,
               limit: int | None) -> Iterator[Command]:
        """Commands of whole firings from ``firings`` until past ``limit`` commands or
        ``CHUNK_SECONDS`` (``None``: all of them), noted in ``chunk``."""
        started, pulled = time.perf_counter(), 0
        for timer, firing in firings:
            size = 0
            for command in firing.commands:
                size += 1
                yield command
            chunk.sizes.append((timer, firing, size))
            pulled += size
            if limit is not None and (pulled >= limit
                                      or time.perf_counter() - started >= CHUNK_SECONDS):
                return
        chunk.last = True

    async def fire_until(self, target: int, then: Callable[[], Command] | None = None,
                         ) -> dict[str, int]:
        """Fire every timer due by ``target`` (see the module), then ``then()`` if given;
        return how much of each kind fired, once all of it is durable."""
        fired = self.kinds()
        async with self._lock:
            firings = self.firings(target)
            while True:
                chunk = _Chunk()
                results = await self._host.execute_all(self._chunk(firings, chunk,
                                                                   CHUNK_COMMANDS))
                chunk.tally(results, fired)
                if chunk.last:
                    break
                await asyncio.sleep(0)  # an in-memory journal never waited: yield anyway
            if then is not None:
                await self._host.execute_all(_lazy(then))
        return fired

    async def advance(self, target: int) -> dict[str, int]:
        """``clock.advance``: every timer due by ``target`` at its own time, then an
        ``AdvanceClock`` to ``target``; the counts of what fired."""
        fired = await self.fire_until(target, lambda: self._move(target))
        self.wake()
        return fired

    def advance_commands(self, target: int, fired: dict[str, int],
                         ) -> tuple[Iterator[Command], Callable[[Results], None]]:
        """``advance`` for ``Node.record`` (a stopped data dir): the commands, each stamped
        when pulled, and what tallies their results into ``fired``."""
        chunk = _Chunk()

        def commands() -> Iterator[Command]:
            yield from self._chunk(self.firings(target), chunk, None)
            yield self._move(target)

        return commands(), lambda results: chunk.tally(results, fired)

    def _move(self, target: int) -> AdvanceClock:
        return AdvanceClock(time=self._host.stamp_at(target))

    # -- the runner -------------------------------------------------------------------------
    async def run(self) -> None:
        """Fire timers as the venue clock reaches them, until canceled (or the node stops).

        Sleeps until the next due time in real seconds (scaled by a virtual clock's rate;
        while frozen, until the clock moves), at most ``WAKE_MAX_S``; woken early when the
        clock is set or advanced or an earlier timer appears. Behind (a high rate), it
        catches up in order, in chunks, the event loop free between them.
        """
        alarm = self._alarm = asyncio.Event()
        timer = open_alarm(asyncio.get_running_loop(), alarm.set)  # to the µs where it can
        shortest = SLEEP_MIN_S if timer.precise else SLEEP_MIN_LOOP_S
        listener = Batched(self._on_batch)
        self._host.listeners.append(listener)
        try:
            while True:
                alarm.clear()
                host = self._host
                next_due = self.next_due()
                if next_due is not None and next_due[0] <= host.now():
                    await self.fire_until(host.now())
                    continue
                self._waiting_for = None if next_due is None else next_due[0]
                sleep = self._sleep_seconds(next_due, shortest)
                if next_due is not None and sleep < WAKE_MAX_S:  # toward the due time
                    if sleep > PRIME_LEAD_S:
                        sleep = max(shortest, sleep - PRIME_LEAD_S)  # wake early to prime
                    else:
                        host.prime_storage()  # (nothing if the journal synced just now)
                timer.arm(sleep)
                await alarm.wait()
                timer.disarm()
        finally:
            timer.close()
            self._host.listeners.remove(listener)
            self._alarm = self._waiting_for = None

    def _sleep_seconds(self, next_due: tuple[int, Timer] | None, shortest: float) -> float:
        if next_due is None:
            return WAKE_MAX_S
        real = self._host.clock.wall_seconds(max(0, next_due[0] - self._host.now()) / 1e6)
        return WAKE_MAX_S if real is None else min(WAKE_MAX_S, max(shortest, real))

    def wake(self) -> None:
        """Make the runner look again now (a clock moved, a timer added or re-anchored)."""
        if self._alarm is not None:
            self._alarm.set()

    def _on_batch(self, batches: list[list[Event]]) -> None:
        """A group commit's events: wake the runner if the clock moved, or if a new order
        (a GTT one) expires before the due time it sleeps toward. Expiry is the one timer other
        commands move; every other change comes through ``add``/``rearm``, which wake it. One
        call a commit, a type check or two a command; the engine's next expiry is read once
        (it is the same for every command of the batch: they were all applied before)."""
        alarm = self._alarm
        if alarm is None:
            return
        kinds: frozenset[type] | set[type]
        try:  # each command's first event's kind, in C: no Python loop over the commit
            kinds = set(map(type, map(_FIRST, batches)))
        except IndexError:  # a command with no events: the loop below
            kinds = _WAKES
        # no restore, clock move or transfer: only whether it holds a new order
        received = Received in kinds if kinds.isdisjoint(_WAKES) else \
            self._woken(batches, alarm)
        if received and not alarm.is_set():
            due, waiting = self._host.engine.next_expiry(), self._waiting_for
            if due is not None and (waiting is None or due < waiting):
                alarm.set()

    def _woken(self, batches: list[list[Event]], alarm: Any) -> bool:
        """``_on_batch``'s look at each command of a commit that holds a restore, a clock
        move or a transfer (or a command without events): whether it holds a new order."""
        received = False
        for events in batches:
            if not events:
                continue
            kind: type = type(events[0])  # node events (``Restored``) ride with the core's
            if kind is Received:
                received = True
            elif kind is Restored:  # the clock went back to the snapshot's time
                self.rearm(self._host.now())  # (which wakes the runner)
            elif kind in _CLOCK_MOVES or kind is TransferStarted:  # a transfer may settle
                alarm.set()  # sooner
        return received


_CLOCK_MOVES = (ClockSet, ClockAdvanced)
# the kinds ``_woken`` looks at
_WAKES: frozenset[type] = frozenset({Restored, *_CLOCK_MOVES, TransferStarted})
_FIRST = itemgetter(0)


def _lazy(make: Callable[[], Command]) -> Iterator[Command]:
    yield make()
