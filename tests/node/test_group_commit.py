"""Group commit: replies and feed events wait for the fsync; one write covers a batch."""

from __future__ import annotations

import asyncio
import threading

import pytest

from sandex.core import (
    Duplicate,
    OrderType,
    PlaceOrder,
    Received,
    Rejected,
    Side,
)
from sandex.journal import MemoryJournal
from sandex.node import Restored, RestoreSnapshot, SaveSnapshot
from sandex.node.codec import decode
from sandex.node.node import Batched, JournalFailed, RestoreWatch
from tests.support.node_kit import GatedJournal, bid, settle, venue


def test_replies_and_listener_events_wait_for_the_write_and_batches_share_it():
    journal = GatedJournal()
    node = venue(journal)
    seen: list[str] = []
    node.listeners.append(lambda events: seen.append(events[0].order_id))  # type: ignore[attr-defined]

    async def scenario() -> None:
        first = asyncio.create_task(node.execute(bid(node)))
        await settle()  # the first batch (one command) is now on the writer thread
        rest = [asyncio.create_task(node.execute(bid(node, 100 + i))) for i in range(1, 6)]
        await settle()
        assert not first.done() and not any(t.done() for t in rest), "replied before fsync"
        assert seen == [] and node.durable_position == 0 and node.position == 6
        journal.gate.set()
        results = await asyncio.gather(first, *rest)
        assert [type(r[0]) for r in results] == [Received] * 6
        assert seen == [r[0].order_id for r in results]  # type: ignore[attr-defined]
        assert journal.batches == [1, 5]  # the five waiting commands: one write

    asyncio.run(scenario())
    assert node.durable_position == 6 and journal.last_position == 6
    assert [decode(body).price for _, body in journal.read()] == [  # type: ignore[attr-defined]
        p * 10**8 for p in range(100, 106)]


def test_a_refused_command_is_answered_at_once_and_never_journaled():
    journal = GatedJournal()  # the gate stays shut: any write would hang the test
    node = venue(journal)
    refused = PlaceOrder(time=node.stamp(), order_id="x", profile_id="a", product_id="NOPE-USD",
                         side=Side.BUY, type=OrderType.LIMIT, price=10**8, size=10**8)
    events = asyncio.run(node.execute(refused))
    assert [type(e) for e in events] == [Rejected] and events[0].reason == "PRODUCT_NOT_FOUND"  # type: ignore[attr-defined]
    assert node.position == 0 and journal.last_position == 0 and not node.in_flight


def test_a_client_oid_retry_waits_for_the_original_and_adds_nothing():
    journal = GatedJournal()
    node = venue(journal)
    oid = "11111111-2222-4333-8444-555555555555"

    async def scenario() -> None:
        original = asyncio.create_task(node.execute(bid(node, client_oid=oid)))
        await settle()
        retry = asyncio.create_task(node.execute(bid(node, client_oid=oid)))
        await settle()
        assert not retry.done(), "the retry must not answer before the original is durable"
        journal.gate.set()
        placed, again = await asyncio.gather(original, retry)
        assert again == [Duplicate(again[0].time, placed[0].order_id, "a")]  # type: ignore[attr-defined]

    asyncio.run(scenario())
    assert journal.last_position == 1


def test_a_failed_write_fails_every_waiter_and_stops_the_node():
    journal = GatedJournal()
    journal.fail_with = OSError(28, "No space left on device")
    node = venue(journal)
    failures: list[BaseException] = []
    node.on_failure = failures.append

    async def scenario() -> None:
        first = asyncio.create_task(node.execute(bid(node)))
        await settle()
        second = asyncio.create_task(node.execute(bid(node, 101)))
        await settle()
        journal.gate.set()
        for task in (first, second):
            with pytest.raises(JournalFailed):
                await task
        with pytest.raises(JournalFailed):
            await node.execute(bid(node, 102))

    asyncio.run(scenario())
    assert [type(f) for f in failures] == [OSError]
    assert journal.last_position == 0 and node.durable_position == 0


def test_synced_waits_for_everything_applied_so_far():
    journal = GatedJournal()
    node = venue(journal)

    async def scenario() -> None:
        placing = asyncio.create_task(node.execute(bid(node)))
        await settle()
        waiting = asyncio.create_task(node.synced())
        await settle()
        assert not waiting.done() and node.in_flight
        journal.gate.set()
        await waiting
        assert node.durable_position == 1 and not node.in_flight
        await placing

    asyncio.run(scenario())


def test_a_journal_in_memory_is_appended_in_line_without_a_writer_thread():
    journal = MemoryJournal()  # not blocking: nothing to wait for
    node = venue(journal)
    seen: list[list[object]] = []
    node.listeners.append(seen.append)

    async def scenario() -> list[object]:
        events = await node.execute(bid(node))
        assert not node.in_flight and node._flusher is None
        return events

    events = asyncio.run(scenario())
    assert seen == [events] and node.position == node.durable_position == 1
    [(position, body)] = list(journal.read())
    assert position == 1 and decode(body).price == 100 * 10**8  # type: ignore[attr-defined]


