"""A replay's run with the engine's sink (``sandex.core.sink``: a ``Received``'s and a
canceled ``Done``'s ids noted, no ``Received``, ``Opened`` or ``Done`` built) leaves the same
engine and the same read models, bit for bit, as the same commands applied one by one and
fed their events (``applying.apply``, what the live path's ``Node.execute`` runs); the live
path never has a sink."""

from __future__ import annotations

import ctypes
import random
import sys
from typing import Any

import msgspec
import pytest

from sandex.core import (
    REPLAY_PROFILE_ID,
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
    Side,
    TimeInForce,
)
from sandex.core.invariants import state_hash
from sandex.core.records import Order
from sandex.core.sink import Sink
from sandex.node import applying, image
from sandex.node.applying import TimeOutOfOrder
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
    # the orders the events are about, in their order: a received one's ``Order``, a
    # canceled one's after ``None``
    again = Node()
    want: list[tuple[str, str] | None] = []
    purged = 0
    for command in accepted:
        for event in again.engine.apply(command):
            if type(event) is Received:
                want.append((event.order_id, event.profile_id))
            elif type(event) is Done and event.reason is DoneReason.CANCELED:
                want += [None, (event.order_id, event.profile_id)]
                # the note's order says whether ``retire`` purged it: canceled with no fill
                # (the replay profile's are purged whatever they filled; never in the view)
                on_record = event.order_id in again.engine._live
                if event.profile_id != REPLAY_PROFILE_ID:
                    assert on_record is (sink.notes[len(want) - 1].filled_size != 0)
                purged += not on_record
    got = [None if note is None else (note.id, note.profile_id) for note in sink.notes]
    assert all(note is None or type(note) is Order for note in sink.notes)
    assert got == want
    assert len(want) > 200 and want.count(None) > 20 and purged > 10
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


def test_the_notes_orders_purged_archived_and_a_profile_s_first_order_purged() -> None:
    """The orders view fed a replay's notes (the ``Order``; whether its cancel purged it
    read from the order) holds what the events' path holds: a profile whose first order is
    an IOC that fills nothing (purged by its own command) gets no dict; an order canceled
    with no fill leaves the view, one canceled after a fill stays (archived)."""
    btc = PRODUCTS["BTC-USD"]
    price, lot = btc.mid, btc.base_inc
    setup = setup_commands()
    t = setup[0].time

    def place(n: int, profile: str, side: Side, **kw: object) -> PlaceOrder:
        fields: dict[str, object] = {"price": price, "size": 10 * lot, **kw}
        return PlaceOrder(time=t + n, order_id=f"o{n}", profile_id=profile,
                          product_id="BTC-USD", side=side, **fields)  # type: ignore[arg-type]

    commands: list[Command] = [
        place(1, "p3", Side.BUY, time_in_force=TimeInForce.IOC),  # p3's first: purged
        place(2, "p1", Side.SELL),  # rests
        place(3, "p2", Side.BUY, size=4 * lot),  # fills o2 in part
        CancelOrder(time=t + 4, profile_id="p1", order_id="o2"),  # filled: archived
        place(5, "p1", Side.SELL, price=price + 5 * btc.quote_inc),  # rests
        CancelOrder(time=t + 6, profile_id="p1", order_id="o5"),  # no fill: purged
        place(7, "p0", Side.BUY, price=price - 5 * btc.quote_inc),  # rests
    ]
    fed, accepted = _accepted(_stamped(commands))
    assert len(accepted) == len(setup) + len(commands)
    assert "p3" not in fed.orders.by_profile
    assert list(fed.orders.by_profile["p1"]) == ["o2"]
    for chunk in (1, 3, len(accepted)):
        replayed = _replayed(accepted, chunk)
        assert _contents(replayed) == _contents(fed)
        assert "p3" not in replayed.orders.by_profile


