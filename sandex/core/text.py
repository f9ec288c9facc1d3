"""Uncompiled meaning of ``text.pxd``: equality of two ids (``str`` or ``None``).

Compiled, ``matching`` and ``lifecycle`` compare profile ids with ``same``, which answers
from identity and the strings' cached hashes before comparing their text; uncompiled they
write ``==`` and never call this.
"""

from __future__ import annotations

__all__ = ["same"]


def same(a: str | None, b: str | None) -> bool:
    """``a == b``."""
    return a == b
