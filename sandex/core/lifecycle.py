"""An order's lifecycle (§4.3): its statuses, the legal moves between them, and the moves
every path shares (rest, cancel, close).

``LIFECYCLE`` is the one table of legal moves; ``docs/architecture.md`` shows it (a test
compares the two) and the property tests check every order of every stream against it, move
by move, from the events. Each move is announced by one event: ``Received`` enters
``pending``, ``Activated`` ``active``, ``Opened`` ``open`` and ``Done`` ``done``
(``ENTERED_BY``). ``pending`` lasts only while its command runs: between commands an order
is ``open``, ``active`` or ``done``, or ``pending`` in the queue of a product whose matching
is halted (``SetMatching``) until the resume matches it or it is canceled. The inline paths
of ``engine`` (a plain limit order placed in one frame, an open order canceled in one frame)
make the same moves.
"""

from __future__ import annotations

import cython

from sandex.core.events import Activated, Done, Event, Opened, Received
from sandex.core.model import (
    REPLAY_PROFILE_ID,
    CancelReason,
    DoneReason,
    OrderType,
    Status,
)
from sandex.core.product import Product
from sandex.core.records import Order, Profile, Tally, unlink
from sandex.core.state import State

if cython.compiled:  # C 128-bit amounts (wide.pxd)
    from cython.cimports.sandex.core.wide import event_int, wide
else:
    from sandex.core.wide import event_int, wide

if cython.compiled:  # ids compared from their hashes first (text.pxd)
    from cython.cimports.sandex.core.text import same
else:
    from sandex.core.text import same

if cython.compiled:  # the owner's common case inline (peek.pxd)
    from cython.cimports.sandex.core.peek import owner_of
else:
    from sandex.core.peek import owner_of

if cython.compiled:  # the hot events built from their slots, or a replay's notes (emit.py)
    from cython.cimports.sandex.core.emit import emit_done, emit_opened
else:
    from sandex.core.emit import emit_done, emit_opened

PENDING, OPEN, ACTIVE, DONE = Status.PENDING, Status.OPEN, Status.ACTIVE, Status.DONE
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
CANCELED = DoneReason.CANCELED

# (from, to) -> when; ``None`` is "not yet accepted". Nothing leaves ``done``.
LIFECYCLE: dict[tuple[Status | None, Status], str] = {
    (None, PENDING): "accepted, not a stop: about to match",
    (None, ACTIVE): "a stop order accepted: waits for a trade at its stop price",
    (ACTIVE, PENDING): "its stop price traded: about to match",
    (ACTIVE, DONE): "canceled before it triggered, or expired (a private done)",
    (PENDING, OPEN): "a GTC or GTT limit order with size left and nothing to match: rests",
    (PENDING, DONE): "filled as the taker, or canceled: IOC/FOK/market leftover, STP, funds",
    (OPEN, DONE): "filled as a maker, or canceled: by its owner, expiry, STP",
}
LIVE = (OPEN, ACTIVE)  # on the book or waiting to trigger: holds funds, counts as open
ENTERED_BY: dict[type[Event], Status] = {
    Received: PENDING, Activated: ACTIVE, Opened: OPEN, Done: DONE}


def rest(state: State, order: Order, product: Product, t: int) -> None:
    """Put a pending limit order with size left on the book."""
    price, remaining = order.price, order._remaining
    assert price is not None and remaining >= 0
    order.status = OPEN
    product.book.add(order)
    product.sequence += 1
    emit_opened(state, t, product.id, event_int(product.sequence), order.id, order.profile_id,
                order.side, price, remaining)


def cancel(state: State, order: Order, product: Product, reason: CancelReason | None,
           t: int) -> None:
    """Cancel a live order: out of the book or the stops, hold released, ``done``."""
    status = order.status
    if status is OPEN:
        assert order._remaining >= 0  # a resting limit order
        order.status = DONE
        product.book.remove(order, order._remaining)
    elif status is ACTIVE:
        order.status = DONE
        product.stops.discard(order)
    close(state, order, product, CANCELED, reason, t, private=status is ACTIVE)


@cython.locals(profile=Profile, hold=wide, tally=Tally)
def close(state: State, order: Order, product: Product, reason: DoneReason,
          cancel_reason: CancelReason | None, t: int, private: bool = False) -> None:
    """Mark ``order`` done, release its hold, emit ``done``, purge it if it never filled.

    ``private``: the order was an untriggered stop, unknown to the public feed, so its
    ``done`` takes no sequence number. A purged order is forgotten: only its ``status``
    still matters, to the lazy structures (level queues, heaps) that may hold it a while.
    """
    order.status = DONE
    hold = order.hold
    if hold:
        order.hold_account.hold -= hold
    order_id, product_id, profile_id = order.id, product.id, order.profile_id
    tally = order._tally  # its profile's, for its product: no lookup by either id
    assert tally is not None  # set on acceptance (a live order's: a test checks)
    profile = owner_of(tally)
    unlink(profile, order)
    tally.count -= 1
    if private:
        sequence = None
    else:
        product.sequence += 1
        sequence = event_int(product.sequence)  # from the ring of kept ints (wide.pxd)
    if order.type is MARKET:
        price = remaining = None
    else:  # a limit order always has a size
        price, remaining = order.price, order._remaining
    emit_done(state, t, product_id, sequence, order_id, profile_id, order.side, reason, price,
              remaining, cancel_reason, order)
    retire(state, order, profile, hold, reason, cancel_reason, t)


def retire(state: State, order: Order, profile: Profile, hold: int, reason: DoneReason,
           cancel_reason: CancelReason | None, t: int) -> None:
    """Forget a just-done order (its ``hold`` released) if it was canceled with no fill
    (§4.3), or is a replayed order (no one can ask for it: memory stays flat however long
    the recording), else archive it with when and why it finished: it stays on record
    (``State._live``; its status ``DONE`` says archived) and joins the archive's list."""
    if ((reason is CANCELED and order.filled_size == 0)
            or (same(profile.id, REPLAY_PROFILE_ID) if cython.compiled
                else profile.id == REPLAY_PROFILE_ID)):
        oid = order.client_oid
        if oid is not None and profile.by_client_oid.get(oid) is order:
            del profile.by_client_oid[oid]
        del state._live[order.id]
    else:
        if hold:
            order.hold = 0
        order.done_at = t
        order.done_reason = reason
        if cancel_reason is not None:  # a live order has none yet
            order.cancel_reason = cancel_reason
        state._archive.append(order)
