"""Orders a FIX session starts to follow at its logon, as the disk has them.

A logon may come while commands are in flight: applied in memory, their group commit not yet
on disk. An order read then can show a fill or its end that a crash would lose, and whose
report (``sandex.api.fix.reporter``: sent once durable, adding each fill) would count it a
second time. ``durable_track`` takes what the commands in flight (``Node.pending_events``)
did to an order back out of its track, so that their reports, once durable, count it once.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandex.api.fix.reports import Track
from sandex.core import Changed, Done, Event, Matched, Order, Received, Status


def pending_by_order(events: Iterable[Event]) -> dict[str, list[Event]]:
    """The events of ``events`` that change an order (received, filled, done, changed), by
    order id, oldest first."""
    by_order: dict[str, list[Event]] = {}
    for event in events:
        if isinstance(event, Matched):
            ids: tuple[str, ...] = (event.maker_order_id, event.taker_order_id)
        elif isinstance(event, (Done, Changed, Received)):
            ids = (event.order_id,)
        else:
            continue
        for order_id in ids:
            by_order.setdefault(order_id, []).append(event)
    return by_order


def waits(events: list[Event]) -> bool:
    """Whether an order with ``events`` in flight must wait for their commit: a modify or a
    decrement (its event does not carry the price and size before it)."""
    return any(type(event) is Changed for event in events)


def durable_track(order: Order, key: str, quote: str, events: list[Event]) -> Track | None:
    """``order``'s track as the disk has it, ``events`` (its events in flight, none of them a
    ``Changed``: see ``waits``) taken back out; ``None`` if it is done on disk."""
    if order.status is Status.DONE and not any(type(e) is Done for e in events):
        return None
    track = Track.of_order(order, key, None, quote)
    for event in events:
        if isinstance(event, Matched):
            track.cum -= event.size
            track.value -= event.price * event.size
        elif isinstance(event, Done):
            track.done = False
    return track
