"""The group commit's gather (``Node._gather``): on the event loop (``AppendsHere``), a batch
waits while commands keep joining it until it is as large as the batch written before it, and
goes as soon as ``GATHER_TURNS`` loop turns in a row add none. Replies still wait for their
own batch's write: nothing is answered before it is durable."""

from __future__ import annotations

import asyncio

import pytest

from sandex.journal import MemoryJournal
from sandex.node import node as node_module
from tests.support.node_kit import bid, venue


class HeldJournal(MemoryJournal):
    """Appended on the loop; each append waits until the test releases it."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.release: asyncio.Event | None = None

    async def append_here(self, records: list[bytes]) -> int:
        assert self.release is not None
        await self.release.wait()
        self.batches.append(len(records))
        return self.append(records)

    async def close_here(self) -> None:
        pass


def run(scenario):  # type: ignore[no-untyped-def]
    journal = HeldJournal()
    node = venue(journal)

    async def main() -> None:
        journal.release = asyncio.Event()
        await scenario(node, journal)

    asyncio.run(main())
    return journal, node


async def turn() -> None:
    await asyncio.sleep(0)


def test_a_batch_gathers_to_the_size_of_the_one_before_while_commands_keep_joining() -> None:
    async def scenario(node, journal) -> None:  # type: ignore[no-untyped-def]
        first = [asyncio.ensure_future(node.execute(bid(node))) for _ in range(5)]
        await turn()
        await turn()  # the five are being written (held)
        second = [asyncio.ensure_future(node.execute(bid(node)))]
        await turn()
        journal.release.set()  # the five become durable; one command is waiting
        for _ in range(4):  # one more a turn: each keeps the batch gathering
            second.append(asyncio.ensure_future(node.execute(bid(node))))
            await turn()
        assert all(f.done() for f in first) and not any(f.done() for f in second)
        await asyncio.gather(*second)

    journal, node = run(scenario)
    assert journal.batches == [5, 5]
    assert node.durable_position == node.position == 10


def test_a_batch_goes_when_no_command_joined_for_the_turns_allowed() -> None:
    async def scenario(node, journal) -> None:  # type: ignore[no-untyped-def]
        first = [asyncio.ensure_future(node.execute(bid(node))) for _ in range(6)]
        await turn()
        await turn()
        second = [asyncio.ensure_future(node.execute(bid(node))) for _ in range(2)]
        await turn()
        journal.release.set()
        await asyncio.gather(*first, *second)  # the two go without the four more

    journal, _ = run(scenario)
    assert journal.batches == [6, 2]


def test_no_gather_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_module, "GATHER_TURNS", 0)

    async def scenario(node, journal) -> None:  # type: ignore[no-untyped-def]
        first = [asyncio.ensure_future(node.execute(bid(node))) for _ in range(5)]
        await turn()
        await turn()
        second = [asyncio.ensure_future(node.execute(bid(node)))]
        await turn()
        journal.release.set()
        for _ in range(4):
            second.append(asyncio.ensure_future(node.execute(bid(node))))
            await turn()
        await asyncio.gather(*first, *second)

    journal, _ = run(scenario)
    assert journal.batches[:2] == [5, 1]


def test_a_node_stopped_while_a_batch_gathers_fails_its_waiters() -> None:
    async def scenario(node, journal) -> None:  # type: ignore[no-untyped-def]
        first = [asyncio.ensure_future(node.execute(bid(node))) for _ in range(5)]
        await turn()
        await turn()
        second = asyncio.ensure_future(node.execute(bid(node)))
        await turn()
        journal.release.set()
        third = asyncio.ensure_future(node.execute(bid(node)))
        for _ in range(3):  # the five durable, the next batch gathering
            await turn()
        assert all(f.done() for f in first) and not second.done()
        node._stop(RuntimeError("disk"), node_module.JournalFailed("stopped"), quiet=True)
        for waiting in (second, third):
            with pytest.raises(node_module.JournalFailed):
                await waiting
        await turn()
        await turn()
        await turn()

    journal, node = run(scenario)
    assert journal.batches == [5]
    assert node.durable_position == 5 and node.position == 7
