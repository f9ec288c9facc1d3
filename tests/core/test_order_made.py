"""The fast place's ``Order``, made with its fields directly (compiled: ``records.blank_order``
and ``made.pxd``, no ``None`` written by ``tp_new`` and dropped again): every field is what
``new_order`` writes for the same order, in both builds; and each field's reference is
balanced (an id's, a client id's and ``None``'s counts are back where they were once the
engine is gone)."""

from __future__ import annotations

import gc
import sys

from sandex.core.enums import Status, TimeInForce
from sandex.core.records import ORDER_FIELDS, new_order, order_fields
from tests.support.venue_kit import two_traders


def _as_new_order(order: object) -> dict[str, object]:
    """``order_fields`` of ``new_order(...)`` with ``order``'s own values: the fields
    ``new_order`` leaves to its defaults must be those defaults."""
    o = order  # read as attributes: both builds
    made = new_order(
        o.id, o.number, o.profile_id, o.product_id, o.side, o.type,  # type: ignore[attr-defined]
        o.created_at, o.price, o.size, o.remaining, None, None, None,  # type: ignore[attr-defined]
        o.time_in_force, None, o.post_only, o.stp, None, None,  # type: ignore[attr-defined]
        o.client_oid, o.maker_rate, o.taker_rate, o.hold_rate,  # type: ignore[attr-defined]
        o.hold_account, o.recv_account, o.hold, o.status)  # type: ignore[attr-defined]
    return order_fields(made)


def test_a_fast_place_order_is_new_orders() -> None:
    v = two_traders()
    rest_id, _ = v.buy("alice", "100.00", "1.5", client_oid="c-rest")
    ioc_id, _ = v.sell("bob", "200.00", "2", time_in_force="IOC")  # rests nothing: canceled
    take_id, _ = v.sell("bob", "100.00", "0.5")  # takes half of the rest
    order = v.engine._live[rest_id]
    fields = order_fields(order)
    assert set(fields) == set(ORDER_FIELDS)
    assert fields["status"] is Status.OPEN and fields["time_in_force"] is TimeInForce.GTC
    for name in ("funds", "specified_funds", "funds_remaining", "expire_time", "stop",
                 "stop_price", "done_at", "done_reason", "cancel_reason"):
        assert fields[name] is None, name
    expected = _as_new_order(order)
    for name in ("filled_size", "executed_value", "fill_fees", "status", "remaining", "hold"):
        expected.pop(name)  # it traded since: these moved
        fields.pop(name)
    assert fields == expected
    assert order.filled_size == 50_000_000
    # a fresh order, nothing traded: every field new_order's
    fresh_id, _ = v.sell("bob", "300.00", "1")
    fresh = v.engine._live[fresh_id]
    assert order_fields(fresh) == _as_new_order(fresh)
    assert fresh._tally is v.engine.profiles["bob"]._tallies["BTC-USD"]
    assert ioc_id not in v.engine._live  # canceled untraded: purged
    assert take_id in v.engine._live  # filled, on record (archived)


def _round(client_oid: str, order_id: str) -> None:
    v = two_traders()
    for i in range(200):
        v.buy("alice", "100.00", "1", client_oid=client_oid if i == 0 else None,
              order_id=order_id if i == 0 else None)
        v.sell("bob", "101.00", "1")
    v.cancel("alice", order_id)


def test_a_fast_place_orders_references_balance() -> None:
    client_oid = "".join(["c-", "balance"])  # its own objects
    order_id = "".join(["o-", "balance"])
    _round(client_oid, order_id)  # the interpreter's caches warmed
    gc.collect()  # the earlier tests' garbage (holding None) freed first
    before = sys.getrefcount(client_oid), sys.getrefcount(order_id)
    none_before = sys.getrefcount(None)
    _round(client_oid, order_id)
    gc.collect()
    assert (sys.getrefcount(client_oid), sys.getrefcount(order_id)) == before
    # None's count: within what the interpreter's own caches move (an order holds nine, and
    # 400 orders were made and freed: a reference taken or dropped once too often moves it by
    # 400 or more)
    assert abs(sys.getrefcount(None) - none_before) < 400
