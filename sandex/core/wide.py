"""Uncompiled meaning of ``wide.pxd``: the compiled core's 128-bit amounts.

Compiled, ``matching`` settles a trade and ``holds`` a limit buy's hold in C ``__int128``
when every amount they read has at most 120 bits (``small``) and the bounds they check hold,
converting each result back with ``to_int``. Uncompiled, a Python int is already exact at
any size: ``wide`` is ``int`` and ``to_int`` returns its argument (the callers take their
``wide`` paths only compiled). The constants are the units' (a test checks ``wide.pxd``
spells the same numbers).
"""

from __future__ import annotations

from sandex.units import RATE_SCALE, SIZE_TO_AMOUNT

__all__ = ["NOTIONAL_BOUND", "NO_UNIT", "RATE_SCALE", "SIZE_TO_AMOUNT", "below", "div_scale",
           "event_int", "small", "to_int", "unit", "wide"]

wide = int
NOTIONAL_BOUND = 1 << 106  # times a fee rate below 2**20: below 2**126


def small(value: object) -> bool:
    """Whether ``value`` is an exact int of at most 120 bits (converts to ``wide`` exactly)."""
    return type(value) is int and value.bit_length() <= 120


def below(value: object, bound: int) -> bool:
    """Whether ``value`` is an exact int of magnitude below ``bound`` (a power of two up to
    2**62)."""
    return type(value) is int and -bound < value < bound


NO_UNIT = -(1 << 63)  # ``unit``'s answer for anything else (C's ``LLONG_MIN``)


def unit(value: object) -> int:
    """``value`` if it is an exact int of magnitude below 2**53, else ``NO_UNIT``."""
    if type(value) is int and -(1 << 53) < value < (1 << 53):
        return value
    return NO_UNIT


def to_int(value: int) -> int:
    """A ``wide`` as a Python int (uncompiled: it is one)."""
    return value


def event_int(value: int) -> int:
    """A C ``long long`` as a Python int for an event's field (compiled, ``to_int`` from a
    ring of kept ints, one rewritten when only the ring holds it; uncompiled it is one)."""
    return value


def div_scale(value: int) -> int:
    """``value // RATE_SCALE`` (compiled, the 128-bit floor division without libgcc's call)."""
    return value // RATE_SCALE
