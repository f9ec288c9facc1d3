"""The venue clock: wall or virtual (rate, freeze, jumps), journaled moves, restart frozen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandex.core import CancelAfter, ClockAdvanced, Done, Event, PlaceOrder, Side, TimeInForce
from sandex.node import ClockMode, ClockSet, ManualClock, Node, SetClock, SystemClock, VenueClock
from sandex.node.clock import RATE_MAX, clock_rate
from sandex.node.scheduler import Firing
from sandex.node.storage import open_node, snapshot_now
from tests.support.node_kit import T0, venue

MINUTE = 60_000_000


def test_a_virtual_clock_runs_at_its_rate_from_its_anchor_and_only_jumps_forward() -> None:
    source = ManualClock(T0)
    clock = VenueClock(source)
    assert clock.now_us() == T0 and clock.mode is ClockMode.WALL
    clock.set(ClockMode.VIRTUAL, 10.0, 5_000_000)
    source.advance(2)
    assert clock.now_us() == 25_000_000
    clock.set(ClockMode.VIRTUAL, 0.0, clock.now_us())
    source.advance(100)
    assert clock.now_us() == 25_000_000 and clock.frozen
    clock.reach(24_000_000)  # behind: ignored
    assert clock.now_us() == 25_000_000
    clock.reach(90_000_000)
    assert clock.now_us() == 90_000_000


@pytest.mark.parametrize("value, rate", [(0, 0.0), ("2.5", 2.5), (RATE_MAX, RATE_MAX)])
def test_a_rate_is_a_number_from_0_to_the_cap(value: object, rate: float) -> None:
    assert clock_rate(value) == rate


@pytest.mark.parametrize("value", [-1, "-0.5", "nan", "fast", True, None, RATE_MAX * 2])
def test_anything_else_is_not_a_rate(value: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        clock_rate(value)


def test_set_clock_is_applied_by_the_node_and_stamps_follow_the_virtual_clock() -> None:
    source = ManualClock(T0)
    node = Node(clock=source)
    events = node.apply(SetClock(time=MINUTE, mode=ClockMode.VIRTUAL, rate=0.0))
    assert events == [ClockSet(MINUTE, ClockMode.VIRTUAL, 0.0)]
    source.advance(30)
    assert node.stamp() == MINUTE + 1  # frozen: only the +1 µs that keeps stamps unique
    assert node.now() == MINUTE + 1


def gtt(node: Node, price: int) -> PlaceOrder:
    return PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id="a",
                      product_id="BTC-USD", side=Side.BUY, price=price * 10**8, size=10**8,
                      time_in_force=TimeInForce.GTT, cancel_after=CancelAfter.MIN)


def test_advancing_fires_each_expiry_at_its_own_time_in_order() -> None:
    node = venue()
    node.apply(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=0.0))
    first = gtt(node, 100)
    node.apply(first)
    node.clock.reach(node.now() + 10_000_000)  # 10 s later
    second = gtt(node, 101)
    node.apply(second)
    target = node.now() + 3_600_000_000
    done: list[Done] = []
    for timer, firing in node.scheduler.firings(target):
        assert timer.kind == "expiries"
        for command in firing.commands:
            done += [e for e in node.apply(command) if isinstance(e, Done)]
    assert [(d.order_id, d.time) for d in done] == [
        (first.order_id, first.time + MINUTE), (second.order_id, second.time + MINUTE)]
    assert node.engine.next_expiry() is None


def test_a_restarted_virtual_clock_resumes_frozen_at_the_last_stamp(tmp_path: Path) -> None:
    source = ManualClock(T0)
    node = open_node(tmp_path, source)
    node.record(SetClock(time=T0 - 10 * MINUTE, mode=ClockMode.VIRTUAL, rate=5.0))
    source.advance(60)  # five virtual minutes
    node.record(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=5.0))
    last = node.now()
    assert last == T0 - 5 * MINUTE
    node.journal.close()
    for _ in range(2):  # from the journal, then from a snapshot
        again = open_node(tmp_path, source)
        source.advance(3600)
        assert (again.clock.mode, again.clock.rate, again.now()) == (
            ClockMode.VIRTUAL, 0.0, last)
        snapshot_now(again, tmp_path)
        again.journal.close()


def test_the_runner_expires_a_gtt_order_once_the_clock_reaches_it() -> None:
    clock = ManualClock(T0)
    node = venue(clock=clock)
    order = gtt(node, 100)
    node.apply(order)
    produced: list[list[Event]] = []
    node.listeners.append(produced.append)

    async def run() -> None:
        runner = asyncio.create_task(node.scheduler.run())
        await asyncio.sleep(0.05)  # not due yet: nothing sent
        assert produced == []
        clock.advance(61)
        await asyncio.sleep(1.2)  # the runner looks again within a second
        runner.cancel()

    asyncio.run(run())
    assert [type(events[0]) for events in produced] == [ClockAdvanced]
    assert order.order_id not in node.engine.orders  # expired with no fills: purged
    assert node.engine.profiles["a"].accounts["USD"].hold == 0
    done = [e for events in produced for e in events if isinstance(e, Done)]
    assert [(d.order_id, d.reason, d.cancel_reason, d.time) for d in done] == [
        (order.order_id, "canceled", "101:Time In Force", order.time + MINUTE)]  # not "now"


class Ticks:
    """A timer due every second of venue time from ``start``, recording when it fired."""

    kind, rank = "ticks", 1

    def __init__(self, start: int) -> None:
        self.next: int | None = start
        self.fired: list[int] = []

    def due(self, now: int) -> int | None:
        return self.next

    def fire(self, at: int) -> Firing:
        self.fired.append(at)
        self.next = at + 1_000_000
        return Firing(())

    def rearm(self, now: int) -> None:
        self.next = now


def test_the_runner_sleeps_on_venue_time_scaled_by_the_rate_and_waits_while_frozen() -> None:
    async def run() -> None:
        node = Node()  # the system clock
        node.apply(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=100.0))
        ticks = Ticks(node.now())
        node.scheduler.add(ticks)
        runner = asyncio.create_task(node.scheduler.run())
        await asyncio.sleep(0.1)  # ten venue seconds at rate 100
        assert len(ticks.fired) >= 5  # about 11: not one a real second
        await node.execute(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=0.0))
        await asyncio.sleep(0.01)  # a tick due by the freeze may still fire
        fired = len(ticks.fired)
        await asyncio.sleep(0.3)
        assert len(ticks.fired) == fired  # frozen: no venue second passes by itself
        moved = await node.scheduler.advance(node.now() + 5_000_000)
        assert moved == {"expiries": 0, "ticks": 5} and len(ticks.fired) == fired + 5
        assert ticks.fired == [ticks.fired[0] + i * 1_000_000 for i in range(len(ticks.fired))]
        ticks.rearm(node.now())  # as after a restore: due at once
        await node.execute(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=1.0))
        await asyncio.sleep(0.05)  # the clock set woke the runner: no wait for a whole second
        assert len(ticks.fired) == fired + 6
        runner.cancel()

    asyncio.run(run())


def test_a_new_gtt_order_wakes_the_runner_for_its_expiry() -> None:
    async def run() -> float:
        node = venue(clock=SystemClock())  # type: ignore[arg-type]
        await node.execute(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=1000.0))
        runner = asyncio.create_task(node.scheduler.run())
        await asyncio.sleep(0.05)  # nothing due: the runner sleeps for a second
        order = gtt(node, 100)
        await node.execute(order)  # expires a minute later: 60 ms of real time
        placed = asyncio.get_running_loop().time()
        while order.order_id in node.engine.orders:
            await asyncio.sleep(0.005)
        runner.cancel()
        return asyncio.get_running_loop().time() - placed

    assert asyncio.run(run()) < 0.5  # not the second the runner would otherwise sleep
