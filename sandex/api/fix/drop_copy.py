"""The drop copy gateway: every order of the key's profile, whoever placed it (FIX or REST).

Logon as for order entry plus ``9406=Y`` (required), a key with ``view``, HeartBtInt up to
300 s; one session per key. It sends ExecutionReports only (acks, fills, cancels: the same
bodies and ExecIDs as order entry's), for orders of the profile received while a session is
live and for the profile's live orders when it logs on; every request is answered with a
BusinessMessageReject ``380=2``. Not subject to order entry's rate limits. Its numbers always
start over (GUESS: no resume; Coinbase's drop copy has no resend either).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sandex.api.clocks import SignatureClock
from sandex.api.fix.adoption import durable_track, pending_by_order, waits
from sandex.api.fix.codec import Message
from sandex.api.fix.framing import Outbound
from sandex.api.fix.logon import Identity, LogonSpec, Refusal, check_logon
from sandex.api.fix.reporter import Reporter
from sandex.api.fix.reports import Track
from sandex.api.fix.session import Session
from sandex.auth.keys import Permission
from sandex.core import Activated, Done, Received
from sandex.errors import Error
from sandex.node import Node
from sandex.node.node import NodeStopped

log = logging.getLogger("sandex.fix")

SPEC = LogonSpec(max_heartbeat=300, permission=Permission.VIEW, order_entry=False,
                 drop_copy=True)


class DropCopy(Reporter):
    limits = False

    def __init__(self, node: Node, signatures: SignatureClock,
                 wall: Callable[[], float]) -> None:
        self.node = node
        self.signatures = signatures
        self.wall = wall
        self.sessions: dict[str, Session] = {}
        self.profiles: dict[str, dict[Session, None]] = {}
        self.tracks: dict[str, Track] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def watching(self) -> bool:  # type: ignore[override]
        return bool(self.profiles)

    def authenticate(self, message: Message) -> Identity | Refusal:
        return check_logon(message, self.node.keys, SPEC, self.signatures())

    def admit(self, session: Session, identity: Identity) -> Refusal | None:
        if identity.key in self.sessions:
            return Refusal(Error.FIX_DUPLICATE_SESSION)
        if identity.profile_id not in self.node.engine.profiles:
            return Refusal(Error.INVALID_API_KEY)
        return None

    def outbound(self, key: str) -> Outbound:
        return Outbound()

    def on_logon(self, session: Session) -> None:
        identity = session.identity
        assert identity is not None
        self.sessions[identity.key] = session
        watchers = self.profiles.setdefault(identity.profile_id, {})
        watchers[session] = None
        self._follow(identity.profile_id, None)
        log.info("FIX drop copy: %s logged on from %s", identity.key, session.peer)

    def _follow(self, profile_id: str, order_ids: set[str] | None) -> None:
        """Follow the profile's live orders (``order_ids``: those of them still waiting) as
        the disk has them (``sandex.api.fix.adoption``): one done by a command in flight
        too, one received by a command in flight from its ``Received`` (``_adopt``), one a
        modify in flight changed after that commit."""
        engine = self.node.engine
        pending = pending_by_order(self.node.pending_events())
        if order_ids is None:
            order_ids = set(engine.profiles[profile_id].live)
            order_ids.update(order_id for order_id, events in pending.items()
                             if type(events[-1]) is Done)  # done, not yet durably
        left = set()
        for order_id in order_ids:
            order = engine.orders.get(order_id)
            if order is None or order.profile_id != profile_id or order_id in self.tracks:
                continue
            events = pending.get(order_id, [])
            if any(type(event) is Received for event in events):
                continue  # not on disk yet: ``_adopt`` follows it from its Received
            if waits(events):
                left.add(order_id)
                continue
            quote = engine.products[order.product_id].quote_currency
            track = durable_track(order, "", quote, events)
            if track is not None:
                track.reports = 1  # acknowledged before the session: no ack now
                self.tracks[order_id] = track
        if left:
            task = asyncio.get_running_loop().create_task(self._follow_later(profile_id, left))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _follow_later(self, profile_id: str, order_ids: set[str]) -> None:
        try:
            await self.node.synced()
        except NodeStopped:
            return
        if profile_id in self.profiles:
            self._follow(profile_id, order_ids)

    def on_close(self, session: Session) -> None:
        identity = session.identity
        assert identity is not None
        if self.sessions.get(identity.key) is session:
            del self.sessions[identity.key]
        watchers = self.profiles.get(identity.profile_id, {})
        watchers.pop(session, None)
        if not watchers:
            self.profiles.pop(identity.profile_id, None)
            for order_id in [k for k, t in self.tracks.items()
                             if t.profile_id == identity.profile_id]:
                del self.tracks[order_id]

    def on_message(self, session: Session, message: Message) -> None:
        session.send("j", [(45, message.get(34) or "0"), (372, message.msg_type or "?"),
                           (380, "2"), (58, Error.FIX_UNSUPPORTED_TYPE.format())])

    def on_rate_limited(self, session: Session, message: Message) -> None:
        self.on_message(session, message)

    def _adopt(self, event: Received | Activated) -> Track | None:
        if event.profile_id not in self.profiles:
            return None
        engine = self.node.engine
        order = engine.orders.get(event.order_id)
        if order is None:
            return None
        track = Track.of_order(order, "", None,
                               engine.products[order.product_id].quote_currency)
        track.cum = track.value = 0  # from the events on, not from state that may be ahead
        track.done = False
        self.tracks[order.id] = track
        return track

    def _deliver(self, track: Track, data: bytes, total: int) -> None:
        for session in self.profiles.get(track.profile_id, ()):
            if session.active:
                self._post(session, data, total)
