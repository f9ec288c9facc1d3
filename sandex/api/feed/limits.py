"""The feed's named limits and intervals, each with why (STYLE 7), configurable per venue.

Defaults follow §8.1/§9.7 (Coinbase's WebSocket limits) and §9.1/§9.5 (deadline, intervals).
A scenario file may override any of them in a ``[feed]`` table (see ``docs/feed.md``); the
``[venue] rate_limits`` switch turns the feed's rate limits off together with REST's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedLimits:
    rate_limits: bool = True
    connections_rate: float = 8.0
    """New connections per second per IP (§8.1: "8 req/s per IP"); refused with HTTP 429."""
    connections_burst: int = 20
    """§8.1 burst for connections."""
    messages_rate: float = 100.0
    """Client messages per second per IP (§9.7: "100 client messages/s per IP")."""
    messages_burst: int = 100
    """Token bucket size for client messages: one second's worth (GUESS)."""
    queue_max: int = 10_000
    """Frames waiting for one connection. A client this far behind is not keeping up: it is
    disconnected with ``ErrSlowConsume`` (§9.6) so memory per connection stays bounded
    (about 3 MB of typical frames) and nobody else waits for it."""
    queue_bytes_max: int = 262_144
    """256 KiB of frames waiting for one connection (their JSON text). Past it the client is
    cut like one past ``queue_max``: its connection aborted at once, not closed politely
    (a consumer that stopped reading would never drain a close). With the transport's
    buffer (uvicorn pauses sends above 64 KiB) this bounds what one connection holds in the
    server process at about 320 KiB; a reader that keeps up has a few frames queued at most.
    (GUESS: Coinbase documents no figure; at 2,500 orders/s a ``full`` subscriber of one
    product gets about 2.5 MB/s, so this is ~100 ms behind, beyond the kernel buffers.)"""
    socket_send_bytes: int = 131_072
    """The kernel send buffer of a feed connection (``SO_SNDBUF``; Linux doubles it). Left
    to autotuning it grows to ``tcp_wmem``'s maximum (4 MiB) per connection that stops
    reading, which both hides a slow consumer for thousands of messages and costs kernel
    memory; 128 KiB is plenty for loopback and LAN clients."""
    flush_gap_max_s: float = 0.02
    """The longest the feed waits after one write pass over its connections before the next
    (``sandex.api.feed.flush``): passes are spaced by their own duration, so the writes leave
    the rest of the server as much time as they take and carry every command committed
    meanwhile; this caps what that adds to a frame's latency when a pass is long (thousands
    of connections, a busy machine). 20 ms keeps commit-to-delivery well under 50 ms."""
    read_lag_max_s: float = 5.0
    """How long a client may leave a ping unanswered while it is being sent frames before it
    is cut as a slow consumer (``sandex.api.feed.progress``): the pong comes once it has read
    everything sent before the ping, so this is how far behind the market a subscriber may
    fall. It finds a client that stopped reading in seconds, where the byte bounds wait for
    the kernel buffers on both ends to fill (hundreds of KB on loopback, tens of seconds of
    a busy market's fan-out at the full cost of a reader). GUESS: Coinbase documents no
    figure; 5 s is far beyond a reader's scheduling hiccups and far short of uvicorn's 20 s
    keepalive timeout (which closes politely, waiting on a client that does not read)."""
    read_check_interval_s: float = 1.0
    """How often connections are pinged (only those sent frames since their last pong) and
    their unanswered pings checked against ``read_lag_max_s``."""
    subscribe_deadline_s: float = 5.0
    """§9.1: a connection with no accepted (un)subscribe after this long is closed."""
    message_bytes_max: int = 65_536
    """Largest client message accepted (``Message too big``, §9.6); a subscribe for every
    product of a large venue fits in a few kilobytes."""
    subscriptions_per_product: int = 10
    """§9.4 (2024-06-24): at most 10 subscriptions per product, per channel, per account
    (the same product and channel on several connections each count); authenticated
    subscribers count per profile, others per IP (GUESS). Off with the rate limits."""
    balance_interval_s: float = 0.1
    """How often changed balances are sent on the ``balance`` channel, coalesced (GUESS:
    Coinbase says it "does not track every update", not how often it sends)."""
    heartbeat_interval_s: float = 1.0
    """§9.5: one heartbeat per product per second."""
    ticker_batch_interval_s: float = 5.0
    """§9.5: ``ticker_batch`` every 5 s when the ticker changed."""
    level2_batch_interval_s: float = 0.05
    """§9.5: ``level2_batch`` updates every 50 ms."""
    status_interval_s: float = 10.0
    """``status`` resend interval (§9.5 says "a fixed interval"; 10 s is a GUESS)."""
    close_grace_s: float = 5.0
    """How long a connection being closed may take to flush its last error frame before the
    server aborts it (a consumer that stopped reading never drains)."""

    @classmethod
    def from_table(cls, table: dict[str, Any], rate_limits: bool = True) -> FeedLimits:
        """Limits from a ``[feed]`` TOML table; ``ValueError`` names a bad or unknown key."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {"rate_limits": rate_limits}
        for name, value in table.items():
            spec = known.get(name)
            if spec is None or name == "rate_limits":
                raise ValueError(f"[feed]: unknown setting {name!r}")
            kind = int if spec.type == "int" else float
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"[feed]: {name} must be a number")
            if kind is int and not isinstance(value, int):
                raise ValueError(f"[feed]: {name} must be an integer")
            if value <= 0:
                raise ValueError(f"[feed]: {name} must be positive")
            values[name] = kind(value)
        return replace(cls(), **values)
