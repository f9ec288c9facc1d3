"""A restore's ``Restored`` reaches every node listener that tests for it, and each acts on it:
the REST app, the race controls, the feed (one command at a time and by group commit), the
replay controller and the tracer's feed wrapper. ``Restored`` is a node event (``Event``'s
subclass since session 30, which made ``mypy --strict`` see these tests as reachable): these
pin that each ``type(events[0]) is Restored`` branch runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sandex.admin.races import races_of
from sandex.api.feed import Feed
from sandex.api.feed.session import Session
from sandex.api.rest.app import RestApp
from sandex.api.tracer import Tracer
from sandex.core import Event
from sandex.node import Batched, Node, Restored, RestoreSnapshot, SaveSnapshot
from sandex.replay.controller import replay_of
from tests.support.node_kit import bid, venue


def _saved(node: Node, name: str = "start") -> Callable[[], RestoreSnapshot]:
    """Save ``name`` now and place a bid after it; what makes the command that goes back."""
    asyncio.run(node.execute(SaveSnapshot(time=node.stamp(), name=name)))
    asyncio.run(node.execute(bid(node, 100)))
    return lambda: RestoreSnapshot(time=node.stamp(), name=name,
                                   state_hash=node.saved[name].state_hash)


def test_the_rest_app_empties_its_buckets_on_a_restore() -> None:
    node = venue()
    rest = RestApp(node)
    node.listeners.append(Batched(rest.on_batch))
    restore = _saved(node)
    before = rest.rate_limiter
    asyncio.run(node.execute(bid(node, 101)))
    assert rest.rate_limiter is before  # another command: the buckets stay
    asyncio.run(node.execute(restore()))
    assert rest.rate_limiter is not before
    assert rest.rate_limiter.limits is before.limits


def test_the_race_controls_drop_their_rules_on_a_restore() -> None:
    node = venue()
    races = races_of(node)  # listens by group commit (``on_batch``, then ``on_events``)
    restore = _saved(node)
    races.gate.close({})  # hold every order request
    asyncio.run(node.execute(bid(node, 101)))
    assert races.gate.rules and races.active
    asyncio.run(node.execute(restore()))
    assert not races.gate.rules and not races.active


def test_the_feed_restarts_its_hub_on_a_restore_command_by_command_and_by_batch() -> None:
    node = venue()
    single, batched = Feed(node), Feed(node)
    node.listeners.append(single.on_events)
    node.listeners.append(Batched(batched.on_batch))
    for feed in (single, batched):
        feed.attach(Session("127.0.0.1", 100))  # a connection open: the hub is kept live
    restore = _saved(node)
    hubs = single.hub, batched.hub
    asyncio.run(node.execute(bid(node, 101)))
    assert (single.hub, batched.hub) == hubs
    asyncio.run(node.execute(restore()))
    assert single.hub is not hubs[0] and batched.hub is not hubs[1]
    book = node.engine.products["BTC-USD"].book
    for feed in (single, batched):
        assert sorted(feed.hub.state.products["BTC-USD"].book.bids) == sorted(book.bids) == []


def test_the_replay_controller_resyncs_on_a_restore() -> None:
    node = venue()
    controller = replay_of(node)
    restore = _saved(node)
    calls: list[str] = []
    controller.resync = lambda: calls.append("resync")  # type: ignore[method-assign]
    asyncio.run(node.execute(bid(node, 101)))
    assert calls == []
    asyncio.run(node.execute(restore()))
    assert calls == ["resync"]


def test_the_tracer_forgets_unseen_notes_on_a_restore_it_did_not_note() -> None:
    """A restore the tracer did not note (journaled by ``Node.record``, as start-up and the
    offline tools do) still clears the notes of commands whose events the feed never saw."""
    node = venue()
    restore = _saved(node)
    node.tracer = tracer = Tracer(node)
    # noted; no feed listens yet: it stays pending (its events kept alive here: the notes are
    # by ``id()`` of the list, which a freed list's successor could take)
    placed = asyncio.run(node.execute(bid(node, 101)))
    assert list(tracer._pending) == [id(placed)]
    seen: list[list[Event]] = []
    node.listeners.append(tracer.watch(seen.append))
    events: Any = node.record(restore())
    assert type(events[0]) is Restored and seen == [events]
    assert tracer._pending == {}
