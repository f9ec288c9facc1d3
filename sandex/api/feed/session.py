"""One connection's state: its subscriptions, its identity and its bounded outbound queue.

``push`` is called synchronously by the hub while it fans out a command's messages; it only
appends to a deque and wakes the connection's writer, so a slow reader never makes the node
or another subscriber wait. The queue is bounded twice: ``queue_max`` frames and
``bytes_max`` characters of JSON text (bytes: frames are ASCII but for rare user strings). A
push past either bound means the client is not keeping up and it is cut (``cut``): the queue
is dropped and ``on_cut`` (the endpoint's) aborts the connection, sending ``ErrSlowConsume``
(§9.6) only if the socket takes it at once. Sessions are never removed from the hub while it
iterates; a dead session just ignores further pushes until its endpoint unregisters it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection, Iterable
from typing import Protocol

from sandex.api.feed.auth import Identity
from sandex.api.feed.flush import Direct, Flusher
from sandex.api.feed.progress import ReadProbe
from sandex.api.feed.protocol import error
from sandex.api.feed.render import encode
from sandex.errors import Error


class FrameFilter(Protocol):
    """What stands between the hub and a connection's queue while fault rules exist
    (``sandex.api.feed.faults.SessionFaults``)."""

    def push(self, frame: str, channel: str, product_id: str | None) -> None: ...


class Session:
    plain = True  # its pushes are plain enqueues unless ``fault`` is set (``push_all``)

    __slots__ = (
        "accepted",
        "bytes_max",
        "client",
        "close_code",
        "closing",
        "direct",
        "fault",
        "flusher",
        "id",
        "identity",
        "on_close",
        "on_cut",
        "probe",
        "queue",
        "queue_max",
        "queued_bytes",
        "subscriptions",
        "wake",
        "written",
    )

    def __init__(self, client: str, queue_max: int, id: int = 0,
                 bytes_max: int = 1 << 62) -> None:
        self.client = client  # the peer's IP (rate limits)
        self.id = id  # the connection's number (the fault log and feed holds name it)
        self.fault: FrameFilter | None = None  # while the venue has feed fault rules
        self.identity: Identity | None = None  # set by an authenticated subscribe
        self.subscriptions: dict[str, dict[str, None]] = {}  # channel -> ordered product ids
        self.queue: deque[str] = deque()
        self.queue_max = queue_max
        self.bytes_max = bytes_max
        self.queued_bytes = 0  # the text waiting in ``queue`` (the writer takes it off)
        self.written = 0  # the text handed to the transport so far (the read probe's measure)
        self.probe: ReadProbe | None = None  # pings the client to see it reads (endpoint)
        self.wake = asyncio.Event()
        self.closing = False  # no more frames: the writer flushes the queue, then closes
        self.close_code = 1000  # the close frame's code (1012 when the venue was restored)
        self.accepted = False  # an (un)subscribe was accepted (the §9.1 deadline is met)
        self.on_close: Callable[[], object] | None = None  # the endpoint's close watchdog
        self.on_cut: Callable[[], object] | None = None  # aborts the connection (endpoint)
        self.direct: Direct | None = None  # writes straight to the transport (uvicorn)
        self.flusher: Flusher | None = None  # writes this queue when it has a ``direct``

    def push(self, frame: str, channel: str | None = None, product_id: str | None = None) -> None:
        """Queue one text frame of ``channel`` (``None``: a reply to the client, never
        faulted) about ``product_id``; feed fault rules see channel frames first."""
        fault = self.fault
        if fault is not None and channel is not None:
            fault.push(frame, channel, product_id)
            return
        self.enqueue(frame)

    def enqueue(self, frame: str) -> None:
        """Queue one text frame (a no-op once the session is closing)."""
        if self.closing:
            return
        queue = self.queue
        queued = self.queued_bytes + len(frame)
        if queued > self.bytes_max or len(queue) >= self.queue_max:
            self.cut()
            return
        queue.append(frame)
        self.queued_bytes = queued
        flusher = self.flusher
        if flusher is not None:
            flusher.mark(self)
        else:
            self.wake.set()

    def cut(self) -> None:
        """The client is not keeping up: drop its queue and abort the connection (``on_cut``);
        without a transport to abort (in-process tests), close politely after the error."""
        if self.closing:
            return
        self.queue.clear()
        self.queued_bytes = 0
        if self.on_cut is None:
            self.close(Error.FEED_SLOW_CONSUME, Error.FEED_SLOW_CONSUME_REASON.format())
            return
        self.closing = True
        self.wake.set()
        self.on_cut()

    def close(self, message: Error | None = None, reason: str = "", code: int = 1000) -> None:
        """Stop accepting frames; send ``{"type":"error",…}`` last if ``message`` is given,
        then a close frame with ``code``."""
        if self.closing:
            return
        if message is not None:
            frame = encode(error(message, reason))
            self.queue.append(frame)
            self.queued_bytes += len(frame)
        self.closing = True
        self.close_code = code
        self.wake.set()
        if self.on_close is not None:
            self.on_close()

    def channels(self) -> dict[str, list[str]]:
        """The current subscriptions, for the ``subscriptions`` reply."""
        return {name: list(ids) for name, ids in self.subscriptions.items()}


def push_all(sessions: Iterable[Session], frame: str, channel: str, product_id: str | None,
             skip: Collection[Session] = ()) -> None:
    """``push`` one frame to every session but those in ``skip``: what the hub's fan-out does
    for each message, so ``enqueue`` is written out here for the sessions with no fault rule
    or tracing in the way (the same bounds, the same cut; a queue already holding frames is
    already marked for the flusher or in its writer's hands, so only an empty one is)."""
    size = len(frame)
    for s in sessions:
        if skip and s in skip:
            continue
        if s.fault is not None or not s.plain:
            s.push(frame, channel, product_id)
            continue
        if s.closing:
            continue
        queue = s.queue
        queued = s.queued_bytes + size
        if queued > s.bytes_max or len(queue) >= s.queue_max:
            s.cut()
            continue
        if not queue:
            flusher = s.flusher
            if flusher is not None:
                flusher.mark(s)
            else:
                s.wake.set()
        queue.append(frame)
        s.queued_bytes = queued
