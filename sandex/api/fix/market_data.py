"""The market data gateways: level 3 (order by order) and trades, as Coinbase's FIX feed.

Two listeners share this class: with snapshots (6131: a MarketDataSnapshotFullRefresh ``W``
when a symbol is subscribed, then increments) and without (6132: increments only; clients
take ``GET /products/{id}/book?level=3`` and drop increments whose RptSeq is not above its
``sequence``). RptSeq(83) is the product's feed sequence: the same counter as the WebSocket
feed's ``sequence`` and the REST book's.

Requests: SecurityListRequest ``x`` -> SecurityList ``y`` (every product); MarketDataRequest
``V`` (``263=1`` subscribe, ``2`` unsubscribe; ``146`` group of ``55``) -> ``W`` per symbol,
or MarketDataRequestReject ``Y`` (``281=0`` unknown symbol, ``1`` duplicate MDReqID).
Increments ``X`` (one entry each) come from the node's listener, so from durable commands
only: ``received`` 279=0 without 278 (with 37, 40); ``open`` 279=0; ``match`` 269=2 (278 the
maker, 37 the taker, 5797 the aggressor side, 1003); ``done`` 279=2 with ``58=FILLED`` or
``CANCELED``; ``change`` 279=1 ``58=CHANGE_REASON_STP``. Any other request: ``j`` 380=2.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from sandex.api.clocks import SignatureClock
from sandex.api.fix.codec import Message, Rendered
from sandex.api.fix.framing import L3, Item, Outbound, Sending, fan_out
from sandex.api.fix.levels import Level, Levels
from sandex.api.fix.logon import Identity, LogonSpec, Refusal, check_logon
from sandex.api.fix.reports import Body, amt, px, transact_time
from sandex.api.fix.session import Session, State
from sandex.api.order_request import product_id_of
from sandex.auth.keys import Permission
from sandex.core import (
    Changed,
    Done,
    Event,
    Matched,
    Opened,
    OrderType,
    ProductUpdated,
    Received,
    Side,
)
from sandex.core.model import DoneReason
from sandex.errors import Error
from sandex.node import Node
from sandex.node.node import NodeStopped

log = logging.getLogger("sandex.fix")

SPEC = LogonSpec(max_heartbeat=300, permission=Permission.VIEW, order_entry=False)
SIDE = {Side.BUY: "0", Side.SELL: "1"}  # MDEntryType: bid, offer
AGGRESSOR = {Side.BUY: "2", Side.SELL: "1"}  # by the maker's side: the taker is the other
TRADING_STATUS = {"online": "full_trading", "post_only": "post_only",
                  "limit_only": "limit_only", "cancel_only": "cancel_only",
                  "disabled": "trading_disabled"}
CHANGE_REASONS = {"modify_order": "CHANGE_REASON_MODIFY_ORDER",
                  "remainder_after_modification": "CHANGE_REASON_REMAINDER_AFTER_MODIFICATION"}
SNAPSHOT_PAGE = 1000  # entries per W message (GUESS)


class Snapshot(NamedTuple):
    """A product's snapshot for one session, as read: the subscription it answers, the
    RptSeq it covers, its W bodies (without the MDReqID, put in front when sent)."""

    symbol: str
    subscription: list[Any]
    sequence: int
    bodies: list[Body]
ACTIVE = State.ACTIVE


class MarketData:
    limits = False

    def __init__(self, node: Node, signatures: SignatureClock, wall: Callable[[], float],
                 snapshots: bool) -> None:
        self.node = node
        self.signatures = signatures
        self.wall = wall
        self.snapshots = snapshots
        self.sessions: dict[str, Session] = {}
        # product id -> session -> (MDReqID, the RptSeq its snapshot covered)
        self.subscribers: dict[str, dict[Session, list[Any]]] = {}
        self.levels: dict[str, Levels] = {}  # products with level-2 subscribers
        self._tasks: set[asyncio.Task[None]] = set()
        self._leads: dict[str, tuple[bytes, int]] = {}  # MDReqID -> its field and byte sum
        self._fanned: dict[str, int] = {}  # product id -> the last RptSeq handed to fan-out

    def authenticate(self, message: Message) -> Identity | Refusal:
        return check_logon(message, self.node.keys, SPEC, self.signatures())

    def admit(self, session: Session, identity: Identity) -> Refusal | None:
        return Refusal(Error.FIX_DUPLICATE_SESSION) if identity.key in self.sessions else None

    def outbound(self, key: str) -> Outbound:
        return Outbound()  # numbers always start over: Coinbase's MD has no resend

    def on_logon(self, session: Session) -> None:
        assert session.identity is not None
        self.sessions[session.identity.key] = session

    def on_close(self, session: Session) -> None:
        identity = session.identity
        assert identity is not None
        if self.sessions.get(identity.key) is session:
            del self.sessions[identity.key]
        for subscribed in self.subscribers.values():
            subscribed.pop(session, None)
        self._forget_levels()

    def on_rate_limited(self, session: Session, message: Message) -> None:
        self.on_message(session, message)

    def on_message(self, session: Session, message: Message) -> None:
        kind = message.msg_type
        if kind == "x":
            self._security_list(session, message)
        elif kind == "V":
            self._request(session, message)
        else:
            session.send("j", [(45, message.get(34) or "0"), (372, kind or "?"), (380, "2"),
                               (58, Error.FIX_UNSUPPORTED_TYPE.format())])

    def _security_list(self, session: Session, message: Message) -> None:
        request = message.get(320) or "0"
        products = sorted(self.node.engine.products.values(), key=lambda p: p.id)
        body: Body = [(320, request), (322, request), (560, "0"), (893, "Y"),
                      (393, str(len(products))), (146, str(len(products)))]
        for product in products:
            body += [(55, product.id), (1682, TRADING_STATUS.get(product.status.value,
                                                                  "full_trading")),
                     (15, product.quote_currency),
                     (562, amt(product.min_market_funds)),
                     (969, px(product.quote_increment)), (29003, px(product.base_increment))]
        session.send("y", body)

    def _request(self, session: Session, message: Message) -> None:
        request_id = message.get(262) or ""
        kind = message.get(263) or ""
        entries = message.group(146, frozenset({55})) or []
        symbols = [product_id_of(e.get(55)) or "" for e in entries]
        products = self.node.engine.products

        def reject(reason: str, text: str) -> None:
            session.send("Y", [(262, request_id or "0"), (281, reason), (58, text)])

        if not request_id or kind not in ("1", "2") or not symbols:
            reject("7", Error.FIX_MISSING_TAG.format(
                "MDReqID(262)" if not request_id else "SubscriptionRequestType(263)"
                if kind not in ("1", "2") else "NoRelatedSym(146)"))
            return
        unknown = [s for s in symbols if s not in products]
        if unknown:
            reject("0", Error.FEED_INVALID_PRODUCT.format(unknown[0]))
            return
        if kind == "2":
            for symbol in symbols:
                self.subscribers.get(symbol, {}).pop(session, None)
            self._forget_levels()
            return
        if any(sub[0] == request_id for subs in self.subscribers.values()
               for s, sub in subs.items() if s is session):
            reject("1", "Duplicate MDReqID")
            return
        mode, refusal = _mode(message)
        if refusal is not None:
            reject(*refusal)
            return
        new = [s for s in symbols if session not in self.subscribers.get(s, {})]
        for symbol in new:  # from now on increments queue behind the snapshot
            self.subscribers.setdefault(symbol, {})[session] = [request_id, None, mode]
        taken = [self._snapshot(session, symbol) for symbol in new]  # the state as it is now
        if self.node.in_flight:  # sent once all it shows is durable
            task = asyncio.get_running_loop().create_task(self._send_when_durable(session,
                                                                                  taken))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._send(session, taken)

    async def _send_when_durable(self, session: Session, taken: list[Snapshot]) -> None:
        """``taken`` sent once every command applied before it was read is durable (reading
        after the wait would let in what was applied between the wake-up and the read). A
        snapshot whose product's increments went out meanwhile (the session, not yet covered,
        skipped them) is read again, and waited for again if commands are in flight."""
        try:
            while True:
                await self.node.synced()
                fanned = self._fanned
                if all(fanned.get(s.symbol, 0) <= s.sequence for s in taken):
                    break
                taken = [self._snapshot(session, s.symbol)
                         if fanned.get(s.symbol, 0) > s.sequence and self._still(session, s)
                         else s for s in taken]
                if not self.node.in_flight:
                    break
        except NodeStopped:
            return  # nothing more is durable: the gateway closes its sessions
        self._send(session, taken)

    def _snapshot(self, session: Session, symbol: str) -> Snapshot:
        """``symbol``'s snapshot for ``session`` as the state is now: the RptSeq it covers and
        its W bodies (none for the gateway without snapshots, or trades only)."""
        product = self.node.engine.products[symbol]
        subscription = self.subscribers[symbol][session]
        mode = subscription[2]
        if mode != L3 and mode[0]:  # level 2
            levels = self.levels.get(symbol)
            if levels is None:
                levels = self.levels[symbol] = Levels(product.book, product.sequence)
            bodies = self._level2_snapshot(symbol, levels) if self.snapshots else []
            return Snapshot(symbol, subscription, levels.sequence, bodies)
        if not self.snapshots or mode != L3:  # trades only: no snapshot
            return Snapshot(symbol, subscription, product.sequence, [])
        bids, asks = product.book.level3()
        entries = [(side, [(278, order_id), (270, px(price)), (271, px(size))])
                   for side, rows in (("0", bids), ("1", asks))
                   for price, size, order_id in rows]
        return Snapshot(symbol, subscription, product.sequence,
                        _pages(symbol, product.sequence, entries))

    def _still(self, session: Session, snapshot: Snapshot) -> bool:
        """Whether ``snapshot``'s subscription is still the session's (not unsubscribed, or
        subscribed anew, or gone, meanwhile)."""
        return self.subscribers.get(snapshot.symbol, {}).get(session) is snapshot.subscription

    def _send(self, session: Session, taken: list[Snapshot]) -> None:
        """Each snapshot's W messages, MDReqID first; increments above its RptSeq follow."""
        for snapshot in taken:
            if not session.active or not self._still(session, snapshot):
                continue
            subscription = snapshot.subscription
            subscription[1] = snapshot.sequence  # increments at or below it are in it
            for body in snapshot.bodies:
                session.send("W", [(262, subscription[0]), *body])

    @staticmethod
    def _level2_snapshot(symbol: str, levels: Levels) -> list[Body]:
        """W bodies of the aggregated book: ``269``, ``270``, ``271``, ``346`` orders per
        level, as ``GET /products/{id}/book?level=2`` (bids best first, then offers)."""
        bids, asks = levels.sides()
        entries = [(side, [(270, px(price)), (271, px(size)), (346, str(count))])
                   for side, rows in (("0", bids), ("1", asks)) for price, size, count in rows]
        return _pages(symbol, levels.sequence, entries)

    def _forget_levels(self) -> None:
        """Stop following the books no level-2 subscriber watches any more."""
        for symbol in list(self.levels):
            if not any(sub[2] != L3 and sub[2][0]
                       for sub in self.subscribers.get(symbol, {}).values()):
                del self.levels[symbol]

    # -- increments (node listener: called once a command is durable) ---------------------
    def on_batch(self, batches: list[list[Event]]) -> None:
        """``on_events`` for a whole group commit (``sandex.node.Batched``): one test when
        no session subscribes."""
        if self.subscribers:
            self._fan_out([event for events in batches for event in events])

    def on_events(self, events: list[Event]) -> None:
        if self.subscribers:
            self._fan_out(events)

    def _fan_out(self, events: list[Event]) -> None:
        """Each event's entries encoded once (``_item``), then session by session its messages
        of all the events, framed with one SendingTime and written at once (``fan_out``)."""
        items = [item for item in map(self._item, events) if item is not None]
        if not items:
            return
        if len(items) == 1 or all(item[0] is items[0][0] for item in items):
            sessions = list(items[0][0])  # one product (the usual case)
        else:
            sessions = list(dict.fromkeys(s for item in items for s in item[0]))
        fan_out(sessions, items, Sending(self.wall()), self._leads, ACTIVE)

    def _item(self, event: Event) -> Item | None:
        """What ``event`` sends, encoded once for every session: its product's subscribers,
        its RptSeq (``None``: a SecurityStatus), its level-3 (or trade) entry, whether it is a
        trade, its level-2 entries; ``None`` if nobody subscribes to it."""
        product_id = getattr(event, "product_id", None)
        subscribed = self.subscribers.get(product_id) if product_id else None
        if not subscribed:
            return None
        if type(event) is ProductUpdated:
            product = self.node.engine.products.get(event.product_id)
            if product is None:
                return None
            status = Rendered.of([
                (55, product.id), (1682, TRADING_STATUS.get(event.status, "full_trading")),
                (969, px(product.quote_increment)), (29003, px(product.base_increment))])
            return (subscribed, None, (status.data, status.total), False, ())
        sequence = getattr(event, "sequence", None)
        if sequence is None:
            return None  # private: not on the public feed
        self._fanned[product_id] = sequence  # type: ignore[index]
        changed = None
        levels = self.levels.get(product_id)  # type: ignore[arg-type]
        if levels is not None and sequence > levels.sequence:
            levels.sequence = sequence
            changed = levels.apply(event)
        entry = _entry(event)
        level_bodies: tuple[tuple[bytes, int], ...] = ()
        if changed and levels is not None:
            level_bodies = tuple(_encoded([(268, "1"), *level_entry])
                                 for level_entry in _level_entries(event, changed, levels))
        return (subscribed, sequence, None if entry is None else _encoded([(268, "1"), *entry]),
                type(event) is Matched, level_bodies)


