"""Uncompiled meaning of ``slots.pxd``: a msgspec Struct's fields read by slot offset.

Compiled, ``engine`` reads a ``PlaceOrder``'s and a ``CancelOrder``'s fields straight from
their slots (no tuple built, no call through Python), at the offsets ``offset`` finds in
their types' member descriptors at import. Uncompiled there are no offsets: ``offset`` is
the field's index and ``field`` reads it by name (the engine uses ``astuple`` there).
"""

from __future__ import annotations

from typing import Any

__all__ = ["field", "holds", "offset"]


def offset(type_: type, name: str) -> int:
    """Where ``name`` is stored in instances of ``type_`` (uncompiled: its field index)."""
    fields: tuple[str, ...] = getattr(type_, "__struct_fields__", ())
    if name not in fields:
        raise TypeError(f"{name!r} is not a slot of {type_!r}")
    return fields.index(name)


def field(obj: Any, at: int) -> Any:
    """The field stored at ``at`` (uncompiled: by its index)."""
    return getattr(obj, obj.__struct_fields__[at])


def holds(obj: Any, at: int, value: object) -> bool:
    """Is the field stored at ``at`` ``value`` itself (compiled: no reference taken)?"""
    return field(obj, at) is value
