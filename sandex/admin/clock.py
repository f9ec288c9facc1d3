"""The clock's admin commands: read the venue clock, freeze it, set its rate, advance it.

Plans for ``sandex.admin.ops`` (online through the endpoint, offline on a stopped data dir).
Advancing goes through the node's scheduler (``sandex.node.scheduler``): every timer due on
the way fires at its own time, in order (a GTT expiry as an ``AdvanceClock`` stamped at its
expire_time, so the order's done carries that time; a demo tick's orders stamped at the tick),
then one ``AdvanceClock`` to the target. Online the commands are applied in chunks, one group
commit each, the event loop free between them; the reply comes once all are durable. Offline
(a stopped data dir) only expiries are due. Only a virtual clock is moved by hand; it moves
forward only, at most 400 days at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sandex import timefmt
from sandex.core import Command, Event
from sandex.errors import Error
from sandex.node import ClockMode, Node, SetClock
from sandex.node.clock import ADVANCE_MAX_US, clock_rate
from sandex.timefmt import iso, parse_iso

NEXT_EXPIRY = ("next-expiry", "next:expiry")


def parse_duration(text: str) -> int:
    """A forward duration (``sandex.timefmt.parse_duration``) in microseconds; a negative
    one is refused as a backwards move."""
    text = text.strip()
    if text.startswith("-"):
        raise ValueError(f"{Error.CLOCK_BACKWARDS.format()} (advance by {text})")
    return timefmt.parse_duration(text)


def clock_json(node: Node) -> dict[str, Any]:
    clock, due = node.clock, node.engine.next_expiry()
    now = node.now()
    return {"mode": clock.mode.value, "now": iso(now), "epoch": now / 1_000_000,
            "rate": clock.rate if clock.mode is ClockMode.VIRTUAL else 1.0,
            "frozen": clock.frozen,
            "next_due": None if due is None else {"kind": "expiry", "at": iso(due)}}


def set_rate(node: Node, value: object) -> SetClock:
    """A virtual clock at ``value`` (0: frozen) from the current venue time; ``ValueError``
    (stamping nothing) if ``value`` is not a rate."""
    rate = clock_rate(value)
    return SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=rate)


def advance_target(node: Node, by: object = None, to: object = None,
                   until: object = None) -> int:
    """Where one of ``by`` (a duration), ``to`` (an ISO time) or ``until`` (``next-expiry``)
    moves the clock; ``ValueError`` if it may not (wall mode, backwards, beyond the cap)."""
    if node.clock.mode is not ClockMode.VIRTUAL:
        raise ValueError("the clock is on wall time: freeze it or set a rate first "
                         "(sandex clock freeze)")
    given = [(name, value) for name, value in (("by", by), ("to", to), ("until", until))
             if value is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of by (90s, 15m, 2h, 1d), to (an ISO 8601 time) "
                         "or until (next-expiry)")
    name, value = given[0]
    if not isinstance(value, str):
        raise ValueError(f"{name}: {value!r} is not a text")
    now = node.now()
    if name == "by":
        target = now + parse_duration(value)
    elif name == "to":
        parsed = parse_iso(value)
        if parsed is None:
            raise ValueError(f"to: {value!r} is not an ISO 8601 time")
        if parsed < now:
            raise ValueError(f"{Error.CLOCK_BACKWARDS.format()} (to {value}; it is {iso(now)})")
        target = parsed
    else:
        if value not in NEXT_EXPIRY:
            raise ValueError(f"until: {value!r} is not next-expiry")
        due = node.engine.next_expiry()
        if due is None:
            raise ValueError("until next-expiry: no GTT order is waiting to expire")
        target = max(due, now)
    if target - now > ADVANCE_MAX_US:
        raise ValueError(f"one advance moves the clock at most 400 days "
                         f"(asked for {(target - now) / 86_400_000_000:g} days)")
    return target


FIRED = ("expiries", "demo_ticks")  # what an advance's reply counts, zero if none fired


async def advance_online(node: Node, target: int) -> dict[str, Any]:
    """Advance a running node to ``target``; the reply once every command is durable."""
    return advanced_json(node, await node.scheduler.advance(target))


def advance_offline(node: Node, target: int,
                    ) -> tuple[Iterator[Command], Callable[[list[list[Event]]], Any]]:
    """The commands advancing a stopped node to ``target`` (each stamped when pulled: record
    each before pulling the next), and the reply from their events."""
    fired: dict[str, int] = {}
    commands, tally = node.scheduler.advance_commands(target, fired)

    def render(events: list[list[Event]]) -> dict[str, Any]:
        tally(events)
        return advanced_json(node, fired)

    return commands, render


def advanced_json(node: Node, fired: dict[str, int]) -> dict[str, Any]:
    return {**clock_json(node), "fired": {**dict.fromkeys(FIRED, 0), **fired}}
