"""Uncompiled meaning of ``text.pxd``: equality of two ids (``str`` or ``None``).

Compiled, ``matching``, ``lifecycle`` and ``engine`` compare ids with ``same`` (and
``same_id``, whose second operand is a command's field), which answer from identity, the
strings' cached hashes and their lengths before comparing their text; uncompiled they write
``==`` and never call these.
"""

from __future__ import annotations

__all__ = ["same", "same_id"]


def same(a: str | None, b: str | None) -> bool:
    """``a == b``."""
    return a == b


def same_id(a: str | None, b: object) -> bool:
    """``a == b``."""
    return a == b
