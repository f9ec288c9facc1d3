"""Each profile's orders on record, in creation order (what ``GET /orders`` lists, §4.4).

Holds the engine's ``Order`` objects (read-only). Orders the engine purges (canceled with no
fills, §4.3) leave this view in the same step.
"""

from __future__ import annotations

from sandex.core import Activated, Done, DoneReason, Engine, Event, Received


class OrdersView:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.by_profile: dict[str, dict[str, object]] = {}

    def on_events(self, events: list[Event]) -> None:
        orders = self._engine.orders
        for event in events:
            kind = type(event)
            if kind is Received or kind is Activated:
                order = orders.get(event.order_id)  # type: ignore[union-attr]
                if order is not None:
                    self.by_profile.setdefault(order.profile_id, {})[order.id] = order
            elif (kind is Done and event.reason is DoneReason.CANCELED  # type: ignore[union-attr]
                  and event.order_id not in orders):  # type: ignore[union-attr]
                profile = self.by_profile.get(event.profile_id)  # type: ignore[union-attr]
                if profile is not None:
                    profile.pop(event.order_id, None)  # type: ignore[union-attr]

    def for_profile(self, profile_id: str) -> dict[str, object]:
        return self.by_profile.get(profile_id, {})
