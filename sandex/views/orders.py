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
            kind = type(event)
            if kind is Received or kind is Activated:
                order = orders.get(event.order_id)  # type: ignore[attr-defined]
                if order is not None and order.profile_id != REPLAY_PROFILE_ID:
                    mine = self.by_profile.get(order.profile_id)
                    if mine is None:
                        mine = self.by_profile[order.profile_id] = {}
                    mine[order.id] = order
            elif (kind is Done and event.reason is DoneReason.CANCELED  # type: ignore[attr-defined]
                  and event.order_id not in orders):  # type: ignore[attr-defined]
                profile = self.by_profile.get(event.profile_id)  # type: ignore[attr-defined]
                if profile is not None:
                    profile.pop(event.order_id, None)  # type: ignore[attr-defined]

    def for_profile(self, profile_id: str) -> dict[str, Order]:
        return self.by_profile.get(profile_id, {})
