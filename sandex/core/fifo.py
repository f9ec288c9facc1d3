"""Uncompiled meaning of ``fifo.pxd``: a level's queue appended to and popped from its left.

Compiled, ``book``, ``engine`` and ``matching`` call ``deque.append`` and ``deque.popleft``
through the C functions those methods wrap (bound once at import by ``bind``); uncompiled
they are the methods themselves.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["bind", "pop", "push"]

push = deque.append
pop = deque.popleft


def bind(type_: Any, append: Any, popleft: Any) -> int:
    """Nothing to bind uncompiled."""
    return 0