@pytest.mark.parametrize("shift", [0, 2**60, 2**61 + 12345])  # two digits; three (objects)
def test_a_run_s_times_compared_as_apply_compares_them(shift: int) -> None:
    """``apply_run`` compares each command's time with the last applied and the latest
    seen (compiled, from the two ints' digits when both have at most two 30-bit digits,
    else as objects): the same node as ``apply``'s, and a time not after the last applied
    refused, equal or earlier, with nothing of it applied."""
    rng = random.Random(7)
    commands = [msgspec.structs.replace(command, time=command.time + shift)
                for command in _stamped(concretize(random_stream(rng, 300)))]
    fed, accepted = _accepted(commands)
    replayed = _replayed(accepted, 50)
    assert _contents(replayed) == _contents(fed)
    assert replayed._applied_time == replayed._last_time == fed._applied_time
    assert replayed._applied_time == accepted[-1].time
    last = accepted[-1]
    for time in (last.time, last.time - 1, last.time - 2**31, -1):
        again = _replayed(accepted, 50)
        late = msgspec.structs.replace(last, time=time)
        with pytest.raises(TimeOutOfOrder, match="not after the last command applied"):
            applying.apply_run(again, [late], len(accepted) + 1)
        assert _contents(again) == _contents(fed)
        assert again.position == len(accepted)


@pytest.mark.parametrize("other_keys", ["engine", "orders", "none"])
def test_a_run_s_prefetch_reads_no_dict_but_one_of_str_keys(other_keys: str) -> None:
    """Compiled, a run prefetches the probes of the engine's order index and of the orders
    view's dict of a command's profile for the next commands (``applying.pxd``'s
    ``sandex_ahead``, CPython 3.11's dict layout read for a dict of str keys only): a dict
    made of general keys (a non-str key put in and taken out again: its keys stay general)
    is not read, and either way the run leaves what the events leave, in runs shorter than
    the four commands it looks ahead and longer, of a list and of a tuple."""
    rng = random.Random(11)
    commands = _stamped(concretize(random_stream(rng, 900)))
    accepted = _accepted(commands)[1]
    fed = _fed(accepted)
    for chunk in (1, 3, 4, 5, 61):
        for as_list in (True, False):
            node = Node()
            dicts: list[dict[Any, Any]] = []
            if other_keys == "engine":
                dicts.append(node.engine._live)
            elif other_keys == "orders":
                dicts.append(node.orders.by_profile)
            for d in dicts:
                d[0] = None
                del d[0]
            for start in range(0, len(accepted), chunk):
                run = accepted[start:start + chunk]
                assert applying.apply_run(
                    node, run if as_list else tuple(run), start + 1) is None
            assert _contents(node) == _contents(fed)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's dict layout")
