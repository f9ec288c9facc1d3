"""Many commands in one step (``Node.execute_all``) and an advance applied in chunks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from sandex.core import CancelAfter, Command, Deposit, PlaceOrder, Rejected, Side, TimeInForce
from sandex.node import ClockMode, ManualClock, Node, SetClock
from sandex.node import scheduler as scheduler_module
from tests.support.node_kit import T0, GatedJournal, bid, venue

SECOND = 1_000_000


def test_execute_all_applies_each_when_pulled_and_waits_once_for_one_group_commit() -> None:
    journal = GatedJournal()
    journal.gate.set()
    node = venue(journal=journal)
    applied: list[int] = []

    def commands() -> Iterator[Command]:
        for price in (100, 101, 102):
            applied.append(node.position)  # the one before is applied when this is pulled
            yield bid(node, price)
        yield Deposit(time=node.stamp(), profile_id="nobody", currency="USD", amount=1,
                      transfer_id="x")  # refused: not journaled

    async def run() -> list[list[object]]:
        return await node.execute_all(commands())  # type: ignore[return-value]

    results = asyncio.run(run())
    assert applied == [0, 1, 2]
    assert [type(events[0]).__name__ for events in results] == [
        "Received", "Received", "Received", "Rejected"]
    assert journal.batches == [3] and node.durable_position == node.position == 3


def test_an_advance_is_applied_in_chunks_with_requests_served_between(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "CHUNK_COMMANDS", 4)
    journal = GatedJournal()
    journal.gate.set()
    node = venue(journal=journal, clock=ManualClock(T0))
    node.apply(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=0.0))
    for second in range(10):  # ten GTT orders, a second apart
        node.clock.reach(node.now() + SECOND)
        node.apply(PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id="a",
                              product_id="BTC-USD", side=Side.BUY, price=(100 + second) * 10**8,
                              size=10**8, time_in_force=TimeInForce.GTT,
                              cancel_after=CancelAfter.MIN))

    async def run() -> tuple[dict[str, int], int]:
        advance = asyncio.create_task(node.scheduler.advance(node.now() + 3600 * SECOND))
        while not journal.batches:
            await asyncio.sleep(0)
        request = await node.execute(bid(node, 50))  # between two chunks of the advance
        assert not advance.done() and type(request[0]) is not Rejected
        return await advance, node.position

    fired, position = asyncio.run(run())
    assert fired == {"expiries": 10}
    assert position == 12 and len(journal.batches) >= 3 and sum(journal.batches) == 12
    assert node.engine.next_expiry() is None


def test_a_node_in_memory_also_yields_between_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "CHUNK_COMMANDS", 1)
    node = Node(clock=ManualClock(T0))
    node.apply(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=0.0))
    fired: list[int] = []

    class Every:
        kind, rank = "every", 1

        def __init__(self) -> None:
            self.next = node.now()

        def due(self, now: int) -> int:
            return self.next

        def fire(self, at: int) -> scheduler_module.Firing:
            fired.append(at)
            self.next = at + SECOND
            return scheduler_module.Firing([SetClock(time=node.stamp_at(at),
                                                     mode=ClockMode.VIRTUAL, rate=0.0)])

        def rearm(self, now: int) -> None:
            self.next = now

    node.scheduler.add(Every())

    async def run() -> int:
        advance = asyncio.create_task(node.scheduler.advance(node.now() + 9 * SECOND))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen = len(fired)
        await advance
        return seen

    seen = asyncio.run(run())
    assert 0 < seen < 10 and len(fired) == 10
    assert fired == [fired[0] + i * SECOND for i in range(10)]
