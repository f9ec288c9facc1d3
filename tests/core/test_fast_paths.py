"""The engine's inline fast paths give exactly what its general paths give.

``_place`` places a plain GTC limit order in one frame instead of going through
``_place_checked``; ``_cancel_order`` cancels an open order through ``_cancel_resting``
instead of ``lifecycle.cancel``. Here the same order flow runs both ways on twin engines,
and the events and the whole state must be identical after every command.
"""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandex.core import CancelOrder, Engine, Order, PlaceOrder, Side, check_invariants, state_hash
from sandex.core.lifecycle import cancel
from venue_kit import Venue

PROFILES = ("alice", "bob", "carol")

orders = st.lists(
    st.tuples(st.sampled_from(PROFILES), st.sampled_from([Side.BUY, Side.SELL]),
              st.integers(95, 105), st.integers(1, 5), st.booleans(), st.booleans()),
    min_size=1, max_size=40)


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    for name in PROFILES:
        v.profile(name, usd="100000", btc="100")
    return v


def place_command(v: Venue, spec: tuple[str, Side, int, int, bool, bool]) -> PlaceOrder:
    profile, side, price, lots, with_oid, post_only = spec
    order_id = v.next_id()
    return PlaceOrder(time=v.stamp(), order_id=order_id, profile_id=profile,
                      product_id="BTC-USD", side=side, price=price * 10**8,
                      size=lots * 10**7, post_only=post_only,
                      client_oid=f"c-{order_id}" if with_oid else None)


def state(engine: Engine) -> tuple[Any, ...]:
    """Everything the engine holds, as plain values (accounts by owner and currency)."""
    def plain(order: Order) -> tuple[Any, ...]:
        return tuple((a.profile_id, a.currency) if name in ("hold_account", "recv_account")
                     else a for name, a in ((n, getattr(order, n))
                                            for n in Order.__struct_fields__))

    return (state_hash(engine), engine._order_number, engine._entry_id,
            sorted(plain(o) for o in engine.orders.values()),
            sorted((p.id, oid, o.id) for p in engine.profiles.values()
                   for oid, o in p.by_client_oid.items()),
            sorted((p.id, k, n) for p in engine.profiles.values() for k, n in p.open_count.items()),
            [(p.id, list(p.live)) for p in engine.profiles.values()])


def general(engine: Engine, run: Any) -> list[Any]:
    """Run an engine method the way ``apply`` runs a handler; return its events."""
    events = engine._events = []
    run()
    return events


@settings(max_examples=60, deadline=None)
@given(orders)
def test_placing_a_plain_limit_order_inline_matches_the_general_path(specs: list) -> None:
    v = venue()
    twin = pickle.loads(pickle.dumps(v.engine))
    for spec in specs:
        cmd = place_command(v, spec)
        fast = v.apply(cmd)
        product, profile = twin.products[cmd.product_id], twin.profiles[cmd.profile_id]
        slow = general(twin, lambda: twin._place_checked(cmd, product, profile))  # noqa: B023
        check_invariants(twin)
        assert fast == slow
        assert state(v.engine) == state(twin)


@settings(max_examples=60, deadline=None)
@given(orders, st.randoms(use_true_random=False))
def test_canceling_an_open_order_inline_matches_the_general_path(specs: list, rnd: Any) -> None:
    v = venue()
    for spec in specs:  # some rest, some trade (partly filled makers stay open)
        v.apply(place_command(v, spec))
    twin = pickle.loads(pickle.dumps(v.engine))
    open_orders = [(p.id, oid) for p in v.engine.profiles.values() for oid in p.live]
    rnd.shuffle(open_orders)
    for profile_id, order_id in open_orders:
        cmd = CancelOrder(time=v.stamp(), profile_id=profile_id, order_id=order_id)
        fast = v.apply(cmd)
        order = twin.orders[order_id]
        product = twin.products[order.product_id]
        slow = general(twin, lambda: cancel(twin, order, product, None, cmd.time))  # noqa: B023
        check_invariants(twin)
        assert fast == slow
        assert state(v.engine) == state(twin)
