"""Each profile's orders on record, in creation order (what ``GET /orders`` lists, §4.4).

Holds the engine's ``Order`` objects (read-only). Orders the engine purges (canceled with no
fills, §4.3) leave this view in the same step. The replay profile's orders are not kept
(no one can list them; the engine forgets them once done).
"""

from __future__ import annotations

from sandex.core import (
    REPLAY_PROFILE_ID,
    Activated,
    Done,
    DoneReason,
    Engine,
    Event,
    Order,
    Received,
)


class OrdersView:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.by_profile: dict[str, dict[str, Order]] = {}

    def on_events(self, events: list[Event]) -> None:
        orders = self._engine.orders
        for event in events:
            if type(event) is Received or type(event) is Activated:
                order = orders.get(event.order_id)
                if order is not None and order.profile_id != REPLAY_PROFILE_ID:
                    self.by_profile.setdefault(order.profile_id, {})[order.id] = order
            elif (type(event) is Done and event.reason is DoneReason.CANCELED
                  and event.order_id not in orders):
                profile = self.by_profile.get(event.profile_id)
                if profile is not None:
                    profile.pop(event.order_id, None)

    def for_profile(self, profile_id: str) -> dict[str, Order]:
        return self.by_profile.get(profile_id, {})
