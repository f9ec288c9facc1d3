"""A level's queue appended to and popped through the deque's C functions (``fifo.pxd``).

Compiled, ``book``, ``engine`` and ``matching`` bind ``deque.append``/``deque.popleft`` at
import and call the C functions they wrap; the orders must queue and leave in the same
order as through the methods, and a queue that is not exactly a deque still works (the
methods by name).
"""

from __future__ import annotations

from collections import deque

import pytest

from sandex.core import book as book_module
from sandex.core import fifo
from tests.support.venue_kit import px, two_traders

COMPILED = not book_module.__file__.endswith(".py")


def test_orders_queue_and_fill_in_arrival_order() -> None:
    v = two_traders()
    ids = [v.sell("alice", "100.00", "1")[0] for _ in range(4)]  # the inline place
    level = v.engine.products["BTC-USD"].book.asks[px("100.00")]
    assert type(level.orders) is deque
    assert [o.id for o in level.orders] == ids
    events = v.buy("bob", "100.00", "3")[1]
    makers = [e.maker_order_id for e in events if type(e).__name__ == "Matched"]
    assert makers == ids[:3]  # popped from the left, in time priority
    assert [o.id for o in level.live()] == ids[3:]


def test_a_queue_that_is_not_a_deque_uses_the_methods() -> None:
    calls: list[str] = []

    class Queue(deque):  # type: ignore[type-arg]
        def append(self, item: object) -> None:
            calls.append("append")
            super().append(item)

        def popleft(self) -> object:
            calls.append("popleft")
            return super().popleft()

    v = two_traders()
    first = v.sell("alice", "100.00", "1")[0]
    level = v.engine.products["BTC-USD"].book.asks[px("100.00")]
    level.orders = Queue(level.orders)
    second = v.sell("alice", "100.00", "1")[0]
    assert [o.id for o in level.orders] == [first, second]
    v.buy("bob", "100.00", "1")
    # compiled, by name (the override); uncompiled, ``deque.append`` itself, as before
    assert calls == (["append", "popleft"] if COMPILED else [])
    assert [o.id for o in level.live()] == [second]


def test_push_and_pop_are_the_deque_methods() -> None:
    q: deque[int] = deque()
    fifo.push(q, 1)
    fifo.push(q, 2)
    assert fifo.pop(q) == 1 and list(q) == [2]
    with pytest.raises(IndexError):
        fifo.pop(deque())


def test_a_new_level_has_an_empty_unbounded_deque() -> None:
    v = two_traders()
    oid = v.buy("alice", "99.00", "1")[0]
    level = v.engine.products["BTC-USD"].book.bids[px("99.00")]
    assert type(level.orders) is deque and level.orders.maxlen is None
    assert [o.id for o in level.orders] == [oid]
    level.orders.appendleft(level.orders.pop())  # an ordinary deque: every method works
    assert len(level.orders) == 1
