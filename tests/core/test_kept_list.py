"""``Engine.apply``'s events list kept from one command to the next (``kept.pxd``, compiled
only): a list its caller has dropped is emptied and reused, one the caller still holds is
never touched. Whatever the caller does with the lists (drops each, holds each until the
next replaces it, keeps them all, appends to one, or drops one whose release reaches the
engine's list), every command's events are the ones a fresh list would get, and a list a
caller keeps keeps its events.
"""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sandex.core import Command, Engine
from sandex.core import engine as engine_module
from sandex.core.events import Event

ROOT = Path(__file__).resolve().parents[2]
COMPILED = engine_module.__file__ is not None and engine_module.__file__.endswith(
    (".so", ".pyd"))
N = 1500


def _stream() -> tuple[list[Command], list[Command]]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from streams import generate  # bench/streams.py: the benchmark's mix
    finally:
        sys.path.remove(str(ROOT / "bench"))
    stream = generate(N, seed=3)
    return list(stream.setup), list(stream.commands[:N])


def _encoded(events: list[Event]) -> bytes:
    return msgspec.json.encode(events)


def _expected() -> list[bytes]:
    """Each command's events, encoded when made (so no later reuse could change them)."""
    setup, commands = _stream()
    engine = Engine()
    for cmd in setup:
        engine.apply(cmd)
    return [_encoded(engine.apply(cmd)) for cmd in commands]


EXPECTED: list[bytes] = []


def _expect() -> list[bytes]:
    if not EXPECTED:
        EXPECTED.extend(_expected())
    return EXPECTED


def _engine() -> tuple[Engine, list[Command]]:
    setup, commands = _stream()
    engine = Engine()
    for cmd in setup:
        engine.apply(cmd)
    return engine, commands


def test_a_dropped_list_is_reused_and_its_events_are_right() -> None:
    engine, commands = _engine()
    expected = _expect()
    ids = set()
    for i, cmd in enumerate(commands):
        events = engine.apply(cmd)
        assert type(events) is list
        assert _encoded(events) == expected[i], i
        ids.add(id(events))
        del events  # dropped before the next command
    if COMPILED:
        assert len(ids) == 1  # one list for the whole run


def test_a_list_held_until_the_next_replaces_it() -> None:
    engine, commands = _engine()
    expected = _expect()
    lists: list[int] = []
    events: Any = None
    for i, cmd in enumerate(commands):
        events = engine.apply(cmd)  # the last command's list held during this one
        assert _encoded(events) == expected[i], i
        lists.append(id(events))
    if COMPILED:
        assert len(set(lists[2:])) == 2  # the two lists taken in turn
        assert all(a != b for a, b in pairwise(lists[2:]))


def test_kept_lists_keep_their_events() -> None:
    engine, commands = _engine()
    expected = _expect()
    kept = [engine.apply(cmd) for cmd in commands]
    assert len({id(events) for events in kept}) == len(kept)
    assert [_encoded(events) for events in kept] == expected
    # and every second one kept, the others dropped
    engine, commands = _engine()
    some = []
    for i, cmd in enumerate(commands):
        events = engine.apply(cmd)
        assert _encoded(events) == expected[i], i
        if i % 2:
            some.append((i, events))
        del events
    assert all(_encoded(events) == expected[i] for i, events in some)


def test_a_list_the_caller_filled_or_grew() -> None:
    engine, commands = _engine()
    expected = _expect()
    for i, cmd in enumerate(commands):
        events = engine.apply(cmd)
        assert _encoded(events) == expected[i], i
        if i % 7 == 0:
            events.append("a caller's")  # type: ignore[arg-type]
        elif i % 7 == 1:
            events.extend([None] * 300)  # type: ignore[list-item]  # past the slots kept
        elif i % 7 == 2:
            events.clear()
        del events


class _Reentrant:
    """Released with a list its caller filled: reads the engine's events list as it is then
    and, when ``append``, appends to it."""

    def __init__(self, engine: Engine, seen: list[int], append: bool) -> None:
        self.engine, self.seen, self.append = engine, seen, append

    def __del__(self) -> None:
        events = self.engine._events
        self.seen.append(len(events))
        if self.append:
            events.append("from a release")  # type: ignore[arg-type]


@pytest.mark.parametrize("append", [False, True], ids=["reads", "appends"])
def test_a_release_that_reaches_the_engine_s_list(append: bool) -> None:
    """Compiled, a caller's object in a list the engine reuses is released when it is
    reused (at a later ``apply``), uncompiled when the caller drops the list; either way each
    command's own events are right. (What a release appends to the engine's list then lands
    in the next command's list uncompiled, and in no command's compiled: the list is then
    not reused. Only a caller's objects can do that: the events' fields are ints, strings,
    enums and ``None``.)"""
    engine, commands = _engine()
    expected = _expect()
    seen: list[int] = []
    for i, cmd in enumerate(commands):
        events = engine.apply(cmd)
        own = [event for event in events if not isinstance(event, str)]
        assert _encoded(own) == expected[i], i
        if i % 5 == 0:
            events.append(_Reentrant(engine, seen, append))  # type: ignore[arg-type]
        del events, own
    assert len(seen) >= len(range(0, N - 1, 5))


@pytest.mark.skipif(not COMPILED, reason="the compiled core's list reuse")
def test_the_events_are_the_same_with_and_without_reuse() -> None:
    """A list that is never reused (each one kept) and a reused one give the same bytes, and
    the uncompiled core's are ``EXPECTED`` too (``test_compiled_twin`` compares them by
    digest after every command)."""
    engine, commands = _engine()
    kept = [engine.apply(cmd) for cmd in commands]
    assert [_encoded(events) for events in kept] == _expect()
