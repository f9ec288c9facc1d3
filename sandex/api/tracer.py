"""What each journaled command did, noted in test mode for the traces (``sandex.api.rest.trace``).

Installed only when the venue keeps traces (``[testing] request_ids``): then the node hands
every command it journals to ``applied`` (and, for a request, how long its reply waited for
the group commit to ``committed``), the feed reports each frame it queues or withholds while
it fans out that command's events (``delivered``), and the fault rules report each firing
(``fired``). Outside test mode none of it exists: the node and the feed test one attribute.

A command a REST request made joins that request's notes (``CURRENT``, set by the gateway
for the request's task); one no request made (a GTT expiry, the demo's ticks, an injected
command, an engine fault's window) is kept in a ring of its own if it touched an order, for
the per-order view. What one command keeps is capped: its first ``EVENTS_MAX`` order events
(the rest counted), its first ``FIRINGS_MAX`` feed fault firings (likewise), one feed row per
channel and message type.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sandex.core import (
    Activated,
    Changed,
    Command,
    Done,
    Event,
    Matched,
    Opened,
    PlaceOrder,
    Received,
    Side,
)
from sandex.core.holds import hold_rate, limit_buy_hold
from sandex.faults import faults_of
from sandex.node import Node, Restored
from sandex.node.kinds import profile_kinds
from sandex.timefmt import iso
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, SIZE_TO_AMOUNT, format_trimmed

EVENTS_MAX = 50
"""Order events kept per command (a cancel-all of many orders: the rest are counted)."""
FIRINGS_MAX = 20
"""Feed fault firings kept per command (one per connection a rule hit; the rest counted)."""
UNREQUESTED_MAX = 10_000
"""Commands no request made that touched an order (expiry, demo, inject), kept in a ring."""
_PENDING_MAX = 10_000  # commands applied whose events the feed has not seen yet (a safety cap)

_ORDER_EVENTS = frozenset({Received, Opened, Done, Matched, Changed, Activated})


class RequestNotes:
    """What one REST request met beyond its answer: its commands, fault firings, holds."""

    __slots__ = ("commands", "faults", "gate", "reply_hold")

    def __init__(self) -> None:
        self.commands: list[CommandNote] = []
        self.faults: list[dict[str, Any]] | None = None  # made on the first firing
        self.gate: dict[str, Any] | None = None
        self.reply_hold: dict[str, Any] | None = None


CURRENT: ContextVar[RequestNotes | None] = ContextVar("sandex_request_notes", default=None)
"""The notes of the REST request running in this task (``None``: no traced request)."""


class CommandNote:
    """One journaled command: where it went and what it did."""

    __slots__ = ("command", "commit_ms", "events", "events_more", "feed", "feed_faults",
                 "feed_faults_more", "hold", "orders", "position", "profile_id", "time")

    def __init__(self, command: Command, events: list[Event], position: int,
                 hold: tuple[str, int | None, int] | None) -> None:
        self.command = type(command).__name__
        self.time: int = command.time
        self.profile_id: str | None = getattr(command, "profile_id", None)
        self.position = position
        kept = [event for event in events if type(event) in _ORDER_EVENTS]
        # a tuple of structs the collector does not track: a kept note costs it little
        self.events = tuple(kept[:EVENTS_MAX])
        self.events_more = len(kept) - len(self.events)
        self.orders = frozenset(_order_ids(kept))
        self.hold = hold
        self.commit_ms: float | None = None
        # (channel, type) -> [sent, withheld]; the firings of feed rules: made on first use
        self.feed: dict[tuple[str, str], list[int]] | None = None
        self.feed_faults: list[dict[str, Any]] | None = None
        self.feed_faults_more = 0

    def json(self, kind: Callable[[str], str]) -> dict[str, Any]:
        return {"command": self.command, "time": iso(self.time), "position": self.position,
                "commit_wait_ms": self.commit_ms, "hold": _hold_json(self.hold),
                "events": [event_json(event, kind) for event in self.events],
                "events_more": self.events_more,
                "fills": self._fills(kind),
                "feed": [{"channel": channel, "type": type_, "sent": counts[0],
                          "withheld": counts[1]}
                         for (channel, type_), counts in (self.feed or {}).items()],
                "feed_faults": self.feed_faults or [],
                "feed_faults_more": self.feed_faults_more}

    def _fills(self, kind: Callable[[str], str]) -> list[dict[str, Any]]:
        """Each fill of the command's own profile, with its counterparty."""
        mine = self.profile_id
        fills = []
        for event in self.events:
            if type(event) is not Matched:
                continue
            match: Any = event
            taker = match.taker_profile_id == mine
            if not taker and match.maker_profile_id != mine:
                continue
            other = match.maker_profile_id if taker else match.taker_profile_id
            fills.append({
                "trade_id": match.trade_id,
                "order_id": match.taker_order_id if taker else match.maker_order_id,
                "liquidity": "taker" if taker else "maker",
                "price": format_trimmed(match.price, PRICE_DECIMALS),
                "size": format_trimmed(match.size, PRICE_DECIMALS),
                "counterparty_order_id": match.maker_order_id if taker else match.taker_order_id,
                "counterparty_kind": kind(other)})
        return fills


