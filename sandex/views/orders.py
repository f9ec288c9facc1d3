"""Each profile's orders on record, in creation order (what ``GET /orders`` lists, §4.4).

Holds the engine's ``Order`` objects (read-only). Orders the engine purges (canceled with no
fills, §4.3) leave this view in the same step. The replay profile's orders are not kept
(no one can list them; the engine forgets them once done).

Compiled with the core (``orders.pxd``): ``sandex.node.applying`` feeds it every command's
``Received``, ``Activated`` and canceled ``Done`` through C calls, not Python ones (a replay's
commonest read-model work); the same code runs uncompiled.
"""

from __future__ import annotations

from typing import Any

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
from sandex.core.enums import Status
from sandex.core.records import Order

if cython.compiled:  # profile ids tested against the replay's by length first (equal.pxd)
    from cython.cimports.sandex.views.equal import equal
else:
    from sandex.views.equal import equal
if cython.compiled:  # a profile's dict without a probe of ``by_profile`` (kept.pxd)
    from cython.cimports.sandex.views.kept import kept_clear, kept_get, kept_put, kept_version

CANCELED = DoneReason.CANCELED
_REPLAY = REPLAY_PROFILE_ID  # compiled: a C global (orders.pxd)
_DONE = Status.DONE  # compiled: a C global (orders.pxd)


