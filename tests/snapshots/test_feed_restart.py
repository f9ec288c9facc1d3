"""The feed after a restore on a data dir: commands applied while the restore is being written
are in the rebuilt mirror once, not twice."""

from __future__ import annotations

import asyncio

from sandex.api.feed import Feed
from sandex.api.feed.session import Session
from sandex.node import RestoreSnapshot, SaveSnapshot
from tests.support.node_kit import GatedJournal, bid, settle, venue


def test_a_command_applied_while_a_restore_is_written_is_mirrored_once() -> None:
    journal = GatedJournal()
    node = venue(journal)
    feed = Feed(node)
    node.listeners.append(feed.on_events)
    feed.attach(Session("127.0.0.1", 100))  # a connection open: the mirror is kept

    async def scenario() -> None:
        journal.gate.set()
        await node.execute(bid(node, 100))
        await node.execute(SaveSnapshot(time=node.stamp(), name="one-bid"))
        await node.execute(bid(node, 101))
        journal.gate.clear()
        restore = asyncio.create_task(node.execute(RestoreSnapshot(
            time=node.stamp(), name="one-bid", state_hash=node.saved["one-bid"].state_hash)))
        await settle()  # the restore is applied and its batch is on the writer thread
        later = asyncio.create_task(node.execute(bid(node, 102)))  # the next batch
        await settle()
        assert not restore.done() and not later.done()
        journal.gate.set()
        await asyncio.gather(restore, later)

    asyncio.run(scenario())
    book = node.engine.products["BTC-USD"].book
    mirror = feed.hub.state.products["BTC-USD"].book
    assert sorted(mirror.bids) == sorted(book.bids) == [100 * 10**8, 102 * 10**8]
    assert {p: level for p, level in mirror.bids.items()} == {
        p: [level.size, level.count] for p, level in book.bids.items()}
    assert len(mirror.orders) == 2
