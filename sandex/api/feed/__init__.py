"""The WebSocket feed (§9): Coinbase's channels over the REST server's port.

* ``protocol``: (un)subscribe messages parsed and checked; the reply and error shapes.
* ``auth``: subscribe signatures, checked as REST checks ``GET /users/self/verify``.
* ``state``: the venue as of the last durable command (book mirror, last trade, stats).
* ``render``: each channel's messages from events and state.
* ``session``: one connection's subscriptions and bounded outbound queue (cut when full).
* ``flush``: queued frames written straight to the transport, once per loop pass.
* ``balances``: the ``balance`` channel's watched accounts and coalesced changes.
* ``hub``: the subscription index and the fan-out of each durable command.
* ``endpoint``: the ASGI WebSocket endpoint (``Feed``), rate limits and timers.
* ``limits``: every limit and interval, with why; overridable from a scenario's ``[feed]``.

A gateway beside REST: it never imports ``sandex.api.rest`` (``tests/test_layers.py``).
Only ``sandex.server`` and ``sandex.scenario`` import this package. See ``docs/feed.md``.
"""

from sandex.api.feed.endpoint import Feed
from sandex.api.feed.limits import FeedLimits

__all__ = ["Feed", "FeedLimits"]