@cython.cclass
class OrdersView:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # the engine's orders on record by id (read, never written; never rebound)
        self._on_record: dict[str, Order] = engine.orders.by_id
        self.by_profile: dict[str, dict[str, Order]] = {}
        # a replay from nothing: orders kept and purged at its end, not a record at a time
        # (``defer``, ``settle``)
        self._deferred = False

    def __dealloc__(self) -> None:
        if cython.compiled:
            kept_clear(cython.address(self._kept))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its dicts (``sandex.node.saved``'s snapshots in memory); compiled, the
        kept references (``kept.pxd``) are not state: a copy starts with none; nor is a
        deferral: its orders are put first (``settle``)."""
        self.settle(False)
        return _orders_view, (self._engine, self._on_record, self.by_profile)

    def _profile(self, profile_id: str, make: bool) -> dict[str, Order] | None:
        """Compiled: ``by_profile[profile_id]`` (made empty if ``make`` and there is none;
        else None), found where it was found last while ``by_profile`` is unchanged (its
        version: ``kept.pxd``), without a probe; uncompiled, not called."""
        if cython.compiled:
            by_profile = self.by_profile
            version = kept_version(by_profile)
            orders = kept_get(cython.address(self._kept), version, profile_id, None)
            if orders is None:
                orders = by_profile.get(profile_id)
                if orders is None:
                    if not make:
                        return None
                    orders = by_profile[profile_id] = {}
                    version = kept_version(by_profile)
                kept_put(cython.address(self._kept), version, profile_id, None, orders, None)
            return orders
        return None

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
            self._keep(profile_id, order_id, order)

    def _keep(self, profile_id: str, order_id: str, order: Order) -> int:
        """``order`` put in its profile's dict, made if new. (Answers 0: compiled, -1 is an
        error.)"""
        if cython.compiled:  # the kept dict's lookup inline (``_profile`` on a miss)
            orders = kept_get(cython.address(self._kept),
                              kept_version(self.by_profile), profile_id, None)
            if orders is None:
                orders = self._profile(profile_id, True)
            if not self._deferred:  # deferred: its dict made, the order put by ``settle``
                orders[order_id] = order
            return 0
        by_profile = self.by_profile
        orders = by_profile.get(profile_id)
        if orders is None:
            orders = by_profile[profile_id] = {}
        if not self._deferred:
            orders[order_id] = order
        return 0

    def on_canceled(self, event: Done) -> None:
        """An order canceled (``on_cancel``)."""
        self.on_cancel(event.order_id, event.profile_id)

    def on_cancel(self, order_id: str, profile_id: str) -> None:
        """The order ``order_id`` of ``profile_id`` canceled: gone from the view too if the
        engine purged it (``sandex.node.applying`` reads the two from the event's slots).
        The engine has purged or archived a done order (``retire``) before its ``Done`` is
        fed: whether it is still on record says which. (Deferred: nothing to take out,
        ``settle`` puts only the orders on record.)"""
        if self._deferred:
            return
        if order_id not in self._on_record:  # purged
            if cython.compiled:
                profile = self._profile(profile_id, False)
            else:
                profile = self.by_profile.get(profile_id)
            if profile is not None:
                profile.pop(order_id, None)

    def on_noted(self, order: Order) -> int:
        """A replay's note of an order received (``sandex.core.sink``): ``on_received`` of
        its ids, with the ``Order`` the note carries in place of the engine's, which
        ``on_received`` probes for. Read after the command, as the event would be fed: the
        order is still on record unless the command purged it, and ``retire`` purges a done
        order only if it was canceled with no fill (the replay profile's, skipped here).
        (Answers 0: compiled, -1 is an error.)"""
        profile_id = order.profile_id
        if equal(profile_id, _REPLAY) if cython.compiled else profile_id == _REPLAY:
            return 0
        if order.filled_size == 0 and order.status is _DONE:  # purged (its cancel noted next)
            return 0
        return self._keep(profile_id, order.id, order)

    def on_noted_cancel(self, order: Order) -> int:
        """A replay's note of an order canceled: ``on_cancel`` of its ids, whether the
        engine purged it read from the order (``retire``: canceled with no fill; the
        replay profile's orders are never in this view) in place of a probe of the
        engine's orders. (Answers 0: compiled, -1 is an error.)"""
        if order.filled_size != 0:  # archived: still on record
            return 0
        profile_id = order.profile_id
        if equal(profile_id, _REPLAY) if cython.compiled else profile_id == _REPLAY:
            return 0
        if cython.compiled:  # the kept dict's lookup inline (``_profile`` on a miss)
            profile = kept_get(cython.address(self._kept),
                               kept_version(self.by_profile), profile_id, None)
            if profile is None:
                profile = self._profile(profile_id, False)
        else:
            profile = self.by_profile.get(profile_id)
        if profile is not None:
            profile.pop(order.id, None)
        return 0

    def for_profile(self, profile_id: str) -> dict[str, Order]:
        self.settle(False)  # a deferral's orders put first (none: nothing done)
        return self.by_profile.get(profile_id, {})

    def defer(self) -> bool:
        """Start a replay's deferral if the view and the engine hold no order yet (a replay
        from the journal's start): until ``settle``, an order received only makes its
        profile's dict (where it would be made: ``by_profile``'s order of profiles kept) and
        a cancel takes nothing out; ``settle`` then puts each order the engine has on record
        (``_on_record``, in its order: the orders' creation order, as they were received)
        in its profile's dict, but the replay profile's. The same dicts as fed a record at a
        time: from nothing, the view's orders are the engine's on record, the replay
        profile's left out (``retire`` purges exactly the orders a canceled ``Done`` takes
        out of the view, before it is fed; an order enters the engine's record when it is
        received or, a stop order, accepted, and its ``Received``/``Activated`` is fed in
        that order). Saves the 1 M replay's probes of these dicts (docs/performance.md,
        recovery's twenty-sixth pass). Whether it started."""
        if self._deferred:
            return True
        if len(self._on_record) != 0:
            return False
        for orders in self.by_profile.values():
            if len(orders) != 0:
                return False
        self._deferred = True
        return True

    def settle(self, end: bool = True) -> None:
        """The orders a deferral (``defer``) left out put in their profiles' dicts; the
        deferral ended if ``end`` or if there were any (a replay's node command settles
        the view before it runs, ``end`` false: a deferral goes on only while the engine
        has no order, so a replay settles at most twice the orders it holds)."""
        if not self._deferred:
            return
        on_record = self._on_record
        if len(on_record) != 0:
            self._deferred = False
            self._put_on_record(on_record)
        elif end:
            self._deferred = False

    def _put_on_record(self, on_record: dict[str, Order]) -> None:
        """Each order of ``on_record`` (in its order) put in its profile's dict (made if
        none), but the replay profile's."""
        by_profile = self.by_profile
        for orders in by_profile.values():
            orders.clear()
        last_id: str | None = None
        last: dict[str, Order] | None = None
        for order in on_record.values():
            profile_id = order.profile_id
            if profile_id is not last_id:  # most runs of orders: one profile's
                if equal(profile_id, _REPLAY) if cython.compiled else profile_id == _REPLAY:
                    continue
                last = by_profile.get(profile_id)
                if last is None:
                    last = by_profile[profile_id] = {}
                last_id = profile_id
            last[order.id] = order  # type: ignore[index]


def _orders_view(engine: Any, on_record: Any, by_profile: Any) -> OrdersView:
    """A ``OrdersView`` of these dicts (its pickle's: ``OrdersView.__reduce__``)."""
    view = OrdersView.__new__(OrdersView)
    view._engine, view._on_record, view.by_profile = engine, on_record, by_profile
    view._deferred = False
    return view
