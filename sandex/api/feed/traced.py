"""A connection that counts, in test mode, the frames of each traced command it is offered.

``Feed`` makes its connections ``TracedSession``s only when the venue keeps traces
(``sandex.api.tracer``); everywhere else a connection is a plain ``Session``. For each
channel frame the hub pushes while it fans out a command, the tracer learns whether the
frame was queued for this connection or withheld (dropped, held or reordered by a feed fault
rule, or lost with a full queue).
"""

from __future__ import annotations

from typing import Protocol

from sandex.api.feed.faults import frame_type
from sandex.api.feed.session import Session


class Deliveries(Protocol):
    """The tracer's side (``sandex.api.tracer.Tracer``)."""

    @property
    def feeding(self) -> object: ...  # the command being fanned out (``None``: none)

    def delivered(self, channel: str, type_: str, sent: bool) -> None: ...


class TracedSession(Session):
    plain = False  # every push goes through ``push`` (``sandex.api.feed.session.push_all``)

    __slots__ = ("enqueued", "tracer")

    def __init__(self, client: str, queue_max: int, id: int, tracer: Deliveries,
                 bytes_max: int = 1 << 62) -> None:
        super().__init__(client, queue_max, id, bytes_max)
        self.tracer = tracer
        self.enqueued = 0  # frames queued so far

    def push(self, frame: str, channel: str | None = None, product_id: str | None = None) -> None:
        tracer = self.tracer
        if channel is None or tracer.feeding is None:
            super().push(frame, channel, product_id)
            return
        before = self.enqueued
        super().push(frame, channel, product_id)
        tracer.delivered(channel, frame_type(frame) or "?", self.enqueued > before)

    def enqueue(self, frame: str) -> None:
        if not self.closing and len(self.queue) < self.queue_max and \
                self.queued_bytes + len(frame) <= self.bytes_max:
            self.enqueued += 1
        super().enqueue(frame)
