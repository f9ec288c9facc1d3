"""The hot events built from their slots (``sandex.core.emit``) are the constructed ones.

Compiled, ``new_received``/``new_opened``/``new_done``/``new_matched`` allocate the event
and write its slots directly; a slip there (a field at the wrong offset, an incref too many
or too few) would fail no other test loudly: a leak only grows memory, a missing incref
frees a shared object early. So each builder is compared with its constructor (equal,
the same type, the same bytes in JSON and msgpack, not tracked by the GC, frozen), every
argument's reference count is checked after many builds and after freeing them, and
``tracemalloc`` watches a long place/cancel/trade loop through the engine stay flat.
Uncompiled the builders are the constructors and the same checks hold.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import tracemalloc
from typing import Any

import msgspec
import pytest

from sandex import native
from sandex.core import (
    CancelOrder,
    Changed,
    Deposit,
    Done,
    Engine,
    Matched,
    Opened,
    PlaceOrder,
    Received,
    Side,
    emit,
)
from sandex.core.model import CancelReason, DoneReason, OrderType
from tests.core.streams import T0, setup_commands
from tests.support.refcounts_kit import assert_references_given_back, fresh


def _cases() -> list[tuple[Any, type, tuple[Any, ...]]]:
    s = [f"s{i}-{id(object())}" for i in range(8)]  # strings made at run time: not interned
    return [
        (emit.new_received, Received,
         (fresh(1), s[0], fresh(2), s[1], s[2], Side.BUY, OrderType.LIMIT, fresh(3),
          fresh(4), None, s[3])),
        (emit.new_received, Received,
         (fresh(1), s[0], fresh(2), s[1], s[2], Side.SELL, OrderType.MARKET, None, None,
          fresh(5), None)),
        (emit.new_opened, Opened,
         (fresh(1), s[0], fresh(2), s[1], s[2], Side.SELL, fresh(3), fresh(4))),
        (emit.new_done, Done,
         (fresh(1), s[0], fresh(2), s[1], s[2], Side.BUY, DoneReason.CANCELED, fresh(3),
          fresh(4), CancelReason.SELF_TRADE_PREVENTION)),
        (emit.new_done, Done,
         (fresh(1), s[0], None, s[1], s[2], Side.SELL, DoneReason.FILLED, None, None, None)),
        (emit.new_matched, Matched,
         (fresh(1), s[0], fresh(2), fresh(3), s[1], s[2], s[3], s[4], Side.BUY,
          *(fresh(10 + i) for i in range(11)))),
    ]


def test_each_builder_is_its_constructor() -> None:
    for build, event_type, args in _cases():
        built, made = build(*args), event_type(*args)
        assert type(built) is event_type
        assert built == made
        assert msgspec.json.encode(built) == msgspec.json.encode(made)
        assert msgspec.msgpack.encode(built) == msgspec.msgpack.encode(made)
        assert msgspec.json.decode(msgspec.json.encode(built), type=event_type) == made
        assert not gc.is_tracked(built)
        assert all(getattr(built, name) is value
                   for name, value in zip(event_type.__struct_fields__, args, strict=True))
        with pytest.raises(AttributeError):
            built.time = 0  # type: ignore[misc]


def test_the_builders_take_and_give_back_one_reference_per_field() -> None:
    for build, _, args in _cases():
        mine = [value for value in args if type(value) in (int, str)]
        before = [sys.getrefcount(value) for value in mine]
        events = [build(*args) for _ in range(1000)]
        assert [sys.getrefcount(value) - 1000 for value in mine] == before
        del events
        assert [sys.getrefcount(value) for value in mine] == before


def test_events_made_any_way_give_back_every_reference_when_freed() -> None:
    """Compiled, the four types' instances are freed by one pass over their slots
    (``slots.free_keep``): built, constructed, decoded or copied, each frees its fields and
    gives back its type's reference, as msgspec's own dealloc does."""
    for build, event_type, args in _cases():
        wire = msgspec.msgpack.encode(event_type(*args))
        # msgspec keeps a reference to a type it first decodes into (its type info cache)
        msgspec.msgpack.decode(wire, type=event_type)

        def make(build: Any = build, event_type: type = event_type, args: tuple[Any, ...] = args,
                 wire: bytes = wire) -> tuple[list[Any], int]:
            events = [build(*args) for _ in range(100)] + [event_type(*args) for _ in range(100)]
            events += [msgspec.structs.replace(events[0]) for _ in range(100)]
            decoded = [msgspec.msgpack.decode(wire, type=event_type) for _ in range(100)]
            assert all(event == events[0] for event in decoded)
            return events + decoded, 300  # the decoded ones hold values of their own

        assert_references_given_back(event_type, args, make)


def test_a_subclass_of_a_built_type_is_freed_by_msgspec() -> None:
    """A subclass (more fields, or collected by the GC) is freed by the dealloc msgspec gives
    it, never by its base's pass over the base's slots: nothing it holds leaks."""
    class More(Received, frozen=True, gc=False):
        extra: Any = None

    class Collected(Received, frozen=True):
        extra: Any = None

    for kind in (More, Collected):
        extra = fresh(99)
        before = sys.getrefcount(extra)
        made = [kind(*_cases()[0][2], extra=extra) for _ in range(100)]
        assert sys.getrefcount(extra) == before + 100
        del made
        assert sys.getrefcount(extra) == before


def test_many_built_events_leave_no_memory_behind() -> None:
    cases = _cases()
    for build, _, args in cases:  # warm up the allocator's pools
        [build(*args) for _ in range(1000)]
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            for build, _, args in cases:
                [build(*args) for _ in range(1000)]
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, grown  # 300,000 events of ~100-180 bytes leaked: > 30 MB


def _engine() -> Engine:
    engine = Engine()
    for cmd in setup_commands():
        engine.apply(cmd)
    for profile in ("p0", "p1"):
        for currency in ("BTC", "USD"):
            engine.apply(Deposit(time=T0, profile_id=profile, currency=currency,
                                 amount=10 ** 30, transfer_id=f"big-{profile}-{currency}"))
    return engine


def _round(engine: Engine, i: int) -> int:
    """One place that rests and its cancel, then a maker filled by a taker: ``Received``,
    ``Opened``, ``Done`` (canceled), then a trade's ``Matched`` and two ``Done`` (filled).
    The number of events."""
    t = T0 + i
    events = engine.apply(PlaceOrder(time=t, order_id=f"r{i}", profile_id="p0",
                                     product_id="BTC-USD", side=Side.BUY, type=OrderType.LIMIT,
                                     price=100 * 10 ** 8, size=10 ** 6))
    events += engine.apply(CancelOrder(time=t, profile_id="p0", order_id=f"r{i}"))
    events += engine.apply(PlaceOrder(time=t, order_id=f"m{i}", profile_id="p0",
                                      product_id="BTC-USD", side=Side.SELL,
                                      type=OrderType.LIMIT, price=200 * 10 ** 8, size=10 ** 6))
    events += engine.apply(PlaceOrder(time=t, order_id=f"k{i}", profile_id="p1",
                                      product_id="BTC-USD", side=Side.BUY,
                                      type=OrderType.LIMIT, price=200 * 10 ** 8, size=10 ** 6))
    kinds = [type(event) for event in events]
    assert kinds == [Received, Opened, Done, Received, Opened, Received, Matched, Done, Done], kinds
    return len(events)


def test_the_engine_builds_its_events_without_a_leak() -> None:
    """The events of a long loop freed as it goes: what stays is the engine's own record of
    the filled orders (the archive), the same every round; a leaked event (~100-180 bytes,
    six a round) or a wrongly counted field would show as growth between two windows."""
    engine = _engine()
    for i in range(2000):  # warm up: the allocator's pools, the dicts' sizes
        _round(engine, i)
    tracemalloc.start()
    try:
        first = tracemalloc.get_traced_memory()[0]
        for i in range(2000, 4000):
            _round(engine, i)
        second = tracemalloc.get_traced_memory()[0]
        canceled = sys.getrefcount(DoneReason.CANCELED)  # no order keeps it: only events
        for i in range(4000, 6000):
            _round(engine, i)
        third = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    growth_a, growth_b = second - first, third - second
    # two filled orders archived a round: the same growth each window, within 10 %
    assert abs(growth_b - growth_a) < max(growth_a, 1) // 10 + 64 * 1024, (growth_a, growth_b)
    after = sys.getrefcount(DoneReason.CANCELED)  # not in the assert: pytest's rewrite holds one
    assert after == canceled  # 4,000 more events held it


def test_the_builders_run_compiled_when_the_core_is() -> None:
    if not native.compiled():
        pytest.skip(f"the compiled core is not built ({native.WHY_PURE})")
    assert emit.__file__.endswith((".so", ".pyd"))
    # and the four types are freed by ``slots.free_keep``'s dealloc, the other events by
    # msgspec's (``tp_dealloc``: after a type's object header, ``tp_name``, two sizes)
    def dealloc(event_type: type) -> int | None:
        word = ctypes.sizeof(ctypes.c_void_p)
        return ctypes.c_void_p.from_address(id(event_type) + 6 * word).value

    assert len({dealloc(t) for t in (Received, Opened, Done, Matched)}) == 1
    assert dealloc(Received) != dealloc(Changed)


def test_a_type_not_built_from_its_slots_is_refused() -> None:
    class WithPostInit(msgspec.Struct, frozen=True, gc=False):
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        emit.field_offsets(WithPostInit)
    if not native.compiled():
        return

    class Collected(msgspec.Struct, frozen=True):  # gc=True: tracked, freed by PyObject_GC_Del
        a: int

    with pytest.raises(TypeError, match="not a type built from its slots"):
        emit.field_offsets(Collected)


def test_a_refused_layout_leaves_the_constructors_and_the_banner_says_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A msgspec whose Structs the builders refuse does not stop the venue: the builders call
    the constructors (``_BUILD`` false) and the start-up banner names the reason."""
    from sandex import banner

    assert emit.REFUSED is None  # this msgspec's layout is accepted
    monkeypatch.setattr(emit, "REFUSED", "fields do not fill its instances")
    monkeypatch.setattr(banner.native, "compiled", lambda: True)
    text = banner.banner("127.0.0.1", 8000, None, 0, [], "token")
    assert "  events     built by their constructors: fields do not fill its instances" in text
