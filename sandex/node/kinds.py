"""Who a profile is, as traces name a fill's counterparty: ``user``, ``demo`` or ``replay``.

Every profile is a ``user`` unless a feature that trades on its own registers it: the demo
market registers its maker and taker profiles as ``demo`` (``sandex.server``), the replay
feature registers its profiles as ``replay``. Not state (never journaled): registered again
at every start, one registry per node.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandex.node.node import Node

KINDS = ("user", "demo", "replay")
"""Every kind a profile can have; ``user`` is the default."""


class ProfileKinds:
    """The kind of each registered profile (every other profile is a ``user``)."""

    def __init__(self) -> None:
        self._kinds: dict[str, str] = {}

    def register(self, profile_id: str, kind: str) -> None:
        """Say that ``profile_id`` is a ``demo`` or ``replay`` profile (``ValueError`` for
        any other kind)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self._kinds[profile_id] = kind

    def kind(self, profile_id: str) -> str:
        """``profile_id``'s kind: as registered, else ``user``."""
        return self._kinds.get(profile_id, "user")


_KINDS: weakref.WeakKeyDictionary[Node, ProfileKinds] = weakref.WeakKeyDictionary()


def profile_kinds(node: Node) -> ProfileKinds:
    """The profile kinds of the venue around ``node`` (made empty on first use)."""
    found = _KINDS.get(node)
    if found is None:
        found = _KINDS[node] = ProfileKinds()
    return found
