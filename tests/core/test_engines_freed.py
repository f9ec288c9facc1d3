"""An engine dropped is freed, whatever it held: orders are not tracked by the collector
(``no_gc``), so a reference from an order back to anything that holds the order would make a
cycle the collector cannot see whole, and every restore or dropped test venue would keep its
engine. Session 21's tallies made one (a tally held its profile); this runs every stream of
the twin test (stops, modifies, replays, market orders, the bench's mix) and counts what is
left of each engine once it is dropped."""

from __future__ import annotations

import gc

import pytest

from sandex.core import Command, Engine
from tests.core.test_compiled_twin import streams

WATCHED = ("Engine", "Profile", "Tally", "Product", "Book", "Account")
STREAMS = streams()


def census() -> dict[str, int]:
    gc.collect()
    counts = dict.fromkeys(WATCHED, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts and type(obj).__module__.startswith("sandex.core"):
            counts[name] += 1
    return counts


@pytest.mark.parametrize(("name", "commands"), STREAMS, ids=[name for name, _ in STREAMS])
def test_a_dropped_engine_leaves_nothing(name: str, commands: list[Command]) -> None:
    before = census()
    engine = Engine()
    for command in commands:
        engine.apply(command)
    alive = census()
    assert alive["Profile"] > before["Profile"], "the stream made no profile: nothing is checked"
    live_orders = len(engine.orders)
    del engine
    assert census() == before, f"{name}: {live_orders} orders on record when dropped"
