"""The scheduler's listener (``Scheduler._on_batch``) reads a commit's kinds in C; it must
decide exactly as the loop over each command it replaced (REST's thirteenth pass)."""

from __future__ import annotations

import itertools
from typing import Any

from sandex.core import ClockAdvanced, Done, Received, TransferStarted
from sandex.node.commands import ClockSet, Restored
from sandex.node.scheduler import _CLOCK_MOVES, Scheduler


class _Alarm:
    def __init__(self, is_set: bool) -> None:
        self.fired = is_set
        self.sets = 0

    def set(self) -> None:
        self.fired = True
        self.sets += 1

    def is_set(self) -> bool:
        return self.fired


class _Engine:
    def __init__(self, due: int | None) -> None:
        self.due = due

    def next_expiry(self) -> int | None:
        return self.due


class _Host:
    def __init__(self, due: int | None) -> None:
        self.engine = _Engine(due)

    def now(self) -> int:
        return 7


class _Fake:
    """What ``_on_batch`` uses of a scheduler, its calls recorded."""

    _woken = Scheduler._woken

    def __init__(self, is_set: bool, due: int | None, waiting: int | None) -> None:
        self._alarm = _Alarm(is_set)
        self._host = _Host(due)
        self._waiting_for = waiting
        self.rearms: list[int] = []

    def rearm(self, now: int) -> None:
        self.rearms.append(now)
        self._alarm.set()


def _reference(self: Any, batches: list[list[Any]]) -> None:
    """``_on_batch`` as it was: a loop over every command."""
    alarm = self._alarm
    if alarm is None:
        return
    received = False
    for events in batches:
        if not events:
            continue
        kind: type = type(events[0])
        if kind is Received:
            received = True
        elif kind is Restored:
            self.rearm(self._host.now())
        elif kind in _CLOCK_MOVES or kind is TransferStarted:
            alarm.set()
    if received and not alarm.is_set():
        due, waiting = self._host.engine.next_expiry(), self._waiting_for
        if due is not None and (waiting is None or due < waiting):
            alarm.set()


def _event(kind: type) -> Any:
    """An event of ``kind``: only its type is read (a ``Struct``'s fields are not checked)."""
    return kind(**dict.fromkeys(kind.__struct_fields__))


def test_the_kinds_read_in_c_decide_as_the_loop_did() -> None:
    def of(kind: type | None) -> list[Any]:
        return [] if kind is None else [_event(kind)]

    kinds: list[type | None] = [Received, Done, Restored, ClockAdvanced, ClockSet,
                                TransferStarted, None]
    cases = 0
    for size in range(4):
        for commit in itertools.product(kinds, repeat=size):
            for is_set, due, waiting in itertools.product((False, True), (None, 5, 50),
                                                          (None, 10)):
                batches = [of(kind) for kind in commit]
                new, old = _Fake(is_set, due, waiting), _Fake(is_set, due, waiting)
                Scheduler._on_batch(new, batches)  # type: ignore[arg-type]
                _reference(old, batches)
                assert (new._alarm.fired, new._alarm.sets, new.rearms) == \
                    (old._alarm.fired, old._alarm.sets, old.rearms), (commit, is_set, due)
                cases += 1
    assert cases > 1000


def test_no_alarm_no_work() -> None:
    fake = _Fake(False, 5, None)
    fake._alarm = None  # type: ignore[assignment]
    Scheduler._on_batch(fake, [[_event(Restored)]])  # type: ignore[arg-type]
    assert fake.rearms == []
