"""The feed layer's fault actions: what a connection sees when a ``feed`` rule fires.

While the venue has ``feed`` rules, every connection gets a ``SessionFaults`` between the hub
and its queue (``Session.fault``); without rules a frame pays one ``is None`` test. Channel
frames are matched on their channel, product, the connection's API key (an authenticated
subscribe's) and message ``type``; replies to the client (``subscriptions``, errors) never are.
Counters are the rule's, across connections. Actions on a frame:

* ``drop``: the frame is not sent (on ``full``/``level3`` a real ``sequence`` gap).
* ``duplicate``: sent twice.
* ``reorder``: held back until the next ``window - 1`` frames have gone, then sent.
* ``delay``: the connection sends nothing for ``ms`` (real time) from this frame on, then
  everything held, in order.
* ``freeze``: likewise for ``ms``, or until the rule is cleared.
* ``disconnect``: ``1006`` drops the TCP connection with no close frame, ``1011`` closes with
  that code, ``slow_consume`` sends ``ErrSlowConsume`` then closes, as a full queue does.
* ``heartbeat_stall``: this connection gets no more heartbeats, for ``ms`` or until cleared.

``subscribe_error`` is matched on subscribes instead (any of their channels and products):
the subscribe is answered ``{"type":"error","message","reason"}`` and not applied.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from sandex.api.feed.protocol import HEARTBEAT, Change, error, parse
from sandex.api.feed.render import encode
from sandex.api.feed.session import Session
from sandex.errors import Error
from sandex.faults import Armed, FaultSet

ABRUPT = 1006
"""The close "code" of a connection dropped with no close frame (RFC 6455 §7.1.5)."""


class FeedFaults:
    """Executes the ``feed`` rules of ``faults`` on the feed's open ``sessions``."""

    def __init__(self, faults: FaultSet, sessions: Collection[Session]) -> None:
        self.faults = faults
        self.rules = faults.layer("feed")
        self.sessions = sessions
        self.frame_rules: list[Armed] = []
        self.subscribe_rules: list[Armed] = []
        faults.listeners.append(self.changed)
        self.changed()

    def changed(self) -> None:
        """Rules were added or cleared: (dis)arm every connection."""
        self.frame_rules = [a for a in self.rules if a.rule.kind != "subscribe_error"]
        self.subscribe_rules = [a for a in self.rules if a.rule.kind == "subscribe_error"]
        ids = self.faults.ids()
        for session in self.sessions:
            self.arm(session, ids)

    def arm(self, session: Session, ids: set[str] | None = None) -> None:
        """Put a ``SessionFaults`` on ``session`` while there are frame rules; take it off
        (sending what it held) when there are none."""
        current = session.fault
        if self.frame_rules:
            if not isinstance(current, SessionFaults):
                session.fault = SessionFaults(self, session)
            else:
                current.forget(ids if ids is not None else self.faults.ids())
        elif isinstance(current, SessionFaults):
            session.fault = None
            current.release()

    def refuse_subscribe(self, session: Session, text: str | bytes,
                         products: Collection[str]) -> bool:
        """Whether a ``subscribe_error`` rule fired on this subscribe (then answered)."""
        if not self.subscribe_rules:
            return False
        change = parse(text, products)
        if not isinstance(change, Change) or not change.subscribe:
            return False
        channels = tuple(change.channels)
        product_ids = tuple(p for ids in change.channels.values() for p in ids)
        key = change.credentials.key if change.credentials is not None else None

        def value(name: str) -> str | tuple[str, ...] | None:
            return {"channel": channels, "product": product_ids, "key": key,
                    "type": "subscribe"}.get(name)

        armed = self.faults.fire(self.subscribe_rules, value, lambda: {
            "connection": session.id, "client": session.client,
            "channels": list(channels)})
        if armed is None:
            return False
        params = armed.rule.params
        session.enqueue(encode({**error(Error.FEED_SUBSCRIBE_FAILED, params["reason"]),
                                "message": params["message"]}))
        return True


