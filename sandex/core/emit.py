"""The hot path's events built from their slots: ``Received``, ``Opened``, ``Done``,
``Matched``, about two a command.

Compiled, each builder takes its event's memory where msgspec's ``Struct_vectorcall`` gets
it for a ``gc=False`` type (the type's ``tp_alloc``, ``PyType_GenericAlloc``, allocates from
``PyObject_Malloc`` and never tracks it) and writes every field at the slot offset its
type's member descriptor names (``slots.pxd``): one store and one incref a field, with none
of the call's argument handling (keywords, defaults, GC untracking, ``__post_init__``: these
types use none) and no zeroing first. At import a type is refused unless its fields' slots
fill its instances exactly (every byte after the object header is written),
``slots.buildable`` refuses one not allocated and freed by that pair (``PyType_GenericAlloc``,
``PyObject_Free``) and a ``__post_init__`` is refused here: with a msgspec that changes any
of them, the builders call the constructors (``REFUSED`` says why, and the start-up banner).
The same checks let their instances, however made, be freed by one pass over their slots
(``slots.free_keep``: every slot released, the type's reference given back, what msgspec's
own ``gc=False`` dealloc does by walking each class's member descriptors; the block kept for
the next event of its size the builders make, up to 64 a size, else ``tp_free``).

Uncompiled, each builder calls the event's constructor, and so do the emission points the
engine's modules call (``emit_received``, ``emit_opened``, ``emit_done``: the event, or a
replay's notes, ``sink.py``). The parameters are the events' fields in their order
(``tests/core/test_emit.py`` checks the built events equal, and encode byte for byte as, the
constructed ones, and that nothing leaks).
"""

from __future__ import annotations

from struct import calcsize
from typing import TYPE_CHECKING

import cython

from sandex.core.events import Done, Event, Matched, Opened, Received
from sandex.core.model import CancelReason, DoneReason, OrderType, Side
from sandex.core.state import State

if cython.compiled:
    from cython.cimports.sandex.core.slots import buildable, free_keep, new, offset, put
else:
    from sandex.core.slots import offset
if TYPE_CHECKING:
    from sandex.core.records import Order

__all__ = ["emit_done", "emit_opened", "emit_received", "new_done", "new_matched",
           "new_opened", "new_received"]

_CANCELED = DoneReason.CANCELED  # compiled: a C global (emit.pxd)


def field_offsets(type_: type) -> tuple[int, ...]:
    """``type_``'s fields' slot offsets in their order, once it is checked buildable."""
    if getattr(type_, "__post_init__", None) is not None:
        raise TypeError(f"{type_!r} has a __post_init__: it cannot be built from its slots")
    fields: tuple[str, ...] = type_.__struct_fields__  # type: ignore[attr-defined]
    at = tuple(offset(type_, name) for name in fields)
    if cython.compiled:  # byte offsets (uncompiled, ``offset`` gives the field's index)
        buildable(type_)
        header, size = object.__basicsize__, type_.__basicsize__
        if sorted(at) != list(range(header, size, calcsize("P"))):  # one pointer a slot
            raise TypeError(f"{type_!r}'s fields do not fill its instances")
    return at



def slot_layout(type_: type) -> tuple[tuple[int, ...], bool]:
    """``field_offsets(type_)`` and whether instances are built from them (compiled), or
    zeros and ``False`` when the type is refused (its constructor builds it then): how a
    module outside the core builds its own records as ``emit`` builds the events."""
    try:
        return field_offsets(type_), bool(cython.compiled)
    except TypeError:  # a msgspec that lays its Structs out otherwise: the constructor
        return (0,) * len(type_.__struct_fields__), False  # type: ignore[attr-defined]

try:
    _RECEIVED = field_offsets(Received)
    _OPENED = field_offsets(Opened)
    _DONE = field_offsets(Done)
    _MATCHED = field_offsets(Matched)
    REFUSED: str | None = None
