"""Read progress: is the client at the other end of a feed connection still reading?

Bytes accepted by the kernel say nothing about that: on loopback or a fast LAN the client's
receive buffer and ours hold hundreds of kilobytes, so a client that stopped reading is found
out by the byte bounds (``queue_bytes_max``) only after it has been sent all that, at the full
cost of a reading subscriber per frame. A WebSocket ping says it exactly: the pong comes back
once the client has read everything sent before the ping (TCP keeps the order, and every
conforming client answers pings as it reads). So once per ``read_check_interval_s`` a
connection that has been sent frames since its last answered ping gets a ping, and one whose
ping stays unanswered for ``read_lag_max_s`` is cut like any slow consumer.

Only on uvicorn's sans-I/O WebSocket protocol (``sandex.api.guard.GuardedWebSocket``, which
reports pongs to ``on_pong``); elsewhere (in-process tests) there is no probe.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sandex.api.http import Send


class ReadProbe:
    """The feed's pings on one connection and what their pongs acknowledged."""

    __slots__ = ("acked", "at_ping", "conn", "count", "pending", "sent_at", "transport")

    def __init__(self, protocol: Any) -> None:
        self.conn = protocol.conn  # websockets' sans-I/O connection
        self.transport: asyncio.Transport = protocol.transport
        self.pending: bytes | None = None  # the payload of the unanswered ping
        self.sent_at = 0.0  # when it was sent (loop time)
        self.at_ping = 0  # the bytes written to the connection when it was sent
        self.acked = 0  # the bytes the client has shown it read (the last pong's ``at_ping``)
        self.count = 0  # pings sent (their payloads: the feed's pings are told apart)
        protocol.on_pong = self.pong

    @classmethod
    def of(cls, send: Send) -> ReadProbe | None:
        protocol = getattr(send, "__self__", None)
        if getattr(protocol, "conn", None) is None or not hasattr(protocol, "on_pong"):
            return None
        return cls(protocol)

    def lagging(self, written: int, now: float, lag_max: float) -> bool:
        """Whether the client has left a ping unanswered for ``lag_max`` seconds; if none is
        out and it has been sent bytes since the last pong (``written``), ping it now."""
        if self.pending is not None:
            return now - self.sent_at > lag_max
        if written != self.acked and not self.transport.is_closing():
            self.count += 1
            self.pending = b"sandex-%d" % self.count
            self.sent_at, self.at_ping = now, written
            try:
                self.conn.send_ping(self.pending)
                self.transport.write(b"".join(self.conn.data_to_send()))
            except Exception:  # closing: the endpoint's reader meets the disconnect
                self.pending = None
        return False

    def pong(self, data: bytes) -> None:
        if data == self.pending:
            self.pending = None
            self.acked = self.at_ping
