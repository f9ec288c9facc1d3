"""Frames out of the sessions' queues in as few writes and task switches as possible.

``Direct`` writes text frames straight to a uvicorn WebSocket connection's transport, all
that is queued in one ``write``. ``Flusher`` is the feed's one scheduled callback: a push to
a session with a ``Direct`` marks it dirty, and a pass writes every dirty session whose
transport takes data, without waking its writer task. A session that is held, closing, or
whose transport is paused (the client is not reading) is left to its writer
(``sandex.api.feed.endpoint._write``), which waits for the transport while the queue grows
towards its bounds. Frames leave in queue order either way: both drain the whole queue
synchronously.

Passes are paced by their own cost: the next pass starts no sooner than the last one's
duration after its end (at most ``gap_max`` after it). A quiet feed, or one with few
connections, is written to in the loop iteration after the push, as before; a pass over a
thousand connections, whose cost is one ``write`` system call each whatever it carries,
leaves at least as much time to everything else (orders, their durable commits) as it takes,
and the next pass carries every command committed meanwhile in the same one write per
connection. So the writes per second stay bounded by the connection count, not multiplied
by the command rate, and a frame waits at most about two passes (or ``gap_max`` plus one).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, Protocol

from sandex.admin.races import FeedHolds
from sandex.api.http import Send


class Queued(Protocol):
    """What the flusher reads and writes of a ``sandex.api.feed.session.Session`` (named
    structurally: the session module imports this one)."""

    direct: Direct | None
    queue: deque[str]
    queued_bytes: int
    written: int
    closing: bool
    wake: asyncio.Event


class Direct:
    """Text frames written straight to a uvicorn WebSocket connection's transport, many in
    one write. Only where no extension (permessage-deflate) was negotiated: then a server's
    data frame is a fixed header and the payload, and websockets' state does not change."""

    __slots__ = ("protocol", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport: asyncio.Transport = protocol.transport
        self.writable: asyncio.Event = protocol.writable  # cleared while the buffer is full

    @classmethod
    def of(cls, send: Send) -> Direct | None:
        protocol = getattr(send, "__self__", None)
        conn = getattr(protocol, "conn", None)
        if conn is None or conn.extensions or not isinstance(
                getattr(protocol, "writable", None), asyncio.Event):
            return None
        return cls(protocol)

    def write(self, frames: list[str] | tuple[str, ...],
              framed: dict[str, bytes] | None = None) -> None:
        """Write ``frames`` in one ``transport.write``. ``framed`` (text -> its WebSocket
        frame) is shared by the connections of one flush pass: a frame fanned out to every
        subscriber is encoded and framed once, not once per connection."""
        self.send(frames_bytes(frames, framed))

    def send(self, data: bytes) -> None:
        """Write ``data`` (whole frames) in one ``transport.write``."""
        protocol = self.protocol
        if protocol.disconnected or protocol.close_sent:
            raise ConnectionError("the connection is closed")
        self.transport.write(data)


def frames_bytes(frames: list[str] | tuple[str, ...],
                 framed: dict[str, bytes] | None = None) -> bytes:
    """Text frames as one run of WebSocket frames, each framed once per ``framed`` table."""
    if framed is None:
        return b"".join([_text_frame(f) for f in frames])
    parts = []
    for f in frames:
        data = framed.get(f)
        if data is None:
            data = framed[f] = _text_frame(f)
        parts.append(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _text_frame(text: str) -> bytes:
    """One final, unmasked text frame (RFC 6455 §5.2)."""
    data = text.encode()
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + data
    return b"\x81\x7f" + n.to_bytes(8, "big") + data


class Flusher:
    """The dirty sessions of one feed and the callback that writes them (module docstring)."""

    __slots__ = ("dirty", "gap_max", "holds", "loop", "next_at", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop, holds: FeedHolds,
                 gap_max: float = 0.0) -> None:
        self.loop = loop
        self.holds = holds
        self.gap_max = gap_max  # the longest wait after a pass (0: the next loop iteration)
        self.dirty: dict[Queued, None] = {}
        self.scheduled = False
        self.next_at = 0.0  # ``time.monotonic()`` before which no pass starts

    def mark(self, session: Queued) -> None:
        self.dirty[session] = None
        if not self.scheduled:
            self.scheduled = True
            wait = self.next_at - time.monotonic()
            if wait > 0.0:
                self.loop.call_later(wait, self.flush)
            else:
                self.loop.call_soon(self.flush)

    def flush(self) -> None:
        started = time.monotonic()
        self.scheduled = False
        dirty, self.dirty = self.dirty, {}
        held = bool(self.holds.rules)
        framed: dict[str, bytes] = {}  # each text's frame, made once for this pass
        # each run of frames, joined once for all the connections it goes to in this pass
        # (subscribers of the same channels and products are sent the same run)
        joined: dict[tuple[str, ...], bytes] = {}
        for session in dirty:
            direct, queue = session.direct, session.queue
            if not queue:
                continue
            if held or session.closing or direct is None or not direct.writable.is_set():
                session.wake.set()
                continue
            batch = tuple(queue)
            queue.clear()
            session.written += session.queued_bytes
            session.queued_bytes = 0
            data = joined.get(batch)
            if data is None:
                data = joined[batch] = frames_bytes(batch, framed)
            try:
                direct.send(data)
            except Exception:  # gone: the writer meets the closed connection and returns
                session.wake.set()
        ended = time.monotonic()
        self.next_at = ended + min(ended - started, self.gap_max)