except TypeError as exc:  # a msgspec that lays its Structs out otherwise: the constructors
    _RECEIVED, _OPENED, _DONE, _MATCHED = (0,) * 11, (0,) * 8, (0,) * 10, (0,) * 20
    REFUSED = str(exc)
_BUILD = REFUSED is None
"""False when a type was refused: every builder then calls its event's constructor (the
start-up banner says why, ``native.describe``), so a newer msgspec never stops the venue."""
_Received, _Opened, _Done, _Matched = Received, Opened, Done, Matched
if cython.compiled and _BUILD:  # freed by one pass over their slots (``slots.pxd``), their
    # memory kept for the next ones this module builds (up to 64 blocks a size)
    for _type in (_Received, _Opened, _Done, _Matched):
        free_keep(_type)
_SCRATCH = State()  # where ``new_received`` etc. have the emission points put their event


def new_received(time: int, product_id: str, sequence: int, order_id: str, profile_id: str,
                 side: Side, order_type: OrderType, price: int | None, size: int | None,
                 funds: int | None, client_oid: str | None) -> Received:
    """``Received(...)``, built by ``emit_received`` (the engine's emission point)."""
    events: list[Event] = []
    _SCRATCH._events = events
    emit_received(_SCRATCH, time, product_id, sequence, order_id, profile_id, side, order_type,
                  price, size, funds, client_oid, None)
    return events.pop()  # type: ignore[return-value]


def new_opened(time: int, product_id: str, sequence: int, order_id: str, profile_id: str,
               side: Side, price: int, remaining_size: int) -> Opened:
    """``Opened(...)``, built by ``emit_opened`` (the engine's emission point)."""
    events: list[Event] = []
    _SCRATCH._events = events
    emit_opened(_SCRATCH, time, product_id, sequence, order_id, profile_id, side, price,
                remaining_size)
    return events.pop()  # type: ignore[return-value]


def new_done(time: int, product_id: str, sequence: int | None, order_id: str, profile_id: str,
             side: Side, reason: DoneReason, price: int | None, remaining_size: int | None,
             cancel_reason: CancelReason | None) -> Done:
    """``Done(...)``, built by ``emit_done`` (the engine's emission point)."""
    events: list[Event] = []
    _SCRATCH._events = events
    emit_done(_SCRATCH, time, product_id, sequence, order_id, profile_id, side, reason, price,
              remaining_size, cancel_reason, None)
    return events.pop()  # type: ignore[return-value]


def new_matched(time: int, product_id: str, sequence: int, trade_id: int, maker_order_id: str,
                taker_order_id: str, maker_profile_id: str, taker_profile_id: str, side: Side,
                price: int, size: int, maker_fee: int, taker_fee: int, maker_fee_rate: int,
                taker_fee_rate: int, entry_id: int, seller_base_balance: int,
                seller_quote_balance: int, buyer_quote_balance: int,
                buyer_base_balance: int) -> Matched:
    """``Matched(...)``."""
    if cython.compiled and _BUILD:
        event = new(_Matched)
        put(event, _MATCHED[0], time)
        put(event, _MATCHED[1], product_id)
        put(event, _MATCHED[2], sequence)
        put(event, _MATCHED[3], trade_id)
        put(event, _MATCHED[4], maker_order_id)
        put(event, _MATCHED[5], taker_order_id)
        put(event, _MATCHED[6], maker_profile_id)
        put(event, _MATCHED[7], taker_profile_id)
        put(event, _MATCHED[8], side)
        put(event, _MATCHED[9], price)
        put(event, _MATCHED[10], size)
        put(event, _MATCHED[11], maker_fee)
        put(event, _MATCHED[12], taker_fee)
        put(event, _MATCHED[13], maker_fee_rate)
        put(event, _MATCHED[14], taker_fee_rate)
        put(event, _MATCHED[15], entry_id)
        put(event, _MATCHED[16], seller_base_balance)
        put(event, _MATCHED[17], seller_quote_balance)
        put(event, _MATCHED[18], buyer_quote_balance)
        put(event, _MATCHED[19], buyer_base_balance)
        return event  # type: ignore[no-any-return]
    return Matched(time, product_id, sequence, trade_id, maker_order_id, taker_order_id,
                   maker_profile_id, taker_profile_id, side, price, size, maker_fee, taker_fee,
                   maker_fee_rate, taker_fee_rate, entry_id, seller_base_balance,
                   seller_quote_balance, buyer_quote_balance, buyer_base_balance)