class Tracer:
    """The node's tracer (``Node.tracer``) and the fault rules' firing hook of one venue."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.kinds = profile_kinds(node)
        self.unrequested: deque[CommandNote] = deque(maxlen=UNREQUESTED_MAX)
        self.feeding: CommandNote | None = None  # the command whose frames the feed fans out
        self._pending: dict[int, CommandNote] = {}  # id(events) -> note, until the feed saw it
        node.tracer = self
        faults_of(node).on_fire = self.fired

    # -- the node's side -----------------------------------------------------------------------
    def applied(self, command: Command, events: list[Event], position: int) -> CommandNote:
        note = CommandNote(command, events, position, self._hold(command, events))
        notes = CURRENT.get()
        if notes is not None:
            notes.commands.append(note)
        elif note.orders:
            self.unrequested.append(note)
        pending = self._pending
        if len(pending) >= _PENDING_MAX:  # a feed that never saw them (a stopped node)
            pending.clear()
        pending[id(events)] = note  # the same list reaches the listeners once durable
        return note

    def committed(self, note: CommandNote, waited_s: float) -> None:
        note.commit_ms = round(waited_s * 1000, 3)

    def _hold(self, command: Command, events: list[Event]) -> tuple[str, int | None, int] | None:
        """The hold a placed order took (currency, amount placed, what is left after its
        fills), or ``None``."""
        if type(command) is not PlaceOrder or type(events[0]) is not Received:
            return None
        engine = self.node.engine
        product = engine.products[command.product_id]
        order = engine.orders.get(command.order_id)
        placed: int | None
        if command.side is Side.SELL:
            currency = product.base_currency
            placed = command.size * SIZE_TO_AMOUNT if command.size is not None else None
        else:
            currency = product.quote_currency
            placed = command.funds if command.funds is not None else \
                _limit_buy_hold(engine, command)
        return currency, placed, order.hold if order is not None else 0

    # -- the feed's side -----------------------------------------------------------------------
    def watch(self, listener: Callable[[list[Event]], None]) -> Callable[[list[Event]], None]:
        """``listener`` (the feed's), with the frames it queues counted for each command."""
        pending = self._pending

        def traced(events: list[Event]) -> None:
            note = pending.pop(id(events), None)
            if note is None and events and type(events[0]) is Restored:
                pending.clear()
            self.feeding = note
            try:
                listener(events)
            finally:
                self.feeding = None

        return traced

    def delivered(self, channel: str, type_: str, sent: bool) -> None:
        """One frame of the command being fanned out, queued for a connection or not (a
        fault rule dropped or held it, or the connection's queue was full)."""
        note = self.feeding
        if note is None:
            return
        feed = note.feed
        if feed is None:
            feed = note.feed = {}
        counts = feed.get((channel, type_))
        if counts is None:
            counts = feed[channel, type_] = [0, 0]
        counts[0 if sent else 1] += 1

    # -- the fault rules' side -----------------------------------------------------------------
    def fired(self, entry: dict[str, Any]) -> None:
        """A rule fired: a ``rest`` rule on the request running, a ``feed`` rule on a frame of
        the command being fanned out."""
        layer = entry["layer"]
        if layer == "rest":
            notes = CURRENT.get()
            if notes is not None:
                if notes.faults is None:
                    notes.faults = []
                notes.faults.append({"rule": entry["rule"], "action": entry["action"]})
        elif layer == "feed" and (note := self.feeding) is not None:
            if note.feed_faults is None:
                note.feed_faults = []
            if len(note.feed_faults) < FIRINGS_MAX:
                note.feed_faults.append({"rule": entry["rule"], "action": entry["action"],
                                         "connection": entry.get("connection"),
                                         "channel": entry.get("channel")})
            else:
                note.feed_faults_more += 1

    def clear(self) -> None:
        """Forget the unrequested commands (a restore)."""
        self.unrequested.clear()


def _hold_json(hold: tuple[str, int | None, int] | None) -> dict[str, str | None] | None:
    if hold is None:
        return None
    currency, placed, left = hold
    return {"currency": currency, "amount": _units(placed, AMOUNT_DECIMALS),
            "left": _units(left, AMOUNT_DECIMALS)}


def _limit_buy_hold(engine: Any, command: PlaceOrder) -> int | None:
    if command.size is None or command.price is None:
        return None
    profile = engine.profiles[command.profile_id]
    return limit_buy_hold(command.size, command.price,
                          hold_rate(profile.maker_rate, profile.taker_rate))


def _order_ids(events: list[Event]) -> list[str]:
    ids: list[str] = []
    for event in events:
        if type(event) is Matched:
            ids.append(event.maker_order_id)
            ids.append(event.taker_order_id)
        else:
            ids.append(event.order_id)  # type: ignore[attr-defined]
    return ids


def _units(value: int | None, decimals: int = PRICE_DECIMALS) -> str | None:
    return None if value is None else format_trimmed(value, decimals)


def event_json(event: Event, kind: Callable[[str], str]) -> dict[str, Any]:
    """One order event as a trace shows it: prices and sizes as decimal strings, amounts
    (funds) likewise, each profile as its kind."""
    e: Any = event
    event_type = type(event)
    if event_type is Matched:
        return {"type": "match", "trade_id": e.trade_id, "maker_order_id": e.maker_order_id,
                "taker_order_id": e.taker_order_id, "side": e.side.value,
                "price": _units(e.price), "size": _units(e.size),
                "maker_kind": kind(e.maker_profile_id), "taker_kind": kind(e.taker_profile_id)}
    out: dict[str, Any] = {"type": _TYPES[event_type], "order_id": e.order_id,
                           "side": e.side.value, "kind": kind(e.profile_id)}
    if event_type is Received:
        out.update(order_type=e.order_type.value, price=_units(e.price), size=_units(e.size),
                   funds=_units(e.funds, AMOUNT_DECIMALS), client_oid=e.client_oid)
    elif event_type is Opened:
        out.update(price=_units(e.price), remaining_size=_units(e.remaining_size))
    elif event_type is Done:
        out.update(reason=e.reason.value, price=_units(e.price),
                   remaining_size=_units(e.remaining_size),
                   cancel_reason=e.cancel_reason.value if e.cancel_reason else None)
    elif event_type is Changed:
        out.update(price=_units(e.price), old_size=_units(e.old_size),
                   new_size=_units(e.new_size), reason=e.reason)
    else:  # Activated
        out.update(stop_type=e.stop_type.value, stop_price=_units(e.stop_price),
                   price=_units(e.price), size=_units(e.size))
    return out


_TYPES = {Received: "received", Opened: "open", Done: "done", Changed: "change",
          Activated: "activate"}
