"""Applying a command to a node's memory (``Node.apply``), and a replay's run of commands.

The hot path of recovery and of a cluster's standby: every journaled command goes through
``apply`` (the core or the node's own commands, then the read models fed in one pass over the
command's events). Kept apart from ``sandex.node.node`` (asyncio, the group commit) so that
``setup.py`` compiles it with the core (``sandex.native``); the same code runs uncompiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from struct import calcsize
from typing import Any

import cython
import msgspec
from msgspec.structs import astuple

from sandex.core import (
    REPLAY_PROFILE_ID,
    Activated,
    AddAddress,
    AdvanceClock,
    CancelOrder,
    Command,
    DeleteAddress,
    Done,
    DoneReason,
    Duplicate,
    Event,
    LedgerEntry,
    Matched,
    Opened,
    PlaceOrder,
    PutEntry,
    Received,
    Rejected,
    StartTransfer,
)
from sandex.core.engine import Engine
from sandex.core.sink import Sink
from sandex.node.codec import decode as _decode_record
from sandex.node.codec import decode_lines as _decode_lines
from sandex.node.commands import (
    CreateApiKey,
    DeleteSnapshot,
    RestoreSnapshot,
    RevokeApiKey,
    SaveSnapshot,
    SetClock,
    Takeover,
    TookOver,
)
from sandex.views.fills import FillsView
from sandex.views.ledger import LedgerView
from sandex.views.market import MarketView
from sandex.views.orders import OrdersView

if cython.compiled:  # a trade's fields read from its slots (sandex/core/slots.pxd)
    from cython.cimports.sandex.core.slots import buildable, field, free_fast, offset
else:
    from sandex.core.slots import field, offset
if cython.compiled:  # the commonest records decoded in C (fastlines.pxd)
    from cython.cimports.sandex.node.fastlines import (
        SX_BOOL,
        SX_ENUM,
        SX_INT,
        SX_STR,
        sx_add_field,
        sx_add_kind,
        sx_lines,
        sx_lines_scanned,
        sx_scan_lines,
        sx_scanner,
        sx_texts_again,
    )
else:
    SX_INT, SX_STR, SX_ENUM, SX_BOOL = 1, 2, 3, 4  # fastlines.pxd's kinds, unused uncompiled
if cython.compiled:  # profile ids tested against the replay's by length first (equal.pxd)
    from cython.cimports.sandex.views.equal import equal
else:
    from sandex.views.equal import equal
if cython.compiled:  # a trade's product found where its id led last (kept.pxd's version)
    from cython.cimports.sandex.views.kept import kept_version
from sandex.views.transfers import KINDS

# ``node`` below is a ``sandex.node.node.Node``, typed ``Any``: that module imports this one
Node = Any

CANCELED = DoneReason.CANCELED
_REPLAY = REPLAY_PROFILE_ID  # compiled: a C global (applying.pxd)
TRANSFER_EVENTS = frozenset(KINDS)  # what the transfers view is built from, and the commands
_TRANSFER_COMMANDS = frozenset({  # that give them (an advance settles the transfers due)
    StartTransfer, AdvanceClock, AddAddress, DeleteAddress, PutEntry})
_NODE_COMMANDS = frozenset({  # what the node applies itself, not the core
    CreateApiKey, RevokeApiKey, SetClock, SaveSnapshot, RestoreSnapshot, DeleteSnapshot,
    Takeover})
_VIA_APPLY = _NODE_COMMANDS | _TRANSFER_COMMANDS  # what a replay's run hands to ``apply``
# the event and command types a replay's run and ``_feed`` test each event and command
# against (compiled: C globals, applying.pxd, so each test is a pointer compare, not a
# module dict lookup with its reference taken and given back)
_K_RECEIVED, _K_DONE, _K_OPENED, _K_MATCHED, _K_LEDGER_ENTRY, _K_ACTIVATED = (
    Received, Done, Opened, Matched, LedgerEntry, Activated)
_K_PLACE, _K_CANCEL, _K_REJECTED, _K_DUPLICATE = PlaceOrder, CancelOrder, Rejected, Duplicate
_K_CANCELED = DoneReason.CANCELED
# where a Matched's first 13 fields (what the views read) are stored, in their order
# (compiled: C integers, applying.pxd)
_MATCHED = tuple(offset(Matched, name) for name in Matched.__struct_fields__[:13])
# and the fields of a ``Received`` and a ``Done`` the orders view reads
_RECEIVED_ORDER_ID, _RECEIVED_PROFILE_ID = (
    offset(Received, "order_id"), offset(Received, "profile_id"))
_DONE_REASON, _DONE_ORDER_ID, _DONE_PROFILE_ID = (
    offset(Done, "reason"), offset(Done, "order_id"), offset(Done, "profile_id"))
# a replay's run empties its sink's notes once it has read more than this many (compiled: a
# C integer, applying.pxd): their list's memory is kept in between
_NOTES_KEPT = 4096
# and the time of the two commonest commands (a replay's run reads it)
_PLACE_TIME, _CANCEL_TIME = offset(PlaceOrder, "time"), offset(CancelOrder, "time")
# and their order and profile ids: compiled, a run prefetches the probes of the engine's
# order index (``Engine._live``) and of the orders view's dict of the profile by the order
# ids of the next four commands (``ahead``, applying.pxd), a step of each probe a command,
# ``_AHEAD`` commands apart (measured: 1 better than 2; docs/performance.md, recovery's
# twenty-fourth pass); 0: none
_PLACE_ID, _CANCEL_ID = offset(PlaceOrder, "order_id"), offset(CancelOrder, "order_id")
_PLACE_PROFILE, _CANCEL_PROFILE = (
    offset(PlaceOrder, "profile_id"), offset(CancelOrder, "profile_id"))
_AHEAD = 1
# compiled: the last trade's product id and product, and the engine's ``products``' version
# then (C globals, applying.pxd): a trade of that product, the dict unchanged, finds it
# without a probe (``_feed``)
_KEPT_PRODUCT_ID: Any = None
_KEPT_PRODUCT: Any = None
_KEPT_PRODUCTS = 0


def _slotted(type_: type) -> bool:
    """Compiled: whether instances of ``type_`` can be built and freed by their slots
    (``slots.buildable`` accepts the type and its fields' slots fill its instances exactly);
    uncompiled, False."""
    if cython.compiled:
        try:
            buildable(type_)
            at = sorted([offset(type_, name) for name in type_.__struct_fields__])
        except TypeError:
            return False
        return at == list(range(object.__basicsize__, type_.__basicsize__, calcsize("P")))
    return False


def _freed_by_slots(type_: type) -> bool:
    """Compiled: ``type_``'s instances freed by one pass over their slots (``slots.free_fast``,
    as the core's hot events are) if ``_slotted``; else (and uncompiled) False, msgspec's
    dealloc stays."""
    if cython.compiled and _slotted(type_):
        free_fast(type_)
        return True
    return False


# the two commonest commands, decoded by a replay a chunk at a time and freed with it
COMMANDS_FREED_BY_SLOTS = _freed_by_slots(PlaceOrder) and _freed_by_slots(CancelOrder)


def _field_kind(kind: Any) -> tuple[int, bool, tuple[bytes, ...], tuple[Any, ...]] | None:
    """How ``fastlines`` decodes a field of msgspec type ``kind``: its C kind, whether None
    is allowed, and an enum's values and members; ``None``: it does not (msgspec does)."""
    nullable = False
    if isinstance(kind, msgspec.inspect.UnionType) and len(kind.types) == 2 and isinstance(
            kind.types[1], msgspec.inspect.NoneType):
        kind, nullable = kind.types[0], True
    if isinstance(kind, msgspec.inspect.IntType):
        if (kind.gt, kind.ge, kind.lt, kind.le, kind.multiple_of) == (None,) * 5:
            return SX_INT, nullable, (), ()
    elif isinstance(kind, msgspec.inspect.StrType):
        if (kind.min_length, kind.max_length, kind.pattern) == (None,) * 3:
            return SX_STR, nullable, (), ()
    elif isinstance(kind, msgspec.inspect.BoolType):
        return SX_BOOL, nullable, (), ()
    elif isinstance(kind, msgspec.inspect.EnumType):
        members = tuple(kind.cls)
        if 0 < len(members) <= 8 and all(type(m.value) is str and m.value.isascii()
                                         for m in members):
            return SX_ENUM, nullable, tuple(m.value.encode() for m in members), members
    return None


def _fast_kind(type_: type) -> bool:
    """Compiled: ``type_``'s records decoded by ``fastlines`` (``decode_lines``) when they
    have the shape it reads, if the type is built from its slots (``_slotted``), tagged in
    the ``command`` field, and every field is one ``_field_kind`` reads with no default
    factory; else (and uncompiled) False: msgspec decodes them."""
    if cython.compiled and _slotted(type_):
        info = msgspec.inspect.type_info(type_)
        if (not isinstance(info, msgspec.inspect.StructType) or info.array_like
                or info.tag_field != "command" or not isinstance(info.tag, str)):
            return False
        fields = [(f, _field_kind(f.type)) for f in info.fields]
        if len(fields) > 24 or any(kind is None or f.default_factory is not msgspec.NODEFAULT
                                   for f, kind in fields):
            return False
        index = sx_add_kind(type_, info.tag.encode())
        for f, kind in fields:
            assert kind is not None
            sx_add_field(index, f.encode_name.encode(), kind[0], kind[1],
                         offset(type_, f.name), f.required,
                         None if f.required else f.default, kind[2], kind[3])
        return True
    return False


# the two commonest commands' records decoded in C (compiled), the rest by msgspec
COMMANDS_DECODED_IN_C = _fast_kind(PlaceOrder) and _fast_kind(CancelOrder)


# the scanner the journal reader's thread runs over a chunk read ahead (``fastlines``'
# ``sx_scan_chunk`` in a capsule: ``sandex.journal.reader.use_scanner``), so that a replay's
# thread only builds the objects (``decode_lines``' ``scan``); None: none (uncompiled)
SCANNER: object = None
if cython.compiled and COMMANDS_DECODED_IN_C:
    SCANNER = sx_scanner()


def scan_lines(lines: bytes) -> bytes | None:
    """What ``SCANNER`` writes of ``lines`` (a chunk's records joined by newlines) on the
    journal reader's thread: ``decode_lines``' ``scan`` (for tests); None uncompiled."""
    if cython.compiled and COMMANDS_DECODED_IN_C:
        return sx_scan_lines(lines)  # type: ignore[no-any-return]
    return None


def texts_again() -> None:
    """Compiled, every string field of the commands decoded in C looks its texts up again
    (``fastlines``' ``sx_texts``: a field whose texts were rarely found stops for a while),
    each from a fresh trial; for tests (a decode's strings are equal either way)."""
    if cython.compiled and COMMANDS_DECODED_IN_C:
        sx_texts_again()


def decode_lines(lines: bytes, scan: bytes | None = None,
                 spare: list[Any] | None = None) -> list[Any]:
    """The commands of format 2 records joined by newlines (``codec.decode_lines``, what a
    replay decodes a chunk at a time): compiled, a ``PlaceOrder``'s and a ``CancelOrder``'s
    in the shape msgspec writes them built in C from their slots (``fastlines.pxd``), any
    other line by msgspec (``codec.decode``); ``msgspec.DecodeError`` if a line is not a
    command. ``scan``: the lines' records as ``SCANNER`` wrote them (on the journal reader's
    thread), each line's fields found and integers parsed; the same commands, built from
    them. ``spare``: the last chunk's commands, applied and held by nothing else (a
    replay's); compiled with ``scan``, a command of theirs that only the list holds is
    taken out (its place there None) and refilled as one of these, where one would be
    allocated (and that one freed with the list). Uncompiled, ``codec.decode_lines``."""
    if cython.compiled and COMMANDS_DECODED_IN_C:
        if scan is not None:
            return sx_lines_scanned(  # type: ignore[no-any-return]
                lines, scan, _decode_record, spare)
        return sx_lines(lines, _decode_record)  # type: ignore[no-any-return]
    return _decode_lines(lines)


class TimeOutOfOrder(AssertionError):
    """A command stamped no later than the last one applied: a caller's bug (see ``stamp``)."""


def apply(node: Node, command: Command) -> list[Event]:
    """Apply ``command`` to ``node``'s memory only (replay, and the first half of
    ``Node.execute``).

    Raises ``TimeOutOfOrder`` (changing nothing) if ``command`` is stamped no later than
    the last command applied.
    """
    time = command.time
    if time <= node._applied_time:
        raise _out_of_order(command, node._applied_time)
    node._applied_time = time
    if time > node._last_time:
        node._last_time = time
    kind = type(command)
    if kind in _NODE_COMMANDS:  # one test for the core's commands
        answer: list[Event]  # the node's own: Node._apply_key, _set_clock, _snapshot_command
        if kind is CreateApiKey or kind is RevokeApiKey:
            answer = node._apply_key(command)
        elif kind is SetClock:
            answer = node._set_clock(command)
        elif kind is SaveSnapshot or kind is RestoreSnapshot or kind is DeleteSnapshot:
            answer = node._snapshot_command(command)
        else:  # Takeover
            node.epoch = command.epoch  # type: ignore[attr-defined]
            answer = [TookOver(time, command.epoch, command.node)]  # type: ignore[attr-defined]
        return answer
    engine = node.engine
    events: list[Event] = engine.apply(command)
    if kind is AdvanceClock:
        node.clock.reach(time)
    _feed(node, engine, node.orders, events)
    if kind in _TRANSFER_COMMANDS:  # one test per command: the order path pays no more
        transfers = node.transfers
        for event in events:
            if type(event) in TRANSFER_EVENTS:
                transfers.on_event(event)
    return events


def _out_of_order(command: Command, applied: int) -> TimeOutOfOrder:
    """The refusal of ``command``, stamped no later than the last command ``applied``."""
    return TimeOutOfOrder(f"{type(command).__name__} stamped {command.time}, not after the "
                          f"last command applied ({applied})")


def _feed(node: Node, engine: Any, orders: OrdersView, events: list[Event],
          market: MarketView | None = None, ledger: LedgerView | None = None,
          fills: FillsView | None = None) -> None:
    """The read models fed a core command's ``events``, in one pass (most are ``Received``,
    ``Done``, ``Opened``); the transfers view apart (``apply``). The market, ledger and
    fills views are the node's, given by a replay's run (else read from the node)."""
    for event in events:
        event_kind = type(event)
        if event_kind is _K_RECEIVED:  # the two fields the view reads (compiled: slots)
            if cython.compiled:
                order_id = field(event, _RECEIVED_ORDER_ID)
                profile_id = field(event, _RECEIVED_PROFILE_ID)
            else:
                order_id, profile_id = event.order_id, event.profile_id  # type: ignore[attr-defined]
            orders.on_received(order_id, profile_id)
        elif event_kind is _K_DONE:
            if cython.compiled:
                if field(event, _DONE_REASON) is _K_CANCELED:
                    orders.on_cancel(field(event, _DONE_ORDER_ID),
                                     field(event, _DONE_PROFILE_ID))
            elif event.reason is _K_CANCELED:  # type: ignore[attr-defined]
                orders.on_cancel(event.order_id, event.profile_id)  # type: ignore[attr-defined]
        elif event_kind is _K_OPENED:
            continue
        elif event_kind is _K_MATCHED:
            # its fields read once for the three views: compiled, straight from its slots
            if cython.compiled:
                (time, product_id, _sequence, trade_id, maker_order_id, taker_order_id,
                 maker_profile_id, taker_profile_id, side, price, size, maker_fee,
                 taker_fee) = (
                    field(event, _MATCHED[0]), field(event, _MATCHED[1]),
                    field(event, _MATCHED[2]), field(event, _MATCHED[3]),
                    field(event, _MATCHED[4]), field(event, _MATCHED[5]),
                    field(event, _MATCHED[6]), field(event, _MATCHED[7]),
                    field(event, _MATCHED[8]), field(event, _MATCHED[9]),
                    field(event, _MATCHED[10]), field(event, _MATCHED[11]),
                    field(event, _MATCHED[12]))
            else:
                (time, product_id, _sequence, trade_id, maker_order_id, taker_order_id,
                 maker_profile_id, taker_profile_id, side, price, size, maker_fee,
                 taker_fee) = astuple(event)[:13]
            if market is None or ledger is None or fills is None:
                market, ledger, fills = node.market, node.ledger, node.fills
            market.on_trade(product_id, trade_id, time, price, size, side)
            # a replayed trade (both sides the replay's): no fills, no ledger (no one can
            # read the replay's)
            if not (equal(maker_profile_id, _REPLAY) and equal(taker_profile_id, _REPLAY)
                    if cython.compiled
                    else maker_profile_id == _REPLAY and taker_profile_id == _REPLAY):
                if cython.compiled and type(engine) is Engine:  # its C field
                    global _KEPT_PRODUCT_ID, _KEPT_PRODUCT, _KEPT_PRODUCTS
                    products = cython.cast(Engine, engine).products
                    if (product_id is _KEPT_PRODUCT_ID and _KEPT_PRODUCTS != 0
                            and kept_version(products) == _KEPT_PRODUCTS):
                        product = _KEPT_PRODUCT
                    else:
                        product = products[product_id]
                        _KEPT_PRODUCT_ID, _KEPT_PRODUCT = product_id, product
                        _KEPT_PRODUCTS = kept_version(products)
                else:
                    product = engine.products[product_id]
                ledger.on_trade(event, maker_profile_id,  # type: ignore[arg-type]
                                taker_profile_id, product)
                fills.on_trade(trade_id, product_id, maker_order_id, taker_order_id,
                               maker_profile_id, taker_profile_id, side, price, size,
                               maker_fee, taker_fee, time)
        elif event_kind is _K_LEDGER_ENTRY:
            if ledger is None:
                ledger = node.ledger
            ledger.on_entry(event)  # type: ignore[arg-type]
        elif event_kind is _K_ACTIVATED:
            orders.on_order(event)  # type: ignore[arg-type]


@cython.locals(count=cython.Py_ssize_t, i=cython.Py_ssize_t)
def _noted(orders: OrdersView, notes: list[Any], seen: int) -> int:
    """The orders view fed what a replay's engine noted (``sandex.core.sink``) after the
    first ``seen`` notes, in place of a command's ``Received`` and canceled ``Done`` events,
    in their order, as ``_feed`` feeds those events; where the notes end now."""
    count = len(notes)
    i = seen
    while i < count:
        order = notes[i]
        if order is None:  # canceled: its order follows
            orders.on_noted_cancel(notes[i + 1])
            i += 2
        else:  # received
            orders.on_noted(order)
            i += 1
    return count


@cython.locals(orders=OrdersView, core=Engine, position=cython.longlong,
               start=cython.longlong, events=list, market=MarketView, ledger=LedgerView,
               fills=FillsView, sink=Sink, notes=list, seen=cython.Py_ssize_t, kept=list,
               rank=cython.Py_ssize_t, ahead_commands=list)
def apply_run(node: Node, commands: Sequence[Command], position: int
              ) -> tuple[int, Event] | None:
    """Apply ``commands`` (a replay's chunk, the first at journal ``position``) to ``node``,
    as ``apply`` of each. At the first refused (``Rejected``, ``Duplicate``: the journal
    holds only what was accepted) stop, and return its position and refusal. ``None``: all
    applied. On return (or an exception) ``node.position`` is at the last command applied.

    The run keeps the node's times, position, engine and orders view in locals and puts
    them back in the node before a command that is not a plain core one (``apply`` runs
    it: the node's own commands read and replace them) and when it ends. Compiled, the
    engine's ``apply`` is a C call when the engine is exactly an ``Engine`` (``core``; a
    wrapped one, as the fault tests make, is called by name).

    An exact ``Engine`` runs the plain core commands with a ``Sink`` (``sandex.core.sink``):
    it notes a ``Received``'s and a canceled ``Done``'s ids there instead of building those
    events and an ``Opened`` (no view reads one), and the orders view is fed the command's
    notes (``_noted``) before its other events (``_feed``); a place's and a cancel's events
    (few: a trade's, a refusal) go to one list the run keeps, where ``Engine.apply`` would
    make a new one. The commands ``apply`` runs see no sink (their events are fed there),
    nor does the live path (``Node.execute``)."""
    engine, orders = node.engine, node.orders
    market, ledger, fills = node.market, node.ledger, node.fills
    core = engine if type(engine) is Engine else None
    sink = Sink()
    notes, seen = sink.notes, 0  # the notes the orders view has read
    kept: list[Event] = []
    if core is not None:
        core._sink = sink
    applied, last = node._applied_time, node._last_time
    start = position
    ahead_commands = None  # compiled: the probes of the commands ahead prefetched (``ahead``)
    if cython.compiled and type(commands) is list and _AHEAD > 0:
        ahead_commands = commands
    try:
        for command in commands:
            if cython.compiled and ahead_commands is not None and core is not None \
                    and orders is not None:
                ahead(core._live, ahead_commands, position - start,  # noqa: F821
                      _AHEAD, _K_PLACE, _PLACE_ID, _K_CANCEL, _CANCEL_ID,
                      orders.by_profile,
                      _PLACE_PROFILE, _CANCEL_PROFILE)
            kind = type(command)
            if kind is _K_PLACE or kind is _K_CANCEL or kind not in _VIA_APPLY:
                if cython.compiled and kind is _K_PLACE:  # from its slot
                    time = field(command, _PLACE_TIME)
                elif cython.compiled and kind is _K_CANCEL:
                    time = field(command, _CANCEL_TIME)
                else:
                    time = command.time
                if cython.compiled:  # from the two ints' digits (``time_cmp``, applying.pxd)
                    rank = time_cmp(time, applied)  # noqa: F821
                    if rank == 2:
                        rank = 1 if time > applied else 0
                    if rank <= 0:
                        raise _out_of_order(command, applied)
                    if last is applied:  # the latest seen is the last applied (most runs:
                        last = time      # both the last command's): ``time`` is after it
                    else:
                        rank = time_cmp(time, last)  # noqa: F821
                        if rank == 2:
                            rank = 1 if time > last else 0
                        if rank > 0:
                            last = time
                    applied = time
                else:
                    if time <= applied:
                        raise _out_of_order(command, applied)
                    applied = time
                    if time > last:
                        last = time
                if core is not None:
                    if kind is _K_PLACE or kind is _K_CANCEL:  # ``Engine.apply``'s two,
                        if kept:  # their events in the run's one list (no list a command)
                            if cython.compiled:  # its memory kept (applying.pxd)
                                list_empty(kept)  # noqa: F821
                            else:
                                del kept[:]
                        core._events = events = kept
                        if kind is _K_PLACE:
                            core._place(command)  # type: ignore[arg-type]
                        else:
                            core._cancel_order(command)  # type: ignore[arg-type]
                    else:
                        events = core.apply(command)
                    if len(notes) != seen:
                        seen = _noted(orders, notes, seen)
                        if seen > _NOTES_KEPT:  # read: their memory kept for the next
                            del notes[:]
                            seen = 0
                else:
                    events = engine.apply(command)
                if events:
                    _feed(node, engine, orders, events, market, ledger, fills)
            else:  # the node's own, the transfer ones, AdvanceClock
                if orders is not None and orders._deferred:  # its orders put before it
                    orders.settle(False)                    # runs (``OrdersView.defer``)
                node._applied_time, node._last_time = applied, last
                if position != start:
                    node.position = position - 1
                if core is not None:  # ``apply`` feeds its events: none noted
                    core._sink = None
                events = apply(node, command)
                applied, last = node._applied_time, node._last_time
                engine, orders = node.engine, node.orders
                market, ledger, fills = node.market, node.ledger, node.fills
                core = engine if type(engine) is Engine else None
                if core is not None:
                    core._sink = sink
            if events:
                event_kind = type(events[0])
                if event_kind is _K_REJECTED or event_kind is _K_DUPLICATE:
                    return position, events[0]
            position += 1
        return None
    finally:
        if core is not None:  # the live path's engine builds every event
            core._sink = None
        node._applied_time, node._last_time = applied, last
        if position != start:
            node.position = position - 1
