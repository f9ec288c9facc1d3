"""An owner's cancel of an open order (``Engine._cancel_resting``: ``records.unlink`` and
``lifecycle.retire`` inline in their common cases) against ``lifecycle.cancel``, the general
move, on a twin venue: the same events and the same state after every cancel (the profile's
live list with its ``None`` places, compaction and dropped tail, each order's place, the
orders on record, the archive, the client-oid index), for unfilled orders (purged), partly
filled ones (archived) and orders with client ids; and a filled maker's close
(``matching._close_filled``, the same two inline) against ``lifecycle.close``.
"""

from __future__ import annotations

import random
import uuid

import pytest

from sandex.core import matching
from sandex.core.events import Event
from sandex.core.invariants import check_invariants
from sandex.core.lifecycle import cancel, close
from sandex.core.model import DoneReason
from sandex.core.records import Profile
from tests.support.venue_kit import Venue


def _venue() -> Venue:
    v = Venue()
    v.product("BTC-USD")
    v.profile("alice", usd="100000000", btc="100000")
    v.profile("bob", usd="100000000", btc="100000")
    return v


def _shape(profile: Profile) -> tuple[list[str | None], int, list[int]]:
    orders = profile._orders
    return ([None if o is None else o.id for o in orders], profile._dead,
            [-1 if o is None else o._live_at for o in orders])


def _state(v: Venue) -> tuple[object, ...]:
    engine = v.engine
    alice = engine.profiles["alice"]
    return (_shape(alice), sorted(engine._live), [o.id for o in engine._archive],
            sorted(alice.by_client_oid), [(o.id, o.done_reason, o.done_at, o.hold)
                                          for o in engine._archive])


@pytest.mark.parametrize("seed", range(6))
def test_the_inline_cancel_is_lifecycle_cancel(seed: int) -> None:
    rng = random.Random(seed)
    a, b = _venue(), _venue()
    placed: list[str] = []
    for i in range(120):
        side = "buy" if rng.random() < 0.5 else "sell"
        price = f"{(100 + rng.randrange(20)) if side == 'buy' else (130 + rng.randrange(20))}.00"
        kw = {"client_oid": str(uuid.UUID(int=rng.getrandbits(128)))} if i % 3 == 0 else {}
        for v in (a, b):
            oid, _ = v.order("alice", side, price, "2", order_id=f"o{i}", **kw)
        placed.append(oid)
    # bob fills some of alice's best orders in part: those are archived when canceled
    for v in (a, b):
        v.sell("bob", "119.00", "3", order_id="bs")
        v.buy("bob", "130.00", "3", order_id="bb")
    assert _state(a) == _state(b)
    live = [oid for oid in placed if a.engine._live[oid].status.value == "open"]
    rng.shuffle(live)
    if seed % 2:  # the newest first: the dropped tail
        live.sort(key=lambda oid: -int(oid[1:]))
    for oid in live:
        events_a = a.cancel("alice", oid)
        engine = b.engine
        order = engine._live[oid]
        events_b: list[Event] = []
        engine._events = events_b
        cancel(engine, order, engine.products["BTC-USD"], None, b.stamp())
        assert events_a == events_b
        assert _state(a) == _state(b)
        check_invariants(a.engine)
    assert a.engine.profiles["alice"]._orders == []
    canceled = [o for o in a.engine._archive if o.done_reason is DoneReason.CANCELED]
    assert canceled and all(o.filled_size for o in canceled)  # the archive's branch ran


@pytest.mark.skipif(matching.__file__.endswith((".so", ".pyd")),
                    reason="replaces a module function: uncompiled only (the twin test "
                           "compares the compiled core's events with these)")
@pytest.mark.parametrize("seed", range(4))
def test_a_filled_makers_inline_close_is_lifecycle_close(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``matching._close_filled`` against ``lifecycle.close(..., FILLED, None, t)``: the same
    events and state over a stream of crossing orders that fill makers whole."""
    rng = random.Random(seed)
    a, b = _venue(), _venue()
    with monkeypatch.context() as m:
        m.setattr(matching, "_close_filled", lambda state, maker, product, t: close(
            state, maker, product, DoneReason.FILLED, None, t))
        for i in range(400):
            who = "alice" if rng.random() < 0.6 else "bob"
            side = "buy" if rng.random() < 0.5 else "sell"
            price = f"{100 + rng.randrange(10)}.00"
            size = str(1 + rng.randrange(3))
            kw = {"client_oid": str(uuid.UUID(int=rng.getrandbits(128)))} if i % 4 == 0 else {}
            events_b = b.order(who, side, price, size, order_id=f"o{i}", **kw)[1]
            m.undo()
            events_a = a.order(who, side, price, size, order_id=f"o{i}", **kw)[1]
            m.setattr(matching, "_close_filled", lambda state, maker, product, t: close(
                state, maker, product, DoneReason.FILLED, None, t))
            assert events_a == events_b
            assert _state(a) == _state(b)
            assert _shape(a.engine.profiles["bob"]) == _shape(b.engine.profiles["bob"])
    assert any(o.done_reason is DoneReason.FILLED for o in a.engine._archive)


@pytest.mark.parametrize("size", ["0.0256", "2", "10.73741823", "10.73741824", "1000"])
def test_an_inline_cancels_size_left_is_the_orders_size_or_what_is_left(size: str) -> None:
    """An owner's cancel writes the order's size left in its ``done``: compiled, the size's
    own int when nothing has traded (no new int), else the number left; the same values
    either way (one and two 30-bit digits, on both sides of 2**30)."""
    v = _venue()
    oid, events = v.buy("alice", "100.00", size, order_id="whole")
    assert [type(e).__name__ for e in events] == ["Received", "Opened"]
    order = v.engine._live[oid]
    placed = order.size
    assert placed is not None
    (done,) = v.cancel("alice", oid)
    assert type(done).__name__ == "Done"
    assert type(done.remaining_size) is int and done.remaining_size == placed
    if matching.__file__.endswith((".so", ".pyd")):
        assert done.remaining_size is placed
    # partly filled: the size left is its own number, and the order is archived
    oid, _ = v.buy("alice", "100.00", "3", order_id="part")
    v.sell("bob", "100.00", "1", order_id="taker")
    (done,) = v.cancel("alice", oid)
    assert type(done.remaining_size) is int and done.remaining_size == 2 * 10**8
    assert v.engine._live[oid].filled_size == 10**8
