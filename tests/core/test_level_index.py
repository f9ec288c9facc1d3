"""A side's levels by price: compiled, a C index (``book.Index``) beside the side's dict finds
the level the hot paths look up by price (the place's, the cancel's by price, the heap's).

The index and the dict must never disagree: every place that makes a level (``open_level``)
or drops one (``forget``: ``remove``, ``drop_level``, the engine's inline cancel, a modify)
changes both, and a book back from its pickle rebuilds the index from its dicts. The proof is
in ``docs/performance.md`` (the sixteenth core pass); ``check_invariants`` asserts it
(``Book.index_agrees`` and ``find`` of every level) after every command of the property, twin
and differential tests. Uncompiled there is no index (``find`` reads the dict).
"""

from __future__ import annotations

import pickle
import random

from sandex.core.book import Book
from sandex.core.commands import ModifyOrder
from sandex.core.limits import unit_max
from sandex.core.model import Side
from tests.support.venue_kit import px, rejected, two_traders

TICK = 10**6  # a cent in 1e-8 units: every price's low 6 bits are 0, the dict's bad case


def _agree(book: Book) -> None:
    assert book.index_agrees()
    for side, levels in ((Side.BUY, book.bids), (Side.SELL, book.asks)):
        for price, level in levels.items():
            assert book.find(side is Side.BUY, price) is level


def test_the_index_follows_levels_made_and_dropped() -> None:
    rng = random.Random(16)
    book = Book()
    made: dict[tuple[bool, int], bool] = {}
    for step in range(6_000):  # grows past 2**4 slots several times; drops in long runs
        buy = rng.random() < 0.5
        side = Side.BUY if buy else Side.SELL
        price = rng.randrange(1, 3_000) * TICK
        if (buy, price) in made:
            book.drop_level(side, price)
            del made[(buy, price)]
            assert book.find(buy, price) is None
        else:
            level = book.open_level(side, price)
            made[(buy, price)] = True
            assert book.find(buy, price) is level
        if step % 97 == 0:
            _agree(book)
    _agree(book)
    for buy, price in list(made):
        book.drop_level(Side.BUY if buy else Side.SELL, price)
    assert book.bids == {} and book.asks == {}
    _agree(book)
    assert book.find(True, TICK) is None and book.find(False, TICK) is None


def test_the_index_holds_the_extreme_prices() -> None:
    book = Book()
    prices = [1, TICK, unit_max, unit_max - 1, 1 << 62, (1 << 63) - 1]
    for price in prices:
        book.open_level(Side.BUY, price)
        book.open_level(Side.SELL, price)
    _agree(book)
    for price in prices[::2]:
        book.drop_level(Side.SELL, price)
    _agree(book)
    assert all(book.find(False, p) is None for p in prices[::2])
    assert all(book.find(True, p) is not None for p in prices)


def test_a_pickled_book_finds_its_levels() -> None:
    book = Book()
    for i in range(1, 200):
        book.open_level(Side.BUY, i * TICK)
        book.open_level(Side.SELL, (1_000 + i) * TICK)
    back = pickle.loads(pickle.dumps(book))
    _agree(back)
    assert sorted(back.bids) == sorted(book.bids) and back._ask_heap == book._ask_heap
    back.drop_level(Side.BUY, 5 * TICK)
    _agree(back)
    assert back.find(True, 5 * TICK) is None and book.find(True, 5 * TICK) is not None


def test_places_fills_modifies_and_cancels_keep_the_index() -> None:
    rng = random.Random(6)
    v = two_traders()  # check_invariants after every command: the index agrees
    live: list[tuple[str, str]] = []
    for _ in range(800):
        who = rng.choice(("alice", "bob"))
        roll = rng.random()
        if roll < 0.55 or not live:
            buy = rng.random() < 0.5
            price = f"{rng.randrange(9_950, 10_050) / 100:.2f}"
            oid, events = (v.buy if buy else v.sell)(who, price, str(rng.randrange(1, 4)))
            if rejected(events) is None:
                live.append((who, oid))
        elif roll < 0.8:
            owner, oid = live.pop(rng.randrange(len(live)))
            v.cancel(owner, oid)
        else:
            owner, oid = rng.choice(live)
            v.apply(ModifyOrder(time=v.stamp(), profile_id=owner, order_id=oid,
                                price=px(f"{rng.randrange(9_950, 10_050) / 100:.2f}"),
                                size=px(str(rng.randrange(1, 4)))))
    book = v.engine.products["BTC-USD"].book
    _agree(book)
    back = pickle.loads(pickle.dumps(v.engine))
    _agree(back.products["BTC-USD"].book)
    for owner, oid in live:
        rejected(v.cancel(owner, oid))
    _agree(book)
