"""A snapshot restores the node exactly: random command streams, a snapshot at a random cut,
restore, continue; the events and the state are those of the run that never stopped."""

from __future__ import annotations

import random

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandex.core import Command, check_invariants
from sandex.core.image import OrderImage, shape
from sandex.core.model import ORDER_FIELDS
from sandex.node import snapshot
from sandex.node.commands import CreateApiKey
from sandex.node.node import Node
from tests.core.harness import T0
from tests.core.streams import concretize, random_stream, setup_commands


def views_of(node: Node) -> tuple[object, ...]:
    """Everything the read models list (dict order aside, which nothing reads)."""
    return (node.fills.by_order, node.fills.more, node.fills.by_product, node.ledger.entries,
            {p: (m.trades, m.minutes) for p, m in node.market.products.items()},
            {p: list(by_id) for p, by_id in node.orders.by_profile.items()},
            {p: [o is node.engine.orders[o.id] for o in by_id.values()]
             for p, by_id in node.orders.by_profile.items()})


def key(time: int) -> CreateApiKey:
    return CreateApiKey(time=time, key="k", secret="c2VjcmV0", passphrase_hash=b"h" * 32,
                        salt=b"salt", permissions=("view", "trade"), profile_id="p0")


@settings(max_examples=80, deadline=None, database=None)
@given(st.integers(0, 2**32), st.integers(1, 120), st.floats(0, 1))
@example(seed=0, length=120, where=0.5)  # a market order with a price past the bound
def test_restore_at_any_cut_continues_like_the_run_that_never_stopped(
        seed: int, length: int, where: float) -> None:
    setup = setup_commands()
    stream: list[Command] = [*setup, key(T0), *concretize(random_stream(random.Random(seed),
                                                                        length))]
    # The node takes strictly increasing stamps only: drop the core stream's backwards clock
    # moves (the node never stamps one) and spread equal times apart.
    commands: list[Command] = []
    last = 0
    for command in stream:
        if command.time >= last:
            last = command.time
            commands.append(msgspec.structs.replace(command, time=last + len(commands)))
    cut = len(setup) + int(where * (len(commands) - len(setup)))
    full = Node()
    events = [full.apply(c) for c in commands]

    before = Node()
    for command in commands[:cut]:
        before.apply(command)
    restored = Node()
    restored.load_state(before.dump_state(), cut)
    assert snapshot.node_hash(restored) == snapshot.node_hash(before)
    assert restored.dump_state() == before.dump_state()
    assert [restored.apply(c) for c in commands[cut:]] == events[cut:]
    assert snapshot.node_hash(restored) == snapshot.node_hash(full)
    assert views_of(restored) == views_of(full)
    assert restored.engine.next_expiry() == full.engine.next_expiry()
    check_invariants(restored.engine)


def test_the_order_image_has_every_order_field_by_name() -> None:
    assert set(OrderImage.__struct_fields__) == set(ORDER_FIELDS)


def test_the_engine_attributes_are_all_exported_or_derived() -> None:
    """A new engine attribute must be added to ``sandex.core.image`` (exported, or rebuilt
    by ``restore``) before this list; the snapshot schema changes with it."""
    assert dict(shape())["Engine"] == sorted([
        "products", "profiles", "_live", "_archive", "orders", "currencies", "fee_accounts",
        "supply", "clock", "_expiries", "_order_number", "_entry_id", "_events",
        "client_oid_dedup", "replay", "conversions", "reports", "pending_transfers"])