# The engine's emission points of the three hot kinds (``sink.py``): each appends its event
# to the state's ``_events``, or, given a replay's sink (``_sink``), notes there what the
# read models read of it (nothing of an ``Opened``), from the same values. (Compiled, each
# answers 0, -1 on an error: no ``PyErr_Occurred`` test after a call; each builds its event
# in its own body, no builder called: the engine's call is the only one.)


def emit_received(state: State, time: int, product_id: str, sequence: int, order_id: str,
                  profile_id: str, side: Side, order_type: OrderType, price: int | None,
                  size: int | None, funds: int | None, client_oid: str | None,
                  order: Order | None) -> None:
    """``state``'s events given a ``Received(...)``; with a sink, ``order`` (the received
    ``Order``: its ids are its fields, and the orders view keeps it without a probe)."""
    if state._sink is None:
        if cython.compiled and _BUILD:
            event = new(_Received)
            put(event, _RECEIVED[0], time)
            put(event, _RECEIVED[1], product_id)
            put(event, _RECEIVED[2], sequence)
            put(event, _RECEIVED[3], order_id)
            put(event, _RECEIVED[4], profile_id)
            put(event, _RECEIVED[5], side)
            put(event, _RECEIVED[6], order_type)
            put(event, _RECEIVED[7], price)
            put(event, _RECEIVED[8], size)
            put(event, _RECEIVED[9], funds)
            put(event, _RECEIVED[10], client_oid)
        else:
            event = Received(time, product_id, sequence, order_id, profile_id, side,
                             order_type, price, size, funds, client_oid)
        state._events.append(event)
    else:
        state._sink.notes.append(order)


def emit_opened(state: State, time: int, product_id: str, sequence: int, order_id: str,
                profile_id: str, side: Side, price: int, remaining_size: int) -> None:
    """``state``'s events given an ``Opened(...)``; with a sink, nothing (no view reads
    it)."""
    if state._sink is None:
        if cython.compiled and _BUILD:
            event = new(_Opened)
            put(event, _OPENED[0], time)
            put(event, _OPENED[1], product_id)
            put(event, _OPENED[2], sequence)
            put(event, _OPENED[3], order_id)
            put(event, _OPENED[4], profile_id)
            put(event, _OPENED[5], side)
            put(event, _OPENED[6], price)
            put(event, _OPENED[7], remaining_size)
        else:
            event = Opened(time, product_id, sequence, order_id, profile_id, side, price,
                           remaining_size)
        state._events.append(event)


def emit_done(state: State, time: int, product_id: str, sequence: int | None, order_id: str,
              profile_id: str, side: Side, reason: DoneReason, price: int | None,
              remaining_size: int | None, cancel_reason: CancelReason | None,
              order: Order | None) -> None:
    """``state``'s events given a ``Done(...)``; with a sink, a canceled ``order`` (after
    ``None``: the view reads whether ``retire`` purged it from the order)."""
    if state._sink is None:
        if cython.compiled and _BUILD:
            event = new(_Done)
            put(event, _DONE[0], time)
            put(event, _DONE[1], product_id)
            put(event, _DONE[2], sequence)
            put(event, _DONE[3], order_id)
            put(event, _DONE[4], profile_id)
            put(event, _DONE[5], side)
            put(event, _DONE[6], reason)
            put(event, _DONE[7], price)
            put(event, _DONE[8], remaining_size)
            put(event, _DONE[9], cancel_reason)
        else:
            event = Done(time, product_id, sequence, order_id, profile_id, side, reason,
                         price, remaining_size, cancel_reason)
        state._events.append(event)
    elif reason is _CANCELED:
        notes = state._sink.notes
        notes.append(None)
        notes.append(order)