def test_a_canceled_request_cancels_only_its_own_wait():
    journal = GatedJournal()
    node = venue(journal)

    async def scenario() -> None:
        first = asyncio.create_task(node.execute(bid(node)))
        await settle()  # on the writer thread now
        gone, kept = (asyncio.create_task(node.execute(bid(node, p))) for p in (101, 102))
        synced = asyncio.create_task(node.synced())
        await settle()
        gone.cancel()  # e.g. its connection went away
        await settle()
        journal.gate.set()
        await asyncio.gather(first, kept, synced)
        assert gone.cancelled() and type(kept.result()[0]) is Received

    asyncio.run(scenario())
    assert journal.batches == [1, 2]  # the canceled request's order is placed all the same
    assert node.durable_position == 3 and not node.in_flight


def test_a_failing_listener_does_not_stall_replies_or_other_listeners():
    journal = GatedJournal()
    journal.gate.set()
    node = venue(journal)
    seen: list[object] = []

    def broken(events: list[object]) -> None:
        raise ValueError("a bug in a listener")

    node.listeners += [broken, seen.append]
    events = asyncio.run(node.execute(bid(node)))
    assert seen == [events] and node.durable_position == 1


def test_a_batched_listener_gets_each_group_commit_in_one_call_in_command_order():
    journal = GatedJournal()
    node = venue(journal)
    calls: list[list[str]] = []
    plain: list[str] = []
    node.listeners.append(Batched(lambda batch: calls.append(
        [events[0].order_id for events in batch])))  # type: ignore[attr-defined]
    node.listeners.append(lambda events: plain.append(events[0].order_id))  # type: ignore[attr-defined]

    async def scenario() -> list[str]:
        first = asyncio.create_task(node.execute(bid(node)))
        await settle()  # the first batch (one command) is on the writer thread
        rest = [asyncio.create_task(node.execute(bid(node, 100 + i))) for i in range(1, 5)]
        await settle()
        journal.gate.set()
        results = await asyncio.gather(first, *rest)
        return [r[0].order_id for r in results]  # type: ignore[attr-defined]

    ids = asyncio.run(scenario())
    assert journal.batches == [1, 4]
    assert calls == [ids[:1], ids[1:]]  # one call per group commit, commands in order
    assert plain == ids  # a plain listener still hears each command on its own


def test_a_batched_listener_called_with_one_commands_events_gets_a_batch_of_one():
    got: list[list[list[int]]] = []
    listener = Batched(got.append)
    listener([1, 2])  # type: ignore[list-item]
    assert got == [[[1, 2]]]


def test_a_written_batch_is_released_by_the_first_callback_after_the_write():
    """The writer thread hands a durable batch straight back to the loop: its events reach
    the listeners (and its replies are released) in the plain loop callback the thread
    schedules after the write, not in a task woken one step later by a future, so reports
    leave sooner. (Checked by what runs the listener, not by racing the thread's callbacks
    against the loop's, which would depend on the scheduler.)"""
    seen: list[tuple[object, int]] = []
    journal = GatedJournal()
    journal.gate.set()
    node = venue(journal)
    node.listeners.append(
        lambda events: seen.append((asyncio.current_task(), threading.get_ident())))

    async def scenario() -> None:
        await node.execute(bid(node))
        await settle()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert seen == [(None, threading.get_ident())]  # on the loop's thread, in no task
    assert node.durable_position == 1 and node.batches == 1 and node._flusher is None


def test_a_restore_watch_finds_each_restore_of_a_commit_and_skips_commits_with_none():
    """``RestoreWatch`` gives the events of exactly the commands that restored, in each commit
    (a restore applied while an earlier batch is written makes that commit looked through and
    found empty), and nothing for commits without one."""
    journal = GatedJournal()
    node = venue(journal)
    watch = RestoreWatch(node)
    found: list[list[str]] = []
    node.listeners.append(Batched(lambda batch: found.append(
        [events[0].name for events in watch.restores(batch)])))  # type: ignore[attr-defined]

    async def scenario() -> None:
        journal.gate.set()
        await node.execute(bid(node, 100))
        await node.execute(SaveSnapshot(time=node.stamp(), name="one"))
        journal.gate.clear()
        first = asyncio.create_task(node.execute(bid(node, 101)))
        await settle()  # its batch is on the writer thread
        rest = [asyncio.create_task(node.execute(bid(node, 102))),
                asyncio.create_task(node.execute(RestoreSnapshot(
                    time=node.stamp(), name="one", state_hash=node.saved["one"].state_hash))),
                asyncio.create_task(node.execute(bid(node, 103)))]
        await settle()
        assert node.restores == 1 and watch.seen == 0
        journal.gate.set()
        results = await asyncio.gather(first, *rest)
        assert type(results[2][0]) is Restored
        await node.execute(bid(node, 104))

    asyncio.run(scenario())
    assert journal.batches == [1, 1, 1, 3, 1]
    assert found == [[], [], [], ["one"], []]
    assert watch.seen == node.restores == 1


