"""An open order keeps its price level (``Order._level``; compiled, a pointer without a
reference) so that its cancel does not look the level up by price.

The proof that the pointer never dangles is in ``docs/performance.md`` (the fifteenth core
pass): an order keeps the level it joined (``Book.add``, the engine's inline place), a modify
that moves it drops it (``book.leaves``) until it joins another, and an open order's level
is in its dict while its count (which counts the order) is above 0. These tests drive the
moves that make, empty, remake and leave levels, with ``check_invariants`` after each command
(every resting order keeps the level it is queued at: ``book.level_is``), and cancel orders
whose level was emptied and made again at the same price, which a stale pointer would miss.
"""

from __future__ import annotations

import pickle
import random

from sandex.core import book as book_module
from sandex.core.book import keeps_level, level_is
from sandex.core.commands import ModifyOrder
from sandex.core.invariants import check_invariants
from sandex.core.records import keeps_product, product_is
from tests.support.venue_kit import px, rejected, two_traders

# uncompiled, an order keeps no level (``book.rests_at``): its cancel finds it by price
KEEPS = not book_module.__file__.endswith(".py")


def test_a_level_emptied_and_made_again_is_the_one_a_cancel_finds() -> None:
    v = two_traders()
    first = v.buy("alice", "100.00", "1")[0]
    v.cancel("alice", first)  # the level is emptied and freed
    assert px("100.00") not in v.engine.products["BTC-USD"].book.bids
    again = [v.buy("alice", "100.00", "1")[0] for _ in range(3)]  # a new level, same price
    level = v.engine.products["BTC-USD"].book.bids[px("100.00")]
    assert all(level_is(v.engine.orders[oid], level) is KEEPS for oid in again)
    for oid in again:
        assert rejected(v.cancel("alice", oid)) is None
    assert px("100.00") not in v.engine.products["BTC-USD"].book.bids


def test_a_modified_order_keeps_its_new_level() -> None:
    v = two_traders()
    moved = v.buy("alice", "100.00", "1")[0]
    stays = v.buy("alice", "100.00", "1")[0]
    v.apply(ModifyOrder(time=v.stamp(), profile_id="alice", order_id=moved,
                        price=px("101.00"), size=px("1")))
    book = v.engine.products["BTC-USD"].book
    assert level_is(v.engine.orders[moved], book.bids[px("101.00")]) is KEEPS
    v.cancel("alice", stays)  # the old level emptied
    assert px("100.00") not in book.bids
    assert rejected(v.cancel("alice", moved)) is None
    assert not book.bids


def test_random_places_modifies_fills_and_cancels_keep_every_level() -> None:
    rnd = random.Random(5)
    v = two_traders()
    live: list[str] = []
    for _ in range(600):
        roll = rnd.random()
        side = rnd.choice(("buy", "sell"))
        price = f"{rnd.randint(95, 105)}.00"
        who = rnd.choice(("alice", "bob"))
        if roll < 0.45 or not live:
            oid, events = (v.buy if side == "buy" else v.sell)(who, price,
                                                               str(rnd.randint(1, 3)))
            if rejected(events) is None:
                live.append(oid)
        elif roll < 0.65:
            oid = live.pop(rnd.randrange(len(live)))
            order = v.engine.orders.get(oid)
            if order is not None:
                v.cancel(order.profile_id, oid)
        else:
            oid = rnd.choice(live)
            order = v.engine.orders.get(oid)
            if order is not None:
                v.apply(ModifyOrder(time=v.stamp(), profile_id=order.profile_id, order_id=oid,
                                    price=px(price), size=px(str(rnd.randint(1, 3)))))
    check_invariants(v.engine)


def test_an_unpickled_engine_cancels_by_price() -> None:
    """A pickled order keeps no level (not a field): its cancel looks the level up."""
    v = two_traders()
    oid = v.buy("alice", "100.00", "1")[0]
    v.buy("alice", "100.00", "2")
    v.engine = pickle.loads(pickle.dumps(v.engine))
    assert not keeps_level(v.engine.orders[oid])
    assert rejected(v.cancel("alice", oid)) is None
    level = v.engine.products["BTC-USD"].book.bids[px("100.00")]
    assert level.count == 1 and level.size == px("2")


def test_a_cancel_reaches_the_product_its_order_keeps() -> None:
    """Compiled, an order placed on the inline path keeps its product (``Order._product``, a
    pointer without a reference: a product is never removed or replaced while its engine
    lives); one placed otherwise, or unpickled, keeps none and its cancel looks it up."""
    v = two_traders()
    kept = v.buy("alice", "100.00", "1")[0]
    order = v.engine.orders[kept]
    assert keeps_product(order) is KEEPS
    assert product_is(order, v.engine.products["BTC-USD"]) is KEEPS
    assert rejected(v.cancel("alice", kept)) is None
    post = v.buy("alice", "100.00", "1", time_in_force="GTT", cancel_after="hour")[0]  # checked
    assert not keeps_product(v.engine.orders[post])
    assert rejected(v.cancel("alice", post)) is None
    again = v.buy("alice", "100.00", "1")[0]
    v.engine = pickle.loads(pickle.dumps(v.engine))
    assert not keeps_product(v.engine.orders[again])
    assert rejected(v.cancel("alice", again)) is None
