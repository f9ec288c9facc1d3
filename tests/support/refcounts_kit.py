"""Reference counts around instances that sandex frees by its own deallocs (the core's hot
events, the replayed commands: ``sandex.core.slots.free_fast``): a slot missed or released
twice fails no other test loudly, so these count what each instance gives back."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any


def fresh(i: int) -> Any:
    """A value of its own (no cache or interning shares it), so its count is the test's."""
    return (1 << 40) + i


def assert_references_given_back(kind: type, values: Iterable[object],
                                 make: Callable[[], tuple[list[Any], int]]) -> None:
    """``make()`` builds instances of ``kind`` and says how many of them hold each of
    ``values`` (its ints and strs are counted): each count rises by that many, and once
    the instances are freed every count, and ``kind``'s own, is back where it was."""
    mine = [value for value in values if type(value) in (int, str)]
    before = [sys.getrefcount(value) for value in mine]
    types_before = sys.getrefcount(kind)
    made, holders = make()
    assert [sys.getrefcount(value) - holders for value in mine] == before
    del made
    assert [sys.getrefcount(value) for value in mine] == before
    assert sys.getrefcount(kind) == types_before
