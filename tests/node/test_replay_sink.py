"""A replay's run with the engine's sink (``sandex.core.sink``: a ``Received``'s and a
canceled ``Done``'s ids noted, no ``Received``, ``Opened`` or ``Done`` built) leaves the same
engine and the same read models, bit for bit, as the same commands applied one by one and
fed their events (``applying.apply``, what the live path's ``Node.execute`` runs); the live
path never has a sink."""

from __future__ import annotations

import random

import msgspec
import pytest

from sandex.core import (
    CancelOrder,
    Command,
    Done,
    DoneReason,
    Duplicate,
    ModifyOrder,
    Opened,
    PlaceOrder,
    Received,
    Rejected,
)
from sandex.core.invariants import state_hash
from sandex.core.sink import Sink
from sandex.node import applying, image
from sandex.node.node import Node
from tests.core.streams import PRODUCTS, concretize, random_stream, setup_commands

_REFUSED = (Rejected, Duplicate)


def _stamped(commands: list[Command]) -> list[Command]:
    """``setup_commands()`` (all stamped ``T0``) stamped strictly increasing before ``T0``,
    then ``commands``, each stamped after the one before (a node applies no other)."""
    setup = setup_commands()
    first = commands[0].time
    out = [msgspec.structs.replace(command, time=first - len(setup) - 1 + i)
           for i, command in enumerate(setup)]
    last = out[-1].time
    for command in commands:
        last = max(command.time, last + 1)
        out.append(msgspec.structs.replace(command, time=last))
    return out


def _with_modifies(rng: random.Random, commands: list[Command]) -> list[Command]:
    """``commands`` with a modify of a recent order after some places (``_stamped`` stamps
    them)."""
    out: list[Command] = []
    placed: list[PlaceOrder] = []
    for command in commands:
        out.append(command)
        if type(command) is PlaceOrder and command.product_id in PRODUCTS:
            placed.append(command)
            if rng.random() < 0.15:
                order = rng.choice(placed[-6:])
                if order.price is not None and order.size is not None:
                    out.append(ModifyOrder(
                        time=0, profile_id=order.profile_id, order_id=order.order_id,
                        price=order.price + rng.choice((-2, -1, 1, 2))
                        * PRODUCTS[order.product_id].quote_inc,
                        size=order.size * rng.choice((1, 2)), product_id=order.product_id))
    return out


def _accepted(commands: list[Command]) -> tuple[Node, list[Command]]:
    """A node fed every command's events one by one (``apply``), and the commands it
    accepted (what a journal holds)."""
    node = Node()
    accepted: list[Command] = []
    for command in commands:
        events = applying.apply(node, command)
        assert node.engine._sink is None
        if not (events and type(events[0]) in _REFUSED):
            accepted.append(command)
    return node, accepted


def _fed(commands: list[Command]) -> Node:
    """A node fed the events of each of ``commands`` (all accepted), one by one."""
    node = Node()
    for command in commands:
        events = applying.apply(node, command)
        assert not (events and type(events[0]) in _REFUSED)
    return node


def _replayed(commands: list[Command], chunk: int) -> Node:
    node = Node()
    for start in range(0, len(commands), chunk):
        run = commands[start:start + chunk]
        assert applying.apply_run(node, run, start + 1) is None
        assert node.engine._sink is None  # put back: the live path builds every event
    return node


def _contents(node: Node) -> tuple[str, bytes, dict[str, list[str]]]:
    parts = node._parts()
    return (state_hash(node.engine), image.encode(image.export(parts)),
            {profile: list(orders) for profile, orders in node.orders.by_profile.items()})


@pytest.mark.parametrize("seed", range(6))
def test_a_run_with_the_sink_leaves_what_the_events_leave(seed: int) -> None:
    rng = random.Random(seed)
    commands = _stamped(_with_modifies(rng, concretize(random_stream(rng, 1_500))))
    fed = _fed(_accepted(commands)[1])  # (the refused ones move its last time)
    accepted = _accepted(commands)[1]
    kinds = {type(command) for command in accepted}
    assert {PlaceOrder, CancelOrder, ModifyOrder} <= kinds
    assert sum(product.trade_id for product in fed.engine.products.values()) > 50
    for chunk in (1, 97):
        assert _contents(_replayed(accepted, chunk)) == _contents(fed)


def test_the_views_read_what_the_events_hold() -> None:
    """The stream above reaches every note: orders received by profiles that keep them,
    canceled before and after a fill (purged or archived)."""
    rng = random.Random(11)
    fed, _ = _accepted(_stamped(concretize(random_stream(rng, 1_500))))
    assert sum(len(orders) for orders in fed.orders.by_profile.values()) > 50


def test_the_engine_with_a_sink_notes_and_builds_none_of_the_three() -> None:
    rng = random.Random(3)
    commands = _stamped(concretize(random_stream(rng, 600)))
    fed, accepted = _accepted(commands)
    node = Node()
    sink = Sink()
    for command in accepted:
        node.engine._sink = sink
        try:
            events = node.engine.apply(command)
        finally:
            node.engine._sink = None
        assert not any(type(event) in (Received, Opened, Done) for event in events)
    # the ids the events hold, in their order
    again = Node()
    want: list[str | None] = []
    for command in accepted:
        for event in again.engine.apply(command):
            if type(event) is Received:
                want += [event.order_id, event.profile_id]
            elif type(event) is Done and event.reason is DoneReason.CANCELED:
                want += [None, event.order_id, event.profile_id]
    assert sink.notes == want
    assert len(want) > 200 and want.count(None) > 20
    assert state_hash(node.engine) == state_hash(again.engine) == state_hash(fed.engine)


def test_the_live_path_builds_every_event() -> None:
    rng = random.Random(5)
    commands = _stamped(concretize(random_stream(rng, 300)))
    node = Node()
    kinds: set[type] = set()
    for command in commands:
        kinds |= {type(event) for event in applying.apply(node, command)}
        assert node.engine._sink is None
    assert {Received, Opened, Done} <= kinds