@pytest.mark.parametrize("size", [100, 5_000, 200_000])
def test_the_dict_layout_the_prefetch_reads(size: int) -> None:
    """What ``sandex_chain`` (applying.pxd) reads of a dict of str keys, read here by
    ``ctypes`` at the same offsets (its keys at 32, their ``dk_log2_size``,
    ``dk_log2_index_bytes``, ``dk_kind`` at 8, ``dk_nentries`` at 24, the index at 32, the
    16-byte entries after it; a str's hash at 24), and its probe order (``hash & mask``, then
    ``i * 5 + perturb + 1``): every key is found at the entry its chain names (indexes of 1,
    2 and 4 bytes), within the first three places for most."""
    rng = random.Random(size)
    d = {f"{rng.getrandbits(128):032x}": i for i in range(size)}
    for key in rng.sample(list(d), size // 5):
        del d[key]  # dummies in the chains, as the engine's purges leave
    keys = ctypes.c_void_p.from_address(id(d) + 32).value
    assert keys is not None
    log2, index_bytes, kind = (ctypes.c_uint8 * 3).from_address(keys + 8)
    assert kind == 1 and ctypes.c_void_p.from_address(id(d) + 40).value is None
    used = ctypes.c_ssize_t.from_address(keys + 24).value
    indices, width = keys + 32, index_bytes - log2
    entries = indices + (1 << index_bytes)
    slot_type = {0: ctypes.c_int8, 1: ctypes.c_int16, 2: ctypes.c_int32}[width]
    mask, within = (1 << log2) - 1, 0
    for key in d:
        hashed = ctypes.c_ssize_t.from_address(id(key) + 24).value
        assert hashed == hash(key)
        perturb = i = hashed & (2**64 - 1)
        i &= mask
        for place in range(64):
            ix = slot_type.from_address(indices + (i << width)).value
            assert ix != -1 and ix < used  # never empty before the key
            if ix >= 0 and ctypes.c_void_p.from_address(entries + 16 * ix).value == id(key):
                within += place < 3
                break
            perturb >>= 5
            i = mask & (i * 5 + perturb + 1)
        else:
            raise AssertionError("not found")
    assert within > 0.9 * len(d)


def _deferred(commands: list[Command], chunk: int) -> Node:
    """``_replayed`` with the orders view deferred (``OrdersView.defer``: what
    ``storage.replay`` does from nothing), settled at the end."""
    node = Node()
    assert node.orders.defer()
    try:
        for start in range(0, len(commands), chunk):
            assert applying.apply_run(node, commands[start:start + chunk], start + 1) is None
    finally:
        node.orders.settle()
    assert not node.orders._deferred
    return node


@pytest.mark.parametrize("seed", range(4))
def test_a_deferred_orders_view_settles_to_what_the_events_leave(seed: int) -> None:
    """Places, cancels (purged and archived), modifies, stops, IOCs, the replay profile's
    orders: the view deferred and settled holds the same dicts, in the same order, of the
    same ``Order`` objects as the view fed every event."""
    rng = random.Random(seed)
    commands = _stamped(_with_modifies(rng, concretize(random_stream(rng, 1_500))))
    accepted = _accepted(commands)[1]
    fed = _fed(accepted)
    for chunk in (1, 97, len(accepted)):
        deferred = _deferred(accepted, chunk)
        assert _contents(deferred) == _contents(fed)
        for orders in deferred.orders.by_profile.values():
            for order_id, order in orders.items():
                assert deferred.engine._live[order_id] is order


def test_a_deferral_settles_before_a_node_command_and_then_ends() -> None:
    """A node command after orders (a deposit) finds the view settled, and the rest of the
    replay feeds it a record at a time; the setup's node commands, with no order yet, do
    not end it."""
    rng = random.Random(5)
    accepted = _accepted(_stamped(concretize(random_stream(rng, 600))))[1]
    setup = setup_commands()
    deposit = next(c for c in setup if type(c).__name__ == "Deposit")
    middle = len(accepted) // 2
    late = msgspec.structs.replace(deposit, time=accepted[middle - 1].time + 1,
                                   transfer_id="d-late")
    shifted = [msgspec.structs.replace(c, time=c.time + 1) for c in accepted[middle:]]
    commands = [*accepted[:middle], late, *shifted]
    fed = _fed(commands)
    node = Node()
    assert node.orders.defer()
    assert applying.apply_run(node, commands[:len(setup)], 1) is None
    assert node.orders._deferred  # the setup's node commands: no order yet
    assert applying.apply_run(node, commands[len(setup):], len(setup) + 1) is None
    assert not node.orders._deferred  # settled before the deposit, then ended
    node.orders.settle()
    assert _contents(node) == _contents(fed)
    assert sum(len(orders) for orders in fed.orders.by_profile.values()) > 20


def test_no_deferral_once_the_engine_or_the_view_holds_an_order() -> None:
    """``defer`` refuses a view or an engine with orders (a snapshot restored: the view's
    orders are not the engine's record's projection there), and a read settles."""
    rng = random.Random(7)
    accepted = _accepted(_stamped(concretize(random_stream(rng, 300))))[1]
    node = _replayed(accepted, len(accepted))
    assert len(node.engine._live) > 0
    assert not node.orders.defer()
    deferred = Node()
    assert deferred.orders.defer()
    assert applying.apply_run(deferred, accepted, 1) is None
    profile = next(iter(node.orders.by_profile))
    assert list(deferred.orders.for_profile(profile)) == list(node.orders.for_profile(profile))
    assert not deferred.orders._deferred  # the read settled it
    assert _contents(deferred) == _contents(node)
