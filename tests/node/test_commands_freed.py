"""Compiled, ``sandex.node.applying`` has ``PlaceOrder`` and ``CancelOrder`` freed by one pass
over their slots (``slots.free_fast``, as the core's hot events are): a replay decodes and
frees a million of them. A slip there (a slot missed, or released twice) would fail no other
test loudly, so instances made every way (constructed, decoded, copied) must give back each
field's reference and the type's when freed, and a subclass keeps msgspec's dealloc."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import msgspec
import pytest

from sandex import native
from sandex.core import AdvanceClock, CancelOrder, PlaceOrder, Received, Side
from sandex.core.model import OrderType
from sandex.node import applying
from tests.support.refcounts_kit import assert_references_given_back, fresh


def _cases() -> list[tuple[type, dict[str, Any]]]:
    s = [f"s{i}-{id(object())}" for i in range(6)]  # made at run time: not interned
    return [
        (PlaceOrder, {"time": fresh(1), "order_id": s[0], "profile_id": s[1],
                      "product_id": s[2], "side": Side.BUY, "price": fresh(2),
                      "size": fresh(3), "client_oid": s[3], "expire_time": fresh(5)}),
        (PlaceOrder, {"time": fresh(1), "order_id": s[0], "profile_id": s[1],
                      "product_id": s[2], "side": Side.SELL, "type": OrderType.MARKET,
                      "funds": fresh(4)}),
        (CancelOrder, {"time": fresh(1), "profile_id": s[4], "order_id": s[5]}),
        (CancelOrder, {"time": fresh(1), "profile_id": s[4], "client_oid": s[5],
                       "product_id": s[2]}),
    ]


def test_commands_made_any_way_give_back_every_reference_when_freed() -> None:
    encoder = msgspec.json.Encoder()
    for kind, fields in _cases():
        wire = encoder.encode(kind(**fields))
        msgspec.json.decode(wire, type=kind)  # msgspec's decoding cache made (it holds kind)

        def make(kind: type = kind, fields: dict[str, Any] = fields,
                 wire: bytes = wire) -> tuple[list[Any], int]:
            made = [kind(**fields) for _ in range(100)]
            made += [msgspec.structs.replace(made[0]) for _ in range(100)]
            decoded = [msgspec.json.decode(wire, type=kind) for _ in range(100)]
            assert all(command == made[0] for command in decoded)
            return made + decoded, 200  # the decoded ones hold values of their own

        assert_references_given_back(kind, fields.values(), make)


def test_a_subclass_keeps_msgspecs_dealloc() -> None:
    class More(PlaceOrder, frozen=True, gc=False, kw_only=True):
        extra: Any = None

    extra = fresh(99)
    before = sys.getrefcount(extra)
    made = [More(**_cases()[0][1], extra=extra) for _ in range(100)]
    assert sys.getrefcount(extra) == before + 100
    del made
    assert sys.getrefcount(extra) == before


def test_the_two_commands_are_freed_by_slots_when_compiled() -> None:
    if not native.compiled():
        assert applying.COMMANDS_FREED_BY_SLOTS is False
        pytest.skip(f"the compiled core is not built ({native.WHY_PURE})")
    assert applying.COMMANDS_FREED_BY_SLOTS is True

    def dealloc(kind: type) -> int | None:  # after a type's object header, tp_name, 2 sizes
        word = ctypes.sizeof(ctypes.c_void_p)
        return ctypes.c_void_p.from_address(id(kind) + 6 * word).value

    # one pass over the slots (``slots.free_fast``: its copy in ``applying``, not ``free_keep``
    # ``emit`` gave the core's events); other commands keep msgspec's own
    msgspecs = dealloc(AdvanceClock)
    assert dealloc(PlaceOrder) == dealloc(CancelOrder) != msgspecs
    assert dealloc(Received) != msgspecs
