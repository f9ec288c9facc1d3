"""Fail-stop: an engine fault or a journal failure stops the node for good, and a command
stamped out of order is refused. In-process; ``tests/durability/test_disk_faults.py`` does
the same through a real server."""

from __future__ import annotations

import asyncio
import logging
import pickle

import pytest

from sandex.core import OrderType, PlaceOrder, Side
from sandex.journal import MemoryJournal
from sandex.node import Ids, ManualClock, Node
from sandex.node.codec import decode
from sandex.node.node import EngineFault, JournalFailed, NodeStopped, TimeOutOfOrder
from tests.support.node_kit import T0, GatedJournal, bid, settle, venue


class _Faulty:
    """The node's engine, raising IndexError *after* applying the order ``order_id``."""

    def __init__(self, engine: object, order_id: str) -> None:
        self._engine, self._order_id = engine, order_id

    def apply(self, command):  # type: ignore[no-untyped-def]
        events = self._engine.apply(command)  # type: ignore[attr-defined]
        if getattr(command, "order_id", None) == self._order_id:
            raise IndexError("list index out of range")
        return events

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)


def fault_on(node: Node, order_id: str) -> None:
    """Make the engine raise IndexError *after* applying the order ``order_id``: memory
    changed (a hold, a resting order), the journal not, as a real bug would leave it. (The
    engine is wrapped, not patched: a compiled engine's methods cannot be replaced.)"""
    node.engine = _Faulty(node.engine, order_id)  # type: ignore[assignment]


def test_an_engine_fault_stops_the_node_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    journal = MemoryJournal()
    node = venue(journal)
    stops: list[BaseException] = []
    node.on_failure = stops.append
    heard: list[object] = []
    node.listeners.append(heard.append)

    async def scenario() -> None:
        await node.execute(bid(node, 100))
        faulty = bid(node, 101)
        fault_on(node, faulty.order_id)
        with caplog.at_level(logging.CRITICAL, "sandex.node"), pytest.raises(EngineFault):
            await node.execute(faulty)
        with pytest.raises(NodeStopped):  # no further command ...
            await node.execute(bid(node, 102))
        with pytest.raises(NodeStopped):  # ... and no read of memory ahead of the journal
            await node.synced()

    asyncio.run(scenario())
    assert [type(s) for s in stops] == [IndexError]
    assert node.in_flight
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert line.startswith("applying PlaceOrder (stamped ")
    assert "after journal position 1 raised IndexError('list index out of range')" in line
    # the journal holds the order before the fault, not the one that raised or any after
    assert [decode(body).price for _, body in journal.read()] == [100 * 10**8]  # type: ignore[attr-defined]
    assert len(heard) == 1


def test_an_engine_fault_fails_the_batch_in_flight_and_nothing_more_is_delivered() -> None:
    journal = GatedJournal()
    node = venue(journal)
    heard: list[object] = []
    node.listeners.append(heard.append)

    async def scenario() -> None:
        first = asyncio.create_task(node.execute(bid(node, 100)))  # written, gate closed
        await settle()
        second = asyncio.create_task(node.execute(bid(node, 101)))  # filling the next batch
        await settle()
        faulty = bid(node, 102)
        fault_on(node, faulty.order_id)
        with pytest.raises(EngineFault):
            await node.execute(faulty)
        journal.gate.set()
        for task in (first, second):  # never a success once the node stopped
            with pytest.raises(EngineFault):
                await task
        await node.close()

    asyncio.run(scenario())
    assert heard == []
    assert journal.last_position == 1  # the batch on the writer thread was written: no harm
    assert node.durable_position == 0


def test_after_a_journal_failure_reads_are_refused_too() -> None:
    journal = GatedJournal()
    journal.fail_with = OSError(28, "No space left on device")
    node = venue(journal)

    async def scenario() -> None:
        task = asyncio.create_task(node.execute(bid(node)))
        await settle()
        journal.gate.set()
        with pytest.raises(JournalFailed, match="No space left on device"):
            await task
        assert node.in_flight  # memory is ahead of the disk for good: GETs wait, then fail
        with pytest.raises(JournalFailed):
            await node.synced()

    asyncio.run(scenario())


def test_record_stops_the_node_when_the_journal_refuses() -> None:
    journal = MemoryJournal()
    node = venue(journal)
    journal.append = lambda records: (_ for _ in ()).throw(OSError(30, "Read-only file system"))  # type: ignore[method-assign, assignment]
    with pytest.raises(OSError, match="Read-only"):
        node.record(bid(node))
    with pytest.raises(JournalFailed):
        node.record(bid(node))


@pytest.mark.parametrize("earlier", [0, 1], ids=["same time", "earlier"])
def test_a_command_stamped_out_of_order_is_refused_and_changes_nothing(earlier: int) -> None:
    node = venue(MemoryJournal())
    late = bid(node, 100)
    early = bid(node, 101)
    node.apply(early)
    before = pickle.dumps(node.engine)
    stale = PlaceOrder(time=early.time - earlier, order_id=node.ids.uuid(), profile_id="a",
                       product_id="BTC-USD", side=Side.BUY, type=OrderType.LIMIT,
                       price=99 * 10**8, size=10**8)
    for command in (late, stale):
        with pytest.raises(TimeOutOfOrder, match="not after the last command applied"):
            node.apply(command)
    assert pickle.dumps(node.engine) == before


def test_executing_a_command_stamped_out_of_order_stops_the_node() -> None:
    node = venue(MemoryJournal())
    late, early = bid(node, 100), bid(node, 101)

    async def scenario() -> None:
        await node.execute(early)
        with pytest.raises(EngineFault, match="TimeOutOfOrder"):
            await node.execute(late)  # stamped, then overtaken: a caller's bug

    asyncio.run(scenario())
    assert isinstance(node.failure, TimeOutOfOrder)


def test_a_loaded_snapshot_keeps_the_order_of_time() -> None:
    node = venue(MemoryJournal())
    stale = bid(node)
    node.apply(bid(node))
    restored = Node(clock=ManualClock(T0), ids=Ids(seed=5))
    restored.load_state(node.dump_state(), 4)
    with pytest.raises(TimeOutOfOrder):
        restored.apply(stale)
