"""Uncompiled meaning of ``equal.pxd``: equality of two profile ids (``str`` or ``None``).

Compiled, the read models and ``sandex.node.applying`` test a profile id against the replay
profile's with ``equal``, which answers from identity and the strings' lengths before
comparing their text; uncompiled they write ``==`` and never call this.
"""

from __future__ import annotations

__all__ = ["equal"]


def equal(a: str | None, b: str | None) -> bool:
    """``a == b``."""
    return a == b
