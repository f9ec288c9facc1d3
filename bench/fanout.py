"""The feed's fan-out alone, in one process: server CPU per delivery, for A/B under cachegrind.

    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/fanout.py [--subscribers 1000] [--pairs 200] [--per-pass 4]
        [--channel full] [--src DIR]

First, untimed: a venue in memory (``bench/bench_scenario.toml``) takes ``--pairs`` crossing
pairs on BTC-USD through its ASGI app (signed ``POST /orders``, as ``bench/feed.py``'s driver
sends them), and a node listener records each durable command's events. Then a second venue
from the same scenario (so the same state) gets ``--subscribers`` feed connections, each
subscribed with a signed subscribe to ``--channel`` for BTC-USD through the hub, each with a
stand-in for uvicorn's WebSocket protocol whose transport only counts what it is given (no
syscall: the kernel's share is not measured here, only how many writes reach it). The recorded
commands are handed to the feed's node listener ``--per-pass`` at a time (as a group commit
hands its batch over), each group followed by one event-loop pass (the feed's flush).

Printed: deliveries (frames written to all connections), transport writes, and the CPU time
of the replay per delivery. Under cachegrind, run once with ``--pairs 0`` and once with N; the
difference of the instruction counts over the difference of deliveries is the fan-out's cost
of one delivery. ``--src DIR`` runs the ``sandex`` package in DIR (another build, for A/B).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class Transport:
    """What ``Direct`` and the read probe use of an asyncio transport; counts writes."""

    def __init__(self, keep: bool) -> None:
        self.writes = 0
        self.size = 0
        self.kept: list[bytes] | None = [] if keep else None

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.size += len(data)
        if self.kept is not None:
            self.kept.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Conn:
    """websockets' sans-I/O connection as ``Direct.of`` sees it: no extension negotiated."""

    extensions: tuple[Any, ...] = ()


class Protocol:
    """uvicorn's WebSocket protocol as the feed's ``Direct`` uses it."""

    def __init__(self, keep: bool) -> None:
        self.transport = Transport(keep)
        self.writable = asyncio.Event()
        self.writable.set()
        self.conn = Conn()
        self.disconnected = False
        self.close_sent = False

    async def send(self, message: dict[str, Any]) -> None:  # ``Direct.of`` reads __self__
        raise AssertionError(f"the benchmark's connections take direct writes only: {message}")


def frames_in(chunks: list[bytes]) -> int:
    """The WebSocket frames in what one connection was written (server frames: unmasked)."""
    data, count, pos = b"".join(chunks), 0, 0
    while pos < len(data):
        n, start = data[pos + 1] & 0x7F, 2
        if n == 126:
            n, start = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
        elif n == 127:
            n, start = int.from_bytes(data[pos + 2:pos + 10], "big"), 10
        pos += start + n
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--per-pass", type=int, default=4, help="commands per flush pass")
    parser.add_argument("--channel", default="full")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    sys.path.insert(1 if args.src else 0, str(HERE.parent))
    sys.path.insert(2 if args.src else 1, str(HERE))
    from kit import SCENARIO, scenario_keys, signed_headers  # after --src

    from sandex.api.feed import Feed
    from sandex.api.feed.flush import Direct, Flusher
    from sandex.api.feed.session import Session
    from tests.api.rest.harness import InProcessVenue

    keys = scenario_keys()
    batches: list[list[Any]] = []
    source = InProcessVenue(SCENARIO, rate_limits=False)
    source.venue.node.listeners.append(batches.append)
    seller, buyer = keys[0], keys[1]
    for i in range(args.pairs):
        for key, side in ((seller, "sell"), (buyer, "buy")):
            body = json.dumps({"product_id": "BTC-USD", "side": side, "type": "limit",
                               "price": str(30000 + i % 50), "size": "0.01"}).encode()
            reply = source.call("POST", "/orders", body, {
                "Content-Type": "application/json",
                **signed_headers(key, "POST", "/orders", body, str(source.clock()))})
            assert reply.status == 200, reply.body
    source.close()

    target = InProcessVenue(SCENARIO, rate_limits=False)
    feed = next(f.__self__ for f in target.venue.node.listeners  # the venue's Feed
                if isinstance(getattr(f, "__self__", None), Feed))
    loop = target.loop
    asyncio.set_event_loop(loop)
    flusher = Flusher(loop, feed.holds)
    subscribe = keys[2]
    headers = signed_headers(subscribe, "GET", "/users/self/verify", b"", str(target.clock()))
    message = json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"],
                          "channels": [args.channel], "key": subscribe.key,
                          "signature": headers["CB-ACCESS-SIGN"],
                          "passphrase": subscribe.passphrase,
                          "timestamp": headers["CB-ACCESS-TIMESTAMP"]})
    protocols = []
    for i in range(args.subscribers):
        protocol = Protocol(keep=i == 0)
        protocols.append(protocol)
        session = Session("127.0.0.1", feed.limits.queue_max, i + 1, feed.limits.queue_bytes_max)
        session.direct = Direct.of(protocol.send)
        assert session.direct is not None
        session.flusher = flusher
        feed.attach(session)
        feed.hub.handle(session, message)
    loop.run_until_complete(asyncio.sleep(0))  # the subscriptions replies and snapshots
    first = protocols[0].transport
    assert first.kept, "no subscriptions reply"
    before = frames_in(first.kept)
    writes_before = sum(p.transport.writes for p in protocols)
    first.kept = []

    listener = feed.on_events
    started = time.process_time()
    for start in range(0, len(batches), args.per_pass):
        for events in batches[start:start + args.per_pass]:
            listener(events)
        loop.run_until_complete(asyncio.sleep(0))
    took = time.process_time() - started

    per_connection = frames_in(first.kept)
    deliveries = per_connection * args.subscribers
    writes = sum(p.transport.writes for p in protocols) - writes_before
    import sandex

    print(f"sandex from {Path(sandex.__file__).parent}; {args.subscribers} subscribers to "
          f"{args.channel}, {len(batches)} commands, {args.per_pass} per pass; "
          f"{before} frames each before", file=sys.stderr)
    print(json.dumps({"deliveries": deliveries, "writes": writes,
                      "us_per_delivery": took / max(1, deliveries) * 1e6}))
    target.close()


if __name__ == "__main__":
    main()
