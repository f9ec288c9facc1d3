"""Uncompiled meaning of ``peek.pxd``: ``Book.best_bid``/``best_ask``, ``Book.find``, ``owner``.

Compiled, ``engine``, ``matching`` and ``lifecycle`` read a book's cached best level, a
tally's profile and (the engine) a level by its price inline (``peek.pxd``'s ``cdef
inline`` bodies: the common case in the caller's own code, the call for the rest);
uncompiled these are the calls themselves (``tests/core/test_peek.py`` pins the two to the
same results).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandex.core.records import owner

if TYPE_CHECKING:
    from sandex.core.book import Book, Level
    from sandex.core.records import Profile, Tally

__all__ = ["best_ask_of", "best_bid_of", "level_at", "owner_of"]


def best_bid_of(book: Book) -> int | None:
    """``book.best_bid()``."""
    return book.best_bid()


def best_ask_of(book: Book) -> int | None:
    """``book.best_ask()``."""
    return book.best_ask()


def owner_of(tally: Tally) -> Profile:
    """``owner(tally)``."""
    return owner(tally)


def level_at(book: Book, buy: bool, price: int) -> Level | None:
    """``book.find(buy, price)``."""
    return book.find(buy, price)