def _pages(symbol: str, sequence: int, entries: list[tuple[str, Body]]) -> list[Body]:
    """W bodies of a snapshot at RptSeq ``sequence``: ``entries`` (each its side, ``269``,
    and its fields) in pages of ``SNAPSHOT_PAGE``, ``893`` saying which is the last."""
    pages = [entries[i:i + SNAPSHOT_PAGE]
             for i in range(0, len(entries), SNAPSHOT_PAGE)] or [[]]
    bodies = []
    for number, page in enumerate(pages, 1):
        body: Body = [(83, str(sequence)), (893, "Y" if number == len(pages) else "N"),
                      (55, symbol), (268, str(len(page)))]
        for side, fields in page:
            body += [(269, side), *fields]
        bodies.append(body)
    return bodies


def _encoded(body: Body) -> tuple[bytes, int]:
    """``body``'s bytes and their byte sum, encoded once for every session (``fan_out``)."""
    rendered = Rendered.of(body)
    return rendered.data, rendered.total


def _mode(message: Message) -> tuple[Any, tuple[str, str] | None]:
    """What a MarketDataRequest asks for: ``L3`` (order by order with trades, Coinbase's
    default: no 266/267, or 266=N), else ``(book levels, trades)`` from AggregatedBook(266)=Y
    and the MDEntryTypes(267) group of 269 (0 bid, 1 offer, 2 trade); or, second, ``(281
    reason, text)`` for what sandex does not serve."""
    types = [e.get(269) or "" for e in message.group(267, frozenset({269})) or []]
    unknown = [t for t in types if t not in ("0", "1", "2")]
    if unknown:
        return None, ("8", Error.FIX_MD_ENTRY_TYPE.format(unknown[0]))
    wanted = set(types) or {"0", "1", "2"}
    book = bool(wanted & {"0", "1"})
    if book and message.get(266) != "Y":
        return L3, None
    if book and message.get(264) not in (None, "0"):
        return None, ("5", Error.FIX_MD_DEPTH.format(message.get(264)))
    return (book, "2" in wanted), None