def test_submit_hands_back_the_events_and_the_wait_execute_awaits():
    """``Node.submit`` applies at once; what it hands back resolves when the command is
    durable (nothing to await for a refusal)."""
    journal = GatedJournal()
    node = venue(journal)

    async def scenario() -> None:
        events, durable = node.submit(bid(node, 100))
        assert type(events[0]) is Received and durable is not None
        await settle()
        assert node.durable_position == 0 and not durable.done()  # type: ignore[attr-defined]
        journal.gate.set()
        await durable
        assert node.durable_position == 1
        refused, wait = node.submit(bid(node, 0))  # a price of zero: refused, not journaled
        assert type(refused[0]) is Rejected and wait is None

    asyncio.run(scenario())


class _Tracer:
    """Test mode's tracer, reduced to its two calls."""

    def __init__(self) -> None:
        self.committed_notes: list[object] = []

    def applied(self, command: object, events: object, position: int) -> object:
        return position

    def committed(self, note: object, waited_s: float) -> None:
        self.committed_notes.append(note)


@pytest.mark.parametrize("canceled", [(), (0,), (2,), (4,), (0, 1, 2, 3, 4), (1, 3)])
@pytest.mark.parametrize("writing", [False, True])
@pytest.mark.parametrize("traced", [False, True])
def test_a_canceled_request_ends_at_once_and_its_batch_commits_for_the_rest(
        canceled, writing, traced):
    """One future a batch (REST's twenty-second pass), shared by its waiters: a request
    canceled while it waits (first, in the middle, last, all of them, two) ends on the next
    loop turns, before the batch is durable, and does not cancel or delay the others, who
    resume in their order once it is; the canceled commands are journaled all the same.
    ``writing``: the waiters wait for the batch on the writer thread (retries of an order on
    record, ``Duplicate``, and ``synced``), not the one filling up; ``traced``: test mode's
    tracer wraps each wait."""
    journal = GatedJournal()
    node = venue(journal)
    if traced:
        node.tracer = _Tracer()  # type: ignore[assignment]
    resumed: list[int] = []

    async def request(i: int, command) -> None:
        events, durable = node.submit(command)
        assert durable is not None
        await durable
        resumed.append(i)
        assert type(events[0]) in (Received, Duplicate)

    async def scenario() -> None:
        if writing:  # one order on the writer thread; then five retries of it wait for it
            oid = "11111111-2222-4333-8444-555555555555"
            first = asyncio.create_task(request(-1, bid(node, 100, client_oid=oid)))
            await settle()
            waiting = [asyncio.create_task(request(i, bid(node, 100, client_oid=oid)))
                       for i in range(5)]
        else:
            first = asyncio.create_task(request(-1, bid(node, 100)))
            await settle()  # on the writer thread now: the next five fill the next batch
            waiting = [asyncio.create_task(request(i, bid(node, 101 + i))) for i in range(5)]
        await settle()
        assert node.in_flight and not first.done()
        for i in canceled:
            waiting[i].cancel()
        await settle()
        for i, task in enumerate(waiting):  # the canceled ended now, the batch not durable
            assert task.done() == (i in canceled) and (i not in canceled or task.cancelled())
        assert node.durable_position == 0 and resumed == []
        journal.gate.set()
        await asyncio.gather(first, *(t for i, t in enumerate(waiting) if i not in canceled))
        assert resumed == [-1] + [i for i in range(5) if i not in canceled]
        await node.synced()  # all canceled: nobody else waits for their batch's commit

    asyncio.run(scenario())
    assert journal.batches == ([1] if writing else [1, 5])
    assert node.durable_position == node.position and not node.in_flight


@pytest.mark.parametrize("canceled", [(), (0,), (1,), (2,), (0, 1, 2)])
def test_a_failed_commit_reaches_every_waiter_of_the_batch_but_the_canceled(canceled):
    """Fail-stop with one future a batch: each waiter still waiting gets the journal's
    failure (``JournalFailed``), the canceled ones their ``CancelledError``."""
    journal = GatedJournal()
    journal.fail_with = OSError("disk gone")
    node = venue(journal)

    async def scenario() -> None:
        tasks = [asyncio.create_task(node.execute(bid(node, 100 + i))) for i in range(3)]
        await settle()
        for i in canceled:
            tasks[i].cancel()
        await settle()
        journal.gate.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for i, outcome in enumerate(outcomes):
            if i in canceled:
                assert isinstance(outcome, asyncio.CancelledError)
            else:
                assert isinstance(outcome, JournalFailed)
        for _ in range(2000):  # all canceled: nobody waited for the failure to arrive
            if node.failure is not None:
                break
            await asyncio.sleep(0.001)

    asyncio.run(scenario())
    assert node.failure is not None and node.durable_position == 0


def test_a_batch_shares_one_future_whose_cancel_refuses():
    """What the commands of a batch await is one ``asyncio.Future`` of exactly that type
    (the C task's fast path), whose ``cancel`` answers False and leaves it pending."""
    journal = GatedJournal()
    node = venue(journal)

    async def scenario() -> None:
        _, first = node.submit(bid(node, 100))
        _, second = node.submit(bid(node, 101))
        assert first is second and type(first) is asyncio.Future
        assert first.cancel() is False and not first.done()
        journal.gate.set()
        await first

    asyncio.run(scenario())
