"""A node listener that takes a whole group commit in one call (``Batched``)."""

from __future__ import annotations

from collections.abc import Callable

from sandex.core import Event


class Batched:
    """A node listener that takes a whole group commit at once: ``on_batch`` gets the events of
    each of its commands (one list per command, in command order) in one call, where a plain
    listener is called once per command. For listeners with nothing to do for most commands
    (a test per commit instead of a call per command). Called with one command's events, it
    hands them on as a batch of one."""

    __slots__ = ("on_batch",)

    def __init__(self, on_batch: Callable[[list[list[Event]]], None]) -> None:
        self.on_batch = on_batch

    def __call__(self, events: list[Event]) -> None:
        self.on_batch([events])

    def __repr__(self) -> str:
        return f"Batched({self.on_batch!r})"