class SessionFaults:
    """One connection's frames under fault rules, and what the rules left it in: held frames
    (paused), frames being reordered, a heartbeat stall."""

    def __init__(self, owner: FeedFaults, session: Session) -> None:
        self.owner = owner
        self.session = session
        self.held: deque[str] | None = None  # paused: frames wait here, in order
        self.paused_by: str | None = None  # the rule of a pause until cleared
        self.resume_at: asyncio.TimerHandle | None = None
        self.reordering: list[list[Any]] = []  # [frame, frames still to go before it]
        self.stalled_by: str | None = None  # heartbeats withheld by this rule ...
        self.stall_until: float | None = None  # ... until this loop time (None: cleared)

    def push(self, frame: str, channel: str, product_id: str | None) -> None:
        if channel == HEARTBEAT and self._stalled():
            return
        session = self.session

        def value(name: str) -> str | None:
            if name == "channel":
                return channel
            if name == "product":
                return product_id
            if name == "key":
                return session.identity.key if session.identity is not None else None
            return frame_type(frame)

        armed = self.owner.faults.fire(self.owner.frame_rules, value, lambda: {
            "connection": session.id, "client": session.client, "channel": channel,
            "product": product_id})
        if armed is None:
            self.emit(frame)
        else:
            ACTIONS[armed.rule.kind](self, armed, frame)

    # -- what the actions do -----------------------------------------------------------------
    def emit(self, frame: str) -> None:
        """Send ``frame`` (into the held frames while paused), then any reordered frame whose
        turn it now is."""
        self._put(frame)
        if self.reordering:
            due = []
            for entry in self.reordering:
                entry[1] -= 1
                if entry[1] <= 0:
                    due.append(entry)
            for entry in due:
                self.reordering.remove(entry)
                self._put(entry[0])

    def _put(self, frame: str) -> None:
        held = self.held
        if held is None:
            self.session.enqueue(frame)
        elif len(held) >= self.session.queue_max:  # as a full queue: the client is too slow
            held.clear()
            self.session.queue.clear()
            self.session.queued_bytes = 0
            self.session.close(Error.FEED_SLOW_CONSUME, Error.FEED_SLOW_CONSUME_REASON.format())
        else:
            held.append(frame)

    def pause(self, ms: int | None, rule_id: str) -> None:
        """Hold every frame for ``ms`` (``None``: until ``rule_id`` is cleared)."""
        if self.held is None:
            self.held = deque()
        if ms is None:
            self.paused_by = rule_id
        elif self.paused_by is None:
            if self.resume_at is not None:
                self.resume_at.cancel()
            self.resume_at = asyncio.get_running_loop().call_later(ms / 1000, self.resume)

    def resume(self) -> None:
        """Send what was held, in order, and stop holding."""
        held, self.held = self.held, None
        self.paused_by = None
        if self.resume_at is not None:
            self.resume_at.cancel()
            self.resume_at = None
        for frame in held or ():
            self.session.enqueue(frame)

    def stall(self, ms: int | None, rule_id: str) -> None:
        self.stalled_by = rule_id
        self.stall_until = None if ms is None else \
            asyncio.get_running_loop().time() + ms / 1000

    def _stalled(self) -> bool:
        if self.stalled_by is None:
            return False
        if self.stall_until is not None and asyncio.get_running_loop().time() >= \
                self.stall_until:
            self.stalled_by = None
            return False
        return True

    def forget(self, ids: set[str]) -> None:
        """End the pauses and stalls of rules no longer installed."""
        if self.paused_by is not None and self.paused_by not in ids:
            self.resume()
        if self.stalled_by is not None and self.stall_until is None and \
                self.stalled_by not in ids:
            self.stalled_by = None

    def release(self) -> None:
        """No rules any more: send everything held or being reordered."""
        reordered, self.reordering = self.reordering, []
        self.resume()
        for entry in reordered:
            self.session.enqueue(entry[0])


def frame_type(frame: str) -> str | None:
    """A frame's message type: ``{"type":"x",...}`` or a compact ``level3`` ``["x",...]``."""
    if frame.startswith('{"type":"'):
        return frame[9:frame.index('"', 9)]
    if frame.startswith('["'):
        return frame[2:frame.index('"', 2)]
    return None


# -- the actions ----------------------------------------------------------------------------
Action = Callable[[SessionFaults, Armed, str], None]


def _disconnect(faults: SessionFaults, armed: Armed, frame: str) -> None:
    session, code = faults.session, armed.rule.params["code"]
    session.queue.clear()
    session.queued_bytes = 0
    faults.held = None
    if code == "slow_consume":
        session.close(Error.FEED_SLOW_CONSUME, Error.FEED_SLOW_CONSUME_REASON.format())
    else:
        session.close(code=code)


def _delay(faults: SessionFaults, armed: Armed, frame: str) -> None:
    if faults.held is None:
        faults.pause(armed.rule.params["ms"], armed.rule.id)
    faults.emit(frame)


def _freeze(faults: SessionFaults, armed: Armed, frame: str) -> None:
    faults.pause(armed.rule.params.get("ms"), armed.rule.id)
    faults.emit(frame)


def _stall(faults: SessionFaults, armed: Armed, frame: str) -> None:
    faults.stall(armed.rule.params.get("ms"), armed.rule.id)
    if not frame.startswith('{"type":"heartbeat"'):
        faults.emit(frame)


def _duplicate(faults: SessionFaults, armed: Armed, frame: str) -> None:
    faults.emit(frame)
    faults.emit(frame)


def _reorder(faults: SessionFaults, armed: Armed, frame: str) -> None:
    faults.reordering.append([frame, armed.rule.params["window"] - 1])


ACTIONS: dict[str, Action] = {  # a test checks these and subscribe_error are the feed's kinds
    "drop": lambda faults, armed, frame: None,
    "duplicate": _duplicate,
    "reorder": _reorder,
    "delay": _delay,
    "freeze": _freeze,
    "disconnect": _disconnect,
    "heartbeat_stall": _stall,
}
