"""The order-entry gateway: sessions per API key, FIX requests as node commands, reports.

Requests become the same commands REST sends (``parse_order`` builds them from a REST-shaped
body), so there is one venue: an order placed here is seen and can be canceled over REST
and the feed, and the other way round. Nothing is reported before its command is durable:
ExecutionReports come from the node's listener (called once a group commit is on disk), and
a refusal (which changes nothing and is not journaled) is answered at once.

Orders are stamped and applied when the node takes them, never earlier (a stamp must be
applied in the event-loop step that made it): the NewOrderSingles of one read are queued and
applied together one step later, in arrival order, with one wait for their group commit; the
orders a session sends while that batch is being written form the next batch, so a session
that pipelines its orders is never held behind an earlier order's fsync. Any other request
closes the queue, so requests still take effect in the order they arrived.

Who gets a report: the live session of the API key that placed the order (over any earlier
connection too), or that canceled or asked about it over FIX. GUESS, after Coinbase's
"ERs for orders placed in previous sessions are delivered to currently connected OE sessions".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from msgspec.structs import replace

from sandex.api.clocks import SignatureClock
from sandex.api.fee_tiers import FeeTier, tier_change
from sandex.api.fix.adoption import durable_track, pending_by_order, waits
from sandex.api.fix.codec import Message
from sandex.api.fix.framing import Outbound
from sandex.api.fix.logon import Identity, LogonSpec, Refusal, check_logon
from sandex.api.fix.reporter import Reporter
from sandex.api.fix.reports import (
    SIDES,
    Body,
    Track,
    transact_time,
)
from sandex.api.fix.requests import (
    ORDER_TAGS,
    UUID4,
    cl_ord_id,
    decimal_units,
    expire_time,
    order_body,
)
from sandex.api.fix.session import Session, State
from sandex.api.http import ApiError
from sandex.api.order_request import parse_order, product_id_of
from sandex.auth.keys import Permission
from sandex.core import (
    CancelAll,
    CancelOrder,
    Command,
    Duplicate,
    Event,
    ModifyOrder,
    PlaceOrder,
    Rejected,
    Status,
)
from sandex.core.model import DoneReason
from sandex.errors import Error
from sandex.node import Node
from sandex.node.node import NodeStopped

log = logging.getLogger("sandex.fix")

SPEC = LogonSpec(max_heartbeat=30, permission=Permission.TRADE, order_entry=True)
BATCH_MAX = 15  # orders per NewOrderBatch / OrderCancelBatch (Coinbase)
LOGONS_PER_S = 2  # per API key (Coinbase)
CANCEL_TAGS = frozenset({11, 37, 41, 55})
# Application messages Coinbase's order entry knows but sandex does not take (j, 380=2);
# any other type is not FIX at all here (Reject 373=11).
KNOWN_APP_TYPES = frozenset({"D", "F", "G", "H", "q", "U4", "U6", "8", "9", "j", "r", "U5",
                             "U7", "AH", "R", "S", "AI", "V", "W", "X", "Y", "x", "y", "f",
                             "AE", "AF", "AN", "AP", "BE"})
_OUR_TYPES = frozenset({"D", "F", "G", "H", "q", "U4", "U6"})
ACTIVE = State.ACTIVE


class OrderEntry(Reporter):
    """The gateway behind every order-entry session (``session.Gateway``)."""

    def __init__(self, node: Node, limits: bool, signatures: SignatureClock,
                 wall: Callable[[], float], fee_tiers: Sequence[FeeTier] = ()) -> None:
        self.node = node
        self.fee_tiers = fee_tiers  # the scenario's [[fee_tiers]], applied as REST does
        self.limits = limits
        self.signatures = signatures
        self.wall = wall
        self.sessions: dict[str, Session] = {}  # API key -> its live session
        self.outbounds: dict[str, Outbound] = {}
        self.tracks: dict[str, Track] = {}  # order id -> its FIX view, until done
        # orders placed by each live connection (those done are dropped now and then: every
        # reader looks them up in ``tracks``, which keeps an order until it is done)
        self.placed: dict[Session, set[str]] = {}
        self._queued: dict[Session, list[dict[int, str]]] = {}  # orders for the next step
        self._logons: dict[str, deque[float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Live orders from before this start that FIX may have placed (a ClOrdID-shaped
        # client_oid): the first session of their profile adopts them (``_inherit``).
        self.inherited: dict[str, set[str]] = {}
        for profile in node.engine.profiles.values():
            ids = {o.id for o in profile.live.values() if UUID4.fullmatch(o.client_oid or "")}
            if ids:
                self.inherited[profile.id] = ids

    # -- sessions ---------------------------------------------------------------------------
    def authenticate(self, message: Message) -> Identity | Refusal:
        return check_logon(message, self.node.keys, SPEC, self.signatures())

    def admit(self, session: Session, identity: Identity) -> Refusal | None:
        if self.limits:
            now = self.wall()
            recent = self._logons.setdefault(identity.key, deque())
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= LOGONS_PER_S:
                return Refusal(Error.FIX_LOGON_RATE)
            recent.append(now)
        if identity.key in self.sessions:
            return Refusal(Error.FIX_DUPLICATE_SESSION)
        if identity.profile_id not in self.node.engine.profiles:
            return Refusal(Error.INVALID_API_KEY)
        return None

    def outbound(self, key: str) -> Outbound:
        return self.outbounds.setdefault(key, Outbound())

    def on_logon(self, session: Session) -> None:
        assert session.identity is not None
        self.sessions[session.identity.key] = session
        self.placed[session] = set()
        if session.identity.profile_id in self.inherited:
            self._inherit(session)
            if session.identity.profile_id in self.inherited:  # a modify in flight
                self._spawn(self._inherit_later(session), session)
        log.info("FIX order entry: %s logged on from %s", session.identity.key, session.peer)

    def _inherit(self, session: Session) -> None:
        """Report on the live orders of the session's profile from before the venue started
        (GUESS, after Coinbase's "ERs for orders placed in previous sessions are delivered
        to currently connected OE sessions"); OrderCancelReplaceRequest still wants the
        connection that placed them.

        Each order is followed from its durable state: what a command in flight did to it
        (``Node.pending_events``: a fill, its end) is taken back out of its track, so that
        the reports of those events, once durable, count it once. An order a modify or a
        decrement in flight changed is left for a later commit (``_inherit_later``).
        """
        identity = session.identity
        assert identity is not None
        engine = self.node.engine
        pending = pending_by_order(self.node.pending_events())
        left = set()
        for order_id in self.inherited.pop(identity.profile_id, set()):
            order = engine.orders.get(order_id)
            if order is None or order_id in self.tracks:
                continue
            events = pending.get(order_id, [])
            if waits(events):
                left.add(order_id)
                continue
            quote = engine.products[order.product_id].quote_currency
            track = durable_track(order, identity.key, quote, events)
            if track is not None:
                self.tracks[order_id] = track
        if left:
            self.inherited[identity.profile_id] = left

    async def _inherit_later(self, session: Session) -> None:
        """``_inherit`` again after each commit while one of its orders waits."""
        assert session.identity is not None
        profile_id = session.identity.profile_id
        while profile_id in self.inherited:
            await self.node.synced()
            if not session.active:
                return
            self._inherit(session)

    def on_close(self, session: Session) -> None:
        identity = session.identity
        assert identity is not None
        if self.sessions.get(identity.key) is session:
            del self.sessions[identity.key]
        placed = self.placed.pop(session, set())  # still filled by the queued orders' batch
        queued = self._queued.pop(session, None) is not None
        log.info("FIX order entry: %s logged out%s", identity.key,
                 f" ({session.logout_text})" if session.logout_text else "")
        if identity.cancel_on_disconnect == "Y":
            self._spawn(self._cancel_profile(identity.profile_id))
        elif identity.cancel_on_disconnect == "S" and (placed or queued):
            self._spawn(self._cancel_each(identity.profile_id, placed))  # after that batch

    async def _cancel_profile(self, profile_id: str) -> None:
        node = self.node
        await node.execute(CancelAll(time=node.stamp(), profile_id=profile_id))

    async def _cancel_each(self, profile_id: str, order_ids: set[str]) -> None:
        live = [oid for oid in order_ids if (t := self.tracks.get(oid)) is not None
                and not t.done]
        await self.node.execute_all(self._cancels(profile_id, live))

    def _cancels(self, profile_id: str, order_ids: list[str]) -> Iterator[CancelOrder]:
        for order_id in order_ids:
            yield CancelOrder(time=self.node.stamp(), profile_id=profile_id, order_id=order_id)

    def _spawn(self, work: Coroutine[Any, Any, None], session: Session | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(work, session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, None], session: Session | None) -> None:
        try:
            await work
        except NodeStopped:
            if session is not None and session.active:
                session.logout(0.0, Error.FIX_SHUTDOWN)
        except Exception:  # a bug: logged, the session goes on
            log.exception("FIX order entry request failed")

    # -- requests ---------------------------------------------------------------------------
    def on_message(self, session: Session, message: Message) -> None:
        kind = message.msg_type
        if kind == "D":
            self._new_order(session, message)
            return
        self._queued.pop(session, None)  # what comes after this request: a later batch
        handler = {"F": self._cancel, "G": self._replace,
                   "H": self._status, "q": self._mass_cancel, "U6": self._batch,
                   "U4": self._cancel_batch}.get(kind)
        if handler is not None:
            handler(session, message)
        elif kind in KNOWN_APP_TYPES:
            self._business_reject(session, message, Error.FIX_UNSUPPORTED_TYPE.format())
        else:
            session._reject(message, 11, 35, Error.FIX_INVALID_MSG_TYPE.format())

    def on_rate_limited(self, session: Session, message: Message) -> None:
        text = Error.FIX_RATE_LIMIT.format()
        kind = message.msg_type
        if kind == "D":
            session.send("8", self._reject_report(message.get(11) or "", None,
                                                  _fields(message), text, "0"))
        elif kind in ("F", "G"):
            session.send("9", self._cancel_reject(_fields(message), text, "2",
                                                  "1" if kind == "F" else "2"))
        else:
            self._business_reject(session, message, text)

    def _business_reject(self, session: Session, message: Message, text: str) -> None:
        body: Body = [(45, message.get(34) or "0"), (372, message.msg_type or "?")]
        ref = message.get(11) or message.get(8014)
        if ref:
            body.append((379, ref))
        body += [(380, "2" if message.msg_type not in _OUR_TYPES else "1"), (58, text)]
        session.send("j", body)

    def _profile(self, session: Session) -> str:
        assert session.identity is not None
        return session.identity.profile_id

    def _build(self, session: Session, fields: dict[int, str]) -> PlaceOrder:
        """The command for one order's fields; ``ApiError`` if refused before the core."""
        identity = session.identity
        assert identity is not None
        node = self.node
        body = order_body(fields, identity.stp)
        existing = node.engine.find_order(identity.profile_id, None, body["client_oid"])
        if existing is not None and existing.status is not Status.DONE:
            raise ApiError(Error.FIX_CLORDID_OPEN)
        command, _ = parse_order(body, node.engine, identity.profile_id, node.ids.uuid(),
                                 node.stamp(), oid_checked=True,  # ``cl_ord_id`` checked it
                                 expire_time=expire_time(fields))
        return command

    def _track(self, session: Session, command: PlaceOrder) -> None:
        identity = session.identity
        assert identity is not None
        product = self.node.engine.products[command.product_id]
        self.tracks[command.order_id] = Track(
            command.order_id, identity.key, identity.profile_id, command.client_oid or "",
            command.product_id, command.side, command.type, command.price, command.size,
            command.funds, command.time_in_force, command.post_only, command.stp,
            command.stop_price, quote=product.quote_currency, expire_time=command.expire_time)
        placed = self.placed.get(session)
        if placed is not None:
            placed.add(command.order_id)
            if len(placed) > 2 * len(self.tracks) + 64:  # its done orders: no use any more
                placed.intersection_update(self.tracks)

    def _new_order(self, session: Session, message: Message) -> None:
        queue = self._queued.get(session)
        if queue is None:
            queue = self._queued[session] = []
            self._spawn(self._place(session, queue, self.placed.get(session)), session)
        queue.append(message.index)

    async def _place(self, session: Session, queue: list[dict[int, str]],
                     placed: set[str] | None) -> None:
        """Stamp, apply and journal the queued orders in one step; answer refusals."""
        if self._queued.get(session) is queue:
            del self._queued[session]  # from here on, new orders form the next batch
        identity = session.identity
        assert identity is not None
        accepted: list[tuple[int, PlaceOrder, dict[int, str]]] = []  # result index, ...
        pulled = 0

        def commands() -> Iterator[Command]:
            nonlocal pulled
            for fields in queue:
                fees = None  # the profile's volume tier first, as REST (stamped before)
                if self.fee_tiers:
                    fees = tier_change(self.node, self.fee_tiers, identity.profile_id)
                try:
                    command = self._build(session, fields)
                except ApiError as exc:
                    session.send("8", self._reject_report(fields.get(11, ""), None, fields,
                                                          exc.message,
                                                          _rej_reason(exc.error)))
                    continue
                self._track(session, command)
                if placed is not None and self.placed.get(session) is not placed:
                    placed.add(command.order_id)  # closed meanwhile: cancel-on-disconnect
                if fees is not None:
                    pulled += 1
                    yield fees
                accepted.append((pulled, command, fields))
                pulled += 1
                yield command

        results = await self.node.execute_all(commands())
        for index, command, fields in accepted:
            self._answer_refusal(session, command, fields, results[index])

    def _answer_refusal(self, session: Session, command: PlaceOrder, fields: dict[int, str],
                        events: list[Event]) -> None:
        first = events[0] if events else None
        if type(first) is Rejected:
            text, reason = first.message, _rej_reason(first.error)
        elif type(first) is Duplicate:
            text, reason = Error.DUPLICATE_ORDER_ID.format(), "0"
        else:
            return
        self.tracks.pop(command.order_id, None)
        self.placed.get(session, set()).discard(command.order_id)
        session.send("8", self._reject_report(command.client_oid or "", command.order_id,
                                              fields, text, reason))

    def _reject_report(self, cl: str, order_id: str | None, fields: dict[int, str],
                       text: str, reason: str) -> Body:
        body: Body = []
        if cl:
            body.append((11, cl))
        body += [(14, "0"), (17, f"{order_id or cl or 'none'}-rejected"), (37, order_id or "0"),
                 (39, "8")]
        for tag in (55, 54, 40, 44, 38, 152, 99):
            value = fields.get(tag)
            if value and (tag != 54 or value in SIDES.values()):
                body.append((tag, value))
        body += [(60, transact_time(self.node.now())), (150, "8"), (151, "0"), (58, text),
                 (103, reason)]
        return body

    def _cancel_reject(self, fields: dict[int, str], text: str, reason: str,
                       response_to: str) -> Body:
        body: Body = [(11, fields.get(11) or "0"), (37, fields.get(37) or "NONE")]
        if fields.get(41):
            body.append((41, fields[41]))
        body += [(39, "8"), (58, text), (102, reason), (434, response_to)]
        return body

    def _cancel_command(self, session: Session, fields: dict[int, str]) -> CancelOrder:
        """The cancel for a request's 37/41/55; the order is adopted for its reports."""
        profile_id = self._profile(session)
        cl_ord_id(fields.get(11))
        order_id = (fields.get(37) or "").lower() or None
        orig = fields.get(41)
        if order_id is None and orig is None:
            raise ApiError(Error.FIX_MISSING_TAG, "OrderID(37) or OrigClOrdID(41)")
        if 55 not in fields:
            raise ApiError(Error.FIX_MISSING_TAG, "Symbol(55)")
        client_oid = None if order_id is not None else (orig or "").lower()
        node = self.node
        order = node.engine.find_order(profile_id, order_id, client_oid)
        if order is not None and order.status is not Status.DONE:
            track = self.tracks.get(order.id)
            if track is None:
                assert session.identity is not None
                product = node.engine.products[order.product_id]
                track = self.tracks[order.id] = Track.of_order(
                    order, session.identity.key, None, product.quote_currency)
            track.request_id = fields[11]
        return CancelOrder(time=node.stamp(), profile_id=profile_id, order_id=order_id,
                           client_oid=client_oid, product_id=product_id_of(fields[55]))

    def _cancel(self, session: Session, message: Message) -> None:
        fields = _fields(message)
        try:
            command = self._cancel_command(session, fields)
        except ApiError as exc:
            session.send("9", self._cancel_reject(fields, exc.message, "2", "1"))
            return

        async def run() -> None:
            events = await self.node.execute(replace(command, time=self.node.stamp()))
            if events and type(first := events[0]) is Rejected:
                session.send("9", self._cancel_reject(fields, first.message,
                                                      _cxl_reason(first.error), "1"))
        self._spawn(run(), session)

    def _replace(self, session: Session, message: Message) -> None:
        """OrderCancelReplaceRequest: a ``ModifyOrder`` of an order this connection placed;
        the ER 150=5 comes from its ``Changed`` (reporter), a refusal is a 9 with 434=2."""
        fields = _fields(message)
        try:
            command, track = self._modify_command(session, fields)
        except ApiError as exc:
            session.send("9", self._cancel_reject(fields, exc.message,
                                                  _cxl_reason(exc.error), "2"))
            return
        previous = track.request_id
        track.request_id = command.client_oid  # the ER of a cancel (size under the fills)

        async def run() -> None:
            events = await self.node.execute(command)
            if events and type(first := events[0]) is Rejected:
                if track.request_id == command.client_oid:
                    track.request_id = previous
                session.send("9", self._cancel_reject(fields, first.message,
                                                      _cxl_reason(first.error), "2"))
        self._spawn(run(), session)

    def _modify_command(self, session: Session, fields: dict[int, str]
                        ) -> tuple[ModifyOrder, Track]:
        """The modify for a G's fields, and the order's FIX view; ``ApiError`` if refused
        before the core (texts: FIX's rules, then the core's)."""
        new_id = cl_ord_id(fields.get(11))
        for tag, name in ((37, "OrderID(37)"), (41, "OrigClOrdID(41)"), (55, "Symbol(55)"),
                          (40, "OrdType(40)"), (38, "OrderQty(38)"), (44, "Price(44)")):
            if not fields.get(tag):
                raise ApiError(Error.FIX_MISSING_TAG, name)
        profile_id = self._profile(session)
        node = self.node
        order = node.engine.find_order(profile_id, fields[37].lower())
        if order is None:
            raise ApiError(Error.ORDER_NOT_FOUND)
        if order.status is Status.DONE:
            raise ApiError(Error.ORDER_ALREADY_DONE)
        track = self.tracks.get(order.id)
        if track is None or order.id not in self.placed.get(session, ()):
            raise ApiError(Error.FIX_REPLACE_OTHER_CONNECTION)
        existing = node.engine.find_order(profile_id, None, new_id)
        if existing is not None and existing.status is not Status.DONE:
            raise ApiError(Error.FIX_CLORDID_OPEN)
        if fields[40] not in ("2", "4") or (fields[40] == "4") != (order.stop is not None):
            raise ApiError(Error.FIX_BAD_VALUE, "OrdType(40)")
        if 152 in fields:
            raise ApiError(Error.FIX_BAD_VALUE, "CashOrderQty(152)")
        price = decimal_units(fields, 44, "Price(44)")
        size = decimal_units(fields, 38, "OrderQty(38)")
        stop = decimal_units(fields, 99, "StopPx(99)") if fields[40] == "4" else None
        if fields[40] == "4" and stop is None:
            raise ApiError(Error.FIX_MISSING_TAG, "StopPx(99)")
        assert price is not None and size is not None  # required above
        return ModifyOrder(time=node.stamp(), profile_id=profile_id, order_id=order.id,
                           price=price, size=size, stop_price=stop,
                           product_id=product_id_of(fields[55]), client_oid=new_id), track

    def _mass_cancel(self, session: Session, message: Message) -> None:
        fields = _fields(message)
        cl = fields.get(11) or "0"
        kind = fields.get(530) or ""
        if kind != "6":
            session.send("r", [(11, cl), (530, kind or "0"), (531, "0"),
                               (58, Error.FIX_MASS_CANCEL_TYPE.format())])
            return
        profile_id = self._profile(session)
        live = [oid for oid in self.placed.get(session, ()) if (t := self.tracks.get(oid))
                is not None and not t.done]

        async def run() -> None:
            await self.node.execute_all(self._cancels(profile_id, live))
            session.send("r", [(11, cl), (530, "6"), (531, "6")])
        self._spawn(run(), session)

    def _status(self, session: Session, message: Message) -> None:
        fields = _fields(message)

        report = self._status_report(session, fields)
        if self.node.in_flight:  # read now, sent once all it shows is durable
            self._spawn(self._send_when_durable(session, report), session)
        else:  # nothing in flight: at once, so replies keep the requests' order
            session.send("8", report)

    async def _send_when_durable(self, session: Session, report: Body) -> None:
        """``report`` once every command applied before it was read is durable (reading after
        the wait would let in what was applied between the wake-up and the read)."""
        await self.node.synced()
        session.send("8", report)

    def _status_report(self, session: Session, fields: dict[int, str]) -> Body:
        """The ExecutionReport (``150=I``) answering an OrderStatusRequest, as the state is."""
        node = self.node
        order_id = (fields.get(37) or "").lower() or None
        cl = fields.get(11)
        order = node.engine.find_order(self._profile(session), order_id,
                                       None if order_id else (cl or "").lower() or None)
        if order is None:
            body: Body = [(11, cl)] if cl else []
            body += [(14, "0"), (17, f"{cl or order_id or 'none'}-status"), (37, "0"),
                     (39, "8")]
            if fields.get(55):
                body.append((55, fields[55]))
            body += [(60, transact_time(node.now())), (150, "I"), (151, "0"),
                     (58, Error.ORDER_NOT_FOUND.format())]
            return body
        assert session.identity is not None
        product = node.engine.products[order.product_id]
        track = self.tracks.get(order.id) or Track.of_order(
            order, session.identity.key, None, product.quote_currency)
        view = Track.of_order(order, track.key, track.cl_ord_id, product.quote_currency)
        status = view.status() if order.status is Status.DONE or order.filled_size \
            else "0"
        if order.status is Status.DONE and order.done_reason is DoneReason.CANCELED:
            status = "4"
        view.reports = track.reports + 1000  # a status ExecID never repeats a report's
        return view.report("I", status, node.now(), cl_ord_id=cl or None)

    def _batch(self, session: Session, message: Message) -> None:
        batch_id = message.get(8014) or ""
        entries = message.group(73, ORDER_TAGS)

        def refuse(text: str) -> None:
            session.send("U7", [(8014, batch_id or "0"), (58, text)])

        if not UUID4.fullmatch(batch_id):
            refuse(Error.FIX_CLORDID.format(batch_id))
            return
        if entries is None or not 1 <= len(entries) <= BATCH_MAX:
            refuse(Error.FIX_BATCH_SIZE.format(BATCH_MAX))
            return
        if len({e.get(55) for e in entries}) != 1:
            refuse(Error.FIX_BATCH_SYMBOLS.format())
            return
        fees = None  # the volume tier, once for the batch, stamped before its orders
        if self.fee_tiers and session.identity is not None:
            fees = tier_change(self.node, self.fee_tiers, session.identity.profile_id)
        commands: list[tuple[PlaceOrder, dict[int, str]]] = []
        for fields in entries:
            try:
                command = self._build(session, fields)
            except ApiError as exc:
                session.send("8", self._reject_report(fields.get(11, ""), None, fields,
                                                      exc.message, _rej_reason(exc.error)))
                continue
            self._track(session, command)
            commands.append((command, fields))

        async def run() -> None:  # stamped as applied: a stamp is applied in its own step
            placing: list[Command] = [c for c, _ in commands]
            results = await self.node.execute_all(
                replace(c, time=self.node.stamp()) for c in ([fees, *placing] if fees
                                                             else placing))
            for (command, fields), events in zip(commands, results[-len(commands):],
                                                 strict=True):
                self._answer_refusal(session, command, fields, events)
        if commands:
            self._spawn(run(), session)

    def _cancel_batch(self, session: Session, message: Message) -> None:
        batch_id = message.get(8014) or ""
        entries = message.group(73, CANCEL_TAGS)
        if not UUID4.fullmatch(batch_id) or entries is None \
                or not 1 <= len(entries) <= BATCH_MAX:
            text = (Error.FIX_CLORDID.format(batch_id) if not UUID4.fullmatch(batch_id)
                    else Error.FIX_BATCH_SIZE.format(BATCH_MAX))
            session.send("U5", [(8014, batch_id or "0"), (58, text)])
            return
        if len({e.get(55) for e in entries}) != 1:
            session.send("U5", [(8014, batch_id), (58, Error.FIX_BATCH_SYMBOLS.format())])
            return
        commands: list[tuple[CancelOrder, dict[int, str]]] = []
        for fields in entries:
            try:
                commands.append((self._cancel_command(session, fields), fields))
            except ApiError as exc:
                session.send("9", self._cancel_reject(fields, exc.message, "2", "1"))

        async def run() -> None:
            results = await self.node.execute_all(
                replace(c, time=self.node.stamp()) for c, _ in commands)
            for (_, fields), events in zip(commands, results, strict=True):
                if events and type(first := events[0]) is Rejected:
                    session.send("9", self._cancel_reject(fields, first.message,
                                                          _cxl_reason(first.error), "1"))
        if commands:
            self._spawn(run(), session)

    def _deliver(self, track: Track, data: bytes, total: int) -> None:
        session = self.sessions.get(track.key)
        if session is not None and session.state is ACTIVE:
            self._post(session, data, total)


def _fields(message: Message) -> dict[int, str]:
    return message.index  # each tag's first value (read, never changed)


def _rej_reason(error: Error) -> str:
    """OrdRejReason(103): 1 unknown symbol, else 0 (broker option)."""
    return "1" if error is Error.PRODUCT_NOT_FOUND else "0"


def _cxl_reason(error: Error) -> str:
    """CxlRejReason(102): 1 unknown order, else 2 (broker option)."""
    return "1" if error in (Error.ORDER_NOT_FOUND, Error.ORDER_ALREADY_DONE,
                            Error.NOT_FOUND) else "2"
