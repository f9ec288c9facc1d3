"""Advancing by D is running for D: same commands at the same times, same state hash.

A seeded venue (the default scenario, its demo on, a few GTT orders of the demo user, one of
them expiring exactly on a demo tick) either advances a frozen clock by D in one call, or runs
a virtual clock at rate 1 for D while its real clock moves in random steps (some skipping
several ticks), the scheduler's runner firing what is due after each step.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from sandex.core import CancelAfter, ClockAdvanced, Done, Event, PlaceOrder, Side, TimeInForce
from sandex.demo import DemoTimer
from sandex.node import ClockMode, ManualClock, Node, SetClock
from sandex.node.snapshot import node_hash
from sandex.server import Venue, build

START_S = 1_704_067_200  # 2024-01-01T00:00:00Z
SECOND = 1_000_000
MINUTE = 60 * SECOND
DEMO_USER = "8058d771-2d88-4f0f-ab6e-299c153d4308"
GTT_AT = (0, 2_500_000, 7 * SECOND, 30_500_000)  # after the first tick: 0 expires on tick 60


def venue(seed: int, rate: float) -> tuple[Venue, ManualClock, int, list[PlaceOrder]]:
    """A seeded venue on a virtual clock at ``rate`` with the demo's tick due at ``first``
    (returned) and the GTT orders placed; the real clock is ``ManualClock``."""
    built = build(None, seed=seed, wall_clock=lambda: START_S)
    node, config = built.node, built.demo
    assert config is not None
    source = ManualClock(START_S * SECOND)
    node.clock.source = source
    node.record(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=rate))
    first = node.now() + SECOND
    orders = []
    for offset, price in zip(GTT_AT, (1000, 1001, 1002, 1003), strict=True):
        order = PlaceOrder(time=node.stamp_at(first + offset), order_id=node.ids.uuid(),
                           profile_id=DEMO_USER, product_id="BTC-USD", side=Side.BUY,
                           price=price * 10**8, size=10**6, time_in_force=TimeInForce.GTT,
                           cancel_after=CancelAfter.MIN)
        node.record(order)
        orders.append(order)
    node.scheduler.add(DemoTimer(node, config, first))
    return built, source, first, orders


async def settled(node: Node) -> None:
    """Until the runner has fired everything due (the real clock stands still meanwhile)."""
    for _ in range(10_000):
        due = node.scheduler.next_due()
        if due is None or due[0] > node.now():
            return
        await asyncio.sleep(0)
    raise AssertionError("the runner did not catch up")


def advanced(seed: int, by: int) -> tuple[Node, list[Event]]:
    built, _, first, _ = venue(seed, rate=0.0)
    node = built.node
    events: list[Event] = []
    node.listeners.append(events.extend)
    fired = asyncio.run(node.scheduler.advance(first - SECOND + by))
    assert fired["expiries"] == sum(1 for offset in GTT_AT if offset + MINUTE <= by - SECOND)
    return node, events


def ran(seed: int, steps: list[int]) -> tuple[Node, list[Event]]:
    built, source, _, _ = venue(seed, rate=1.0)
    node = built.node
    events: list[Event] = []
    node.listeners.append(events.extend)

    async def run() -> None:
        runner = asyncio.create_task(node.scheduler.run())
        for step in steps:
            source.set(source.now_us() + step)
            node.scheduler.wake()
            await settled(node)
        # The engine keeps the time of the last AdvanceClock: an advance by 0 ends the run as
        # the advance ends, with one to the target.
        await node.scheduler.advance(node.now())
        runner.cancel()

    asyncio.run(run())
    return node, events


@settings(max_examples=6, deadline=None, database=None)
@given(seed=st.integers(0, 2**32), steps=st.lists(st.integers(1, 4 * SECOND), min_size=1,
                                                  max_size=30),
       tail=st.integers(55 * SECOND, 70 * SECOND))
def test_advancing_by_d_gives_the_state_of_running_for_d(seed: int, steps: list[int],
                                                         tail: int) -> None:
    steps = [*steps, tail]  # past the first minute: the GTT orders expire on the way
    by = sum(steps)
    running, ran_events = ran(seed, steps)
    advancing, advanced_events = advanced(seed, by)
    assert advanced_events == ran_events  # the same commands at the same times
    assert advancing.position == running.position
    assert node_hash(advancing) == node_hash(running)


def test_gtt_orders_expire_at_their_time_under_advance_with_the_demo_on() -> None:
    built, _, first, orders = venue(7, rate=0.0)
    node = built.node
    events: list[Event] = []
    node.listeners.append(events.extend)
    fired = asyncio.run(node.scheduler.advance(first + 2 * MINUTE))
    assert fired == {"expiries": 4, "demo_ticks": 121}
    done = {e.order_id: e for e in events if type(e) is Done and e.profile_id == DEMO_USER}
    assert [done[o.order_id].time for o in orders] == [o.time + MINUTE for o in orders]
    tick_60 = first + MINUTE  # an expiry and a tick due at the same microsecond: expiry first
    assert done[orders[0].order_id].time == tick_60
    timed = [(type(e), getattr(e, "time", 0), getattr(e, "profile_id", None)) for e in events]
    assert next(kind for kind, at, _ in timed if at >= tick_60) is ClockAdvanced
    at_tick = [(at, who) for _, at, who in timed if tick_60 < at < tick_60 + SECOND]
    assert at_tick and all(at < tick_60 + 1000 and who != DEMO_USER for at, who in at_tick)
