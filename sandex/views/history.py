"""Lists of a venue's history that the cyclic garbage collector never walks.

CPython's collector tracks every list, and a full collection visits every element of every
tracked list. The read models keep the venue's history in a few long lists (an account's
pending trades and its ledger, a profile's fills of a product, an order's fills, a product's
trades): with the ~90,000 orders of `bench/fix.py`'s saturation phase behind it, a full
collection spent 13-85 ms visiting them, holding up every connection, and a venue with a
longer history pauses longer (about 1 µs an order). Their elements are immutable records the
collector does not track (msgspec Structs declared ``gc=False``, tuples of those and of
strings), so no reference cycle can pass through such a list: untracked, it is never walked,
and it is freed by its reference count as before.

Compiled only: CPython has no Python-level call to untrack an object, so uncompiled
(``SANDEX_PURE_PYTHON=1`` or no C compiler) the lists are ordinary tracked ones, and only the
pauses differ.
"""

from __future__ import annotations

from typing import TypeVar

import cython

T = TypeVar("T")


def history(items: list[T]) -> list[T]:
    """``items``, a list the garbage collector no longer walks (compiled; ``items`` as it is
    uncompiled). Only for a list whose elements are, and stay, untracked records."""
    if cython.compiled:
        PyObject_GC_UnTrack(items)  # noqa: F821 (history.pxd: from Python.h)
    return items
