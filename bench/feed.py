"""The WebSocket feed under load: messages/s delivered to N loopback subscribers while orders
flow, and the latency added between a command's durable commit and its delivery.

    cd /work/main && .venv/bin/python bench/feed.py [--subscribers 100,1000] [--seconds 5]
        [--rate R] [--channel full|matches|level2] [--ephemeral]

For each N, three processes:

* the server: ``sandex.server.build`` + ``serve`` on a free port with its journal on (a
  temporary data dir, so every command waits for its fsync; ``--ephemeral`` keeps it in
  memory), with one extra node listener inserted *before* the feed's that records
  ``time.monotonic()`` for each sequence number as its command becomes durable;
* a driver: one keep-alive HTTP connection placing signed crossing orders (a sell, then a
  buy that takes it: 6 ``full`` messages per pair) on BTC-USD, as fast as answers come back
  or at ``--rate`` orders/s;
* this process: N subscribers on raw asyncio sockets (a minimal WebSocket client: it only
  splits frames, so the client side costs as little as possible), all on ``--channel`` for
  BTC-USD; every subscriber counts frames, the first 50 also read each frame's ``sequence``
  and the receive time (``CLOCK_MONOTONIC`` is shared by all processes on Linux).

Delivered messages/s = frames received by all subscribers during the driven window / its
length. Latency = receive time - durable time of the same sequence, over the sampled
subscribers (``full``/``matches`` only: ``level2`` frames carry no sequence). Connections the
server dropped as slow consumers are counted. On a 2-core machine the three processes share
the cores, so the figures are a floor for the server, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kit import SCENARIO, free_port, percentile, scenario_keys, signed_headers, wait_ready

SAMPLED = 50
SEQUENCE = re.compile(rb'"sequence":(\d+)')


# -- the server process -----------------------------------------------------------------------

def run_server(port: int, data_dir: str | None, record: str) -> None:
    from sandex.server import build, serve

    venue = build(SCENARIO, rate_limits=False, data_dir=Path(data_dir) if data_dir else None)
    durable: dict[int, float] = {}

    def stamp(events: list[Any]) -> None:
        now = time.monotonic()
        for event in events:
            sequence = getattr(event, "sequence", None)
            if sequence is not None and getattr(event, "product_id", None) == "BTC-USD":
                durable[sequence] = now

    venue.node.listeners.insert(0, stamp)  # before the feed's fan-out
    serve(venue, "127.0.0.1", port)
    Path(record).write_text(json.dumps(durable))


# -- the driver process -----------------------------------------------------------------------

def run_driver(port: int, seconds: float, rate: float | None) -> None:
    seller, buyer = scenario_keys()[:2]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    orders, started = 0, time.monotonic()
    price = 30000
    while time.monotonic() - started < seconds:
        for key, side in ((seller, "sell"), (buyer, "buy")):
            if rate is not None:
                due = started + orders / rate
                time.sleep(max(0.0, due - time.monotonic()))
            body = json.dumps({"product_id": "BTC-USD", "side": side, "type": "limit",
                               "price": str(price), "size": "0.01"}).encode()
            conn.request("POST", "/orders", body, {
                "Content-Type": "application/json",
                **signed_headers(key, "POST", "/orders", body)})
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise SystemExit(f"driver: {reply.status}")
            orders += 1
        price = 30000 + (price - 29999) % 50  # walk the price so the tape moves
    print(json.dumps({"orders": orders, "seconds": time.monotonic() - started}), flush=True)


# -- the subscribers (this process) -------------------------------------------------------------

class Subscriber(asyncio.Protocol):
    """A minimal WebSocket client: handshake, one masked subscribe frame, frame counting."""

    def __init__(self, subscribe: bytes, sampled: bool, ready: asyncio.Future[None]) -> None:
        self.subscribe, self.sampled, self.ready = subscribe, sampled, ready
        self.buffer = bytearray()
        self.upgraded = False
        self.frames = 0
        self.first = self.last = 0.0
        self.samples: list[tuple[int, float]] = []
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"  # type: ignore[attr-defined]
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        f"Sec-WebSocket-Version: 13\r\n\r\n".encode())

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            del buffer[:end + 4]
            self.upgraded = True
            self.transport.write(_frame(0x1, self.subscribe))  # type: ignore[union-attr]
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start:start + length])
            del buffer[:start + length]
            if opcode == 0x9:
                self.transport.write(_frame(0xA, payload))  # type: ignore[union-attr]
            elif opcode == 0x8:
                self.closed = True
            elif opcode == 0x1:
                self._message(payload, now)

    def _message(self, payload: bytes, now: float) -> None:
        if not self.ready.done():
            self.ready.set_result(None)  # the subscriptions reply
            return
        self.frames += 1
        if self.first == 0.0:
            self.first = now
        self.last = now
        if self.sampled:
            found = SEQUENCE.search(payload)
            if found is not None:
                self.samples.append((int(found.group(1)), now))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client frame, masked with the all-zero key (legal, and the payload stays as is)."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def _subscribe_message(channel: str) -> bytes:
    """An authenticated subscribe: signed as ``GET /users/self/verify`` (§9)."""
    headers = signed_headers(scenario_keys()[2], "GET", "/users/self/verify")
    return json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": [channel],
                       "key": headers["CB-ACCESS-KEY"], "signature": headers["CB-ACCESS-SIGN"],
                       "passphrase": headers["CB-ACCESS-PASSPHRASE"],
                       "timestamp": headers["CB-ACCESS-TIMESTAMP"]}).encode()


async def _connect_all(port: int, count: int, channel: str) -> list[Subscriber]:
    loop = asyncio.get_running_loop()
    subscribers = []
    for i in range(count):
        ready: asyncio.Future[None] = loop.create_future()
        _, protocol = await loop.create_connection(
            lambda r=ready, i=i: Subscriber(_subscribe_message(channel), i < SAMPLED, r),
            "127.0.0.1", port)
        await asyncio.wait_for(ready, 10)
        subscribers.append(protocol)  # type: ignore[arg-type]
    return subscribers


def one_run(count: int, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sandex-feed-bench-") as tmp:
        record = str(Path(tmp) / "durable.json")
        data_dir = None if args.ephemeral else str(Path(tmp) / "data")
        server = subprocess.Popen(
            [sys.executable, __file__, "_serve", str(port), data_dir or "", record],
            stdout=subprocess.DEVNULL)
        try:
            wait_ready(port, server)
            loop = asyncio.new_event_loop()
            subscribers = loop.run_until_complete(_connect_all(port, count, args.channel))
            driver = subprocess.Popen(
                [sys.executable, __file__, "_drive", str(port), str(args.seconds),
                 str(args.rate or 0)], stdout=subprocess.PIPE)

            async def until_done() -> None:
                while driver.poll() is None:
                    await asyncio.sleep(0.05)
                quiet_since, total = time.monotonic(), -1
                while time.monotonic() - quiet_since < 0.5:  # drain what is still in flight
                    await asyncio.sleep(0.05)
                    now_total = sum(s.frames for s in subscribers)
                    if now_total != total:
                        total, quiet_since = now_total, time.monotonic()

            loop.run_until_complete(until_done())
            driven = json.loads(driver.stdout.read())  # type: ignore[union-attr]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        durable = {int(k): v for k, v in json.loads(Path(record).read_text()).items()}
    for s in subscribers:
        if s.transport is not None:
            s.transport.close()
    loop.close()
    frames = sum(s.frames for s in subscribers)
    first = min(s.first for s in subscribers if s.frames)
    last = max(s.last for s in subscribers if s.frames)
    latencies = [(t - durable[seq]) * 1000 for s in subscribers for seq, t in s.samples
                 if seq in durable]
    return {"subscribers": count, "channel": args.channel,
            "orders_per_s": driven["orders"] / driven["seconds"],
            "messages": frames, "messages_per_s": frames / (last - first),
            "latency_ms_p50": percentile(sorted(latencies), 0.50),
            "latency_ms_p99": percentile(sorted(latencies), 0.99),
            "latency_samples": len(latencies),
            "dropped": sum(1 for s in subscribers if s.closed)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        run_server(int(sys.argv[2]), sys.argv[3] or None, sys.argv[4])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_drive":
        run_driver(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) or None)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="100,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=None, help="orders/s (default: max)")
    parser.add_argument("--channel", default="full", choices=("full", "matches", "level2"))
    parser.add_argument("--ephemeral", action="store_true", help="no journal on disk")
    args = parser.parse_args()
    pace = f"at {args.rate:g}/s" if args.rate else "closed loop"
    print(f"feed bench: channel {args.channel}, {args.seconds:g} s per run, orders {pace}, "
          f"journal "
          f"{'in memory' if args.ephemeral else 'on disk (fsync)'}, {os.cpu_count()} cores")
    for count in (int(n) for n in args.subscribers.split(",")):
        with contextlib.suppress(KeyboardInterrupt):
            r = one_run(count, args)
            print(f"{r['subscribers']:>5} subscribers: {r['orders_per_s']:7.0f} orders/s, "
                  f"{r['messages_per_s']:9.0f} messages/s delivered ({r['messages']} in all), "
                  f"commit->delivery p50 {r['latency_ms_p50']:.2f} ms, "
                  f"p99 {r['latency_ms_p99']:.2f} ms ({r['latency_samples']} samples), "
                  f"dropped {r['dropped']}", flush=True)


if __name__ == "__main__":
    main()