def _level_entries(event: Event, changed: dict[Level, int], levels: Levels) -> list[Body]:
    """Level 2 entries of one event: per changed level 279 New/Change/Delete with its new
    size (271) and order count (346), RptSeq the event's."""
    out: list[Body] = []
    sequence = str(event.sequence)  # type: ignore[attr-defined]
    time = transact_time(event.time)  # type: ignore[attr-defined]
    product_id: str = event.product_id  # type: ignore[attr-defined]
    for level, before in changed.items():
        after = levels.size(level)
        if after == before:
            continue
        action = "2" if after == 0 else "0" if before == 0 else "1"
        body: Body = [(279, action), (269, "0" if level[0] else "1"), (83, sequence),
                      (55, product_id), (270, px(level[1])), (271, px(after))]
        body += [(346, str(levels.count(level) if after else 0)), (60, time)]
        out.append(body)
    return out


def _entry(event: Event) -> Body | None:
    """One MDIncGrp entry, fields in Coinbase's dictionary order."""
    kind = type(event)
    if kind is Received:
        assert isinstance(event, Received)
        body: Body = [(279, "0"), (269, SIDE[event.side]), (83, str(event.sequence)),
                      (55, event.product_id)]
        if event.price is not None:
            body.append((270, px(event.price)))
        if event.size is not None:
            body.append((271, px(event.size)))
        if event.funds is not None:
            body.append((29004, amt(event.funds)))
        body += [(60, transact_time(event.time)),
                 (40, "1" if event.order_type is OrderType.MARKET else "2"),
                 (37, event.order_id)]
        return body
    if kind is Opened:
        assert isinstance(event, Opened)
        return [(279, "0"), (269, SIDE[event.side]), (278, event.order_id),
                (83, str(event.sequence)), (55, event.product_id), (270, px(event.price)),
                (271, px(event.remaining_size)), (60, transact_time(event.time))]
    if kind is Matched:
        assert isinstance(event, Matched)
        return [(279, "0"), (269, "2"), (278, event.maker_order_id), (83, str(event.sequence)),
                (55, event.product_id), (270, px(event.price)), (271, px(event.size)),
                (60, transact_time(event.time)), (37, event.taker_order_id),
                (5797, AGGRESSOR[event.side]), (1003, str(event.trade_id))]
    if kind is Done:
        assert isinstance(event, Done)
        if event.sequence is None:
            return None  # a private cancel (an untriggered stop): not on the public feed
        body = [(279, "2"), (269, SIDE[event.side]), (278, event.order_id),
                (83, str(event.sequence)), (55, event.product_id)]
        if event.price is not None:
            body.append((270, px(event.price)))
        if event.remaining_size is not None:
            body.append((271, px(event.remaining_size)))
        body += [(60, transact_time(event.time)),
                 (58, "FILLED" if event.reason is DoneReason.FILLED else "CANCELED")]
        return body
    if kind is Changed:
        assert isinstance(event, Changed)
        if event.sequence is None:
            return None  # a modified untriggered stop: not on the public feed
        body = [(279, "1"), (269, SIDE[event.side]), (278, event.order_id),
                (83, str(event.sequence)), (55, event.product_id)]
        if event.price is not None:
            body.append((270, px(event.price)))
        if event.new_size is not None:
            body.append((271, px(event.new_size)))
        body += [(60, transact_time(event.time)), (58, CHANGE_REASONS.get(event.reason,
                                                                          "CHANGE_REASON_STP"))]
        return body
    return None
