"""``peek.pxd``'s inline reads and their uncompiled twins (``peek.py``) give the same results:
a book's best bid and ask (its cached best level's price while the level holds an order,
else ``Book.best_bid``/``best_ask``'s walk of the heap), a level by its price
(``Book.find``) and a tally's profile (``owner``, which raises once the profile is freed).
The inline bodies are ``cdef``: a probe module that cimports them is compiled here
(compiled core and a C compiler only) and called on the same books and tallies as the
twins, in random and edge states."""

from __future__ import annotations

import gc
import random
from types import ModuleType
from typing import Any

import pytest

from sandex.core import book as book_module
from sandex.core import peek
from sandex.core.book import Book
from sandex.core.records import Profile, Tally, owner
from tests.support.probe_kit import compile_probe
from tests.support.venue_kit import two_traders

COMPILED = book_module.__file__ is not None and book_module.__file__.endswith((".so", ".pyd"))

PROBE = """\
# cython: language_level=3
from sandex.core.book cimport Book
from sandex.core.records cimport Tally
from sandex.core.peek cimport best_ask_of, best_bid_of, level_at, owner_of


def bid(Book book):
    return best_bid_of(book)


def ask(Book book):
    return best_ask_of(book)


def who(Tally tally):
    return owner_of(tally)


def at(Book book, bint buy, long long price):
    return level_at(book, buy, price)
"""


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> ModuleType | None:
    """The compiled probe of ``peek.pxd``'s bodies, or ``None`` uncompiled (twins only)."""
    if not COMPILED:
        return None
    return compile_probe(tmp_path_factory, "sandex_peek_probe", PROBE)


def _state(book: Book) -> tuple[Any, ...]:
    """What a read may change: the cached best levels and the heaps (by identity)."""
    return (book._best_bid, book._best_ask, list(book._bid_heap), list(book._ask_heap))


def _same_reads(inline: ModuleType | None, book: Book) -> None:
    """Each read of ``book`` by the inline body and by the twin: the same price and the
    same state after it, as ``Book.best_bid``/``best_ask`` themselves give."""
    bid, ask = max(book.bids, default=None), min(book.asks, default=None)
    for read, twin, method, expected in (("bid", peek.best_bid_of, Book.best_bid, bid),
                                         ("ask", peek.best_ask_of, Book.best_ask, ask)):
        before = _state(book)
        if inline is not None:
            got = getattr(inline, read)(book)
            after_inline = _state(book)
        assert twin(book) == expected
        after_twin = _state(book)
        assert method(book) == expected
        if inline is not None:
            assert got == expected
            # the inline body changes what the call would (its fast case: nothing)
            assert [a is b for a, b in zip(after_inline[:2], after_twin[:2], strict=True)] \
                == [True, True]
            assert after_inline[2:] == after_twin[2:]
        assert len(_state(book)[2]) <= len(before[2]) and len(_state(book)[3]) <= len(before[3])
    # each side's levels, and prices beside them that name none
    for buy, levels in ((True, book.bids), (False, book.asks)):
        for price in {*levels, *(p + d for p in levels for d in (-1, 1)), 1, 2**40}:
            level = levels.get(price)
            assert peek.level_at(book, buy, price) is level
            assert book.find(buy, price) is level
            if inline is not None:
                assert inline.at(book, buy, price) is level


def test_an_empty_book(inline: ModuleType | None) -> None:
    v = two_traders()
    book = v.engine.products["BTC-USD"].book
    assert book._best_bid is None and book._best_ask is None
    _same_reads(inline, book)


def test_a_best_level_emptied_by_its_cancel(inline: ModuleType | None) -> None:
    """The cached best level with no order left (its count 0): the call walks the heap to
    the next level, and to ``None`` past the last."""
    v = two_traders()
    book = v.engine.products["BTC-USD"].book
    low, _ = v.buy("alice", "100", "1")
    high, _ = v.buy("alice", "101", "1")
    ask_low, _ = v.sell("bob", "110", "1")
    ask_high, _ = v.sell("bob", "111", "1")
    _same_reads(inline, book)
    for profile_id, order_id in (("alice", high), ("bob", ask_low), ("alice", low),
                                 ("bob", ask_high)):
        v.cancel(profile_id, order_id)
        _same_reads(inline, book)
    assert book._best_bid is None and book._best_ask is None


def test_a_stale_cached_level_is_not_read(inline: ModuleType | None) -> None:
    """A cached best level whose count is 0 (set by hand) is not read: the call decides
    (its heap walk finds the level in its side's dict)."""
    v = two_traders()
    book = v.engine.products["BTC-USD"].book
    v.buy("alice", "100", "1")
    v.sell("bob", "110", "1")
    for side in ("_best_bid", "_best_ask"):
        level = getattr(book, side)
        level.count = 0
        _same_reads(inline, book)
        level.count = 1
    _same_reads(inline, book)


@pytest.mark.parametrize("seed", range(6))
def test_random_books(inline: ModuleType | None, seed: int) -> None:
    """Places, crosses and cancels at random prices: after each, the same reads."""
    rng = random.Random(seed)
    v = two_traders()
    book = v.engine.products["BTC-USD"].book
    live: list[tuple[str, str]] = []
    for _ in range(160):
        roll = rng.random()
        if roll < 0.3 and live:
            profile_id, order_id = live.pop(rng.randrange(len(live)))
            v.cancel(profile_id, order_id)
        else:
            profile_id = rng.choice(("alice", "bob"))
            price = str(rng.randint(95, 105))
            size = str(rng.randint(1, 3))
            order_id, _ = (v.buy if roll < 0.65 else v.sell)(profile_id, price, size)
            live.append((profile_id, order_id))
        _same_reads(inline, book)


def test_owner_of_a_live_tally(inline: ModuleType | None) -> None:
    v = two_traders()
    v.buy("alice", "100", "1")
    v.sell("bob", "110", "1")
    for profile_id in ("alice", "bob"):
        profile = v.engine.profiles[profile_id]
        tally = profile._tallies["BTC-USD"]
        assert peek.owner_of(tally) is profile is owner(tally)
        if inline is not None:
            assert inline.who(tally) is profile


def test_owner_of_a_freed_profile_raises(inline: ModuleType | None) -> None:
    """Compiled, a tally outliving its profile has no owner: the inline body raises as
    ``owner`` does (uncompiled the tally holds its profile: nothing is freed)."""
    profile = Profile("p", "u", "name", 0, 0, 0)
    tally = Tally(profile)
    profile._tallies["BTC-USD"] = tally  # as an accepted order's: cleared when it is freed
    del profile
    gc.collect()
    if not COMPILED:
        assert peek.owner_of(tally).id == "p"
        return
    with pytest.raises(ReferenceError):
        owner(tally)
    with pytest.raises(ReferenceError):
        peek.owner_of(tally)
    assert inline is not None
    with pytest.raises(ReferenceError):
        inline.who(tally)
