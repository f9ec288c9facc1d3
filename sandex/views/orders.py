"""Each profile's orders on record, in creation order (what ``GET /orders`` lists, §4.4).

Holds the engine's ``Order`` objects (read-only). Orders the engine purges (canceled with no
fills, §4.3) leave this view in the same step. The replay profile's orders are not kept
(no one can list them; the engine forgets them once done).

Compiled with the core (``orders.pxd``): ``sandex.node.applying`` feeds it every command's
``Received``, ``Activated`` and canceled ``Done`` through C calls, not Python ones (a replay's
commonest read-model work); the same code runs uncompiled.
"""

from __future__ import annotations

import cython

from sandex.core import (
    REPLAY_PROFILE_ID,
    Activated,
    Done,
    DoneReason,
    Engine,
    Event,
    Received,
)
from sandex.core.records import Order

if cython.compiled:  # profile ids tested against the replay's by length first (equal.pxd)
    from cython.cimports.sandex.views.equal import equal
else:
    from sandex.views.equal import equal

CANCELED = DoneReason.CANCELED
_REPLAY = REPLAY_PROFILE_ID  # compiled: a C global (orders.pxd)


@cython.cclass
class OrdersView:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # the engine's orders on record by id (read, never written; never rebound)
        self._on_record: dict[str, Order] = engine.orders.by_id
        self.by_profile: dict[str, dict[str, Order]] = {}

    def on_events(self, events: list[Event]) -> None:
        """A command's events (``on_order`` and ``on_canceled`` of those they are about)."""
        for event in events:
            kind = type(event)
            if kind is Received or kind is Activated:
                self.on_order(event)  # type: ignore[arg-type]
            elif kind is Done and event.reason is CANCELED:  # type: ignore[attr-defined]
                self.on_canceled(event)  # type: ignore[arg-type]

    def on_order(self, event: Received | Activated) -> None:
        """An order received, or a stop order accepted (``on_received``)."""
        self.on_received(event.order_id, event.profile_id)

    def on_received(self, order_id: str, profile_id: str) -> None:
        """The order ``order_id`` of ``profile_id`` received, or accepted as a stop order
        (``sandex.node.applying`` reads the two from the event's slots)."""
        if equal(profile_id, _REPLAY) if cython.compiled else profile_id == _REPLAY:
            return  # a replayed order (most events of a replay)
        order = self._on_record.get(order_id)
        if order is not None:  # the event's order: its profile is the event's
            by_profile = self.by_profile
            orders = by_profile.get(profile_id)
            if orders is None:
                orders = by_profile[profile_id] = {}
            orders[order_id] = order

    def on_canceled(self, event: Done) -> None:
        """An order canceled (``on_cancel``)."""
        self.on_cancel(event.order_id, event.profile_id)

    def on_cancel(self, order_id: str, profile_id: str) -> None:
        """The order ``order_id`` of ``profile_id`` canceled: gone from the view too if the
        engine purged it (``sandex.node.applying`` reads the two from the event's slots).
        The engine has purged or archived a done order (``retire``) before its ``Done`` is
        fed: whether it is still on record says which."""
        if order_id not in self._on_record:  # purged
            profile = self.by_profile.get(profile_id)
            if profile is not None:
                profile.pop(order_id, None)

    def for_profile(self, profile_id: str) -> dict[str, Order]:
        return self.by_profile.get(profile_id, {})
