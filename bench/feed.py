"""The WebSocket feed under load: deliveries/s to N loopback subscribers while orders flow,
and the latency between a command's durable commit and its delivery.

    cd /work/main && .venv/bin/python bench/feed.py [--subscribers 100,1000] [--seconds 5]
        [--rate R] [--channel full|matches|level2] [--ephemeral] [--baseline DIR]
        [--connections 8] [--client c|python]

For each N, three processes:

* the server: ``sandex.server.build`` + ``serve`` on a free port with its journal on (a
  temporary data dir, so every command waits for its fsync; ``--ephemeral`` keeps it in
  memory), with one extra node listener inserted *before* the feed's that records
  ``time.monotonic()`` for each sequence number as its command becomes durable;
* a driver: ``--connections`` (8) keep-alive HTTP connections, each placing signed crossing
  orders (a sell, then a buy that takes it: 6 ``full`` messages per pair) on BTC-USD, as
  fast as answers come back or at its share of ``--rate`` orders/s (one connection waits
  for each fsync in turn and cannot offer the load);
* the subscribers, all in one cheap client process: ``bench/feed_client.c`` compiled with the
  machine's C compiler (one epoll loop; per frame a header parse), or, with no compiler or
  ``--client python``, the same client in Python (``Subscriber``, raw asyncio protocols).
  Every subscriber counts frames and answers pings; the first 50 also read each frame's
  ``sequence`` and its receive time (``CLOCK_MONOTONIC`` is shared by all processes on Linux).

Deliveries/s = frames received by all subscribers during the driven window / its length.
Latency = receive time - durable time of the same sequence, over the sampled subscribers
(``full``/``matches`` only: ``level2`` frames carry no sequence). Connections the server
dropped (slow consumers) are counted. CPU from /proc over the window: the server's per
delivery (the figure that survives a busy machine), the client's, and the machine's load
average. ``--baseline DIR`` runs, for each N, the ``sandex`` package in DIR (e.g. a ``git
worktree`` of an older commit) first and this tree's second, printed side by side. On a
2-core machine the server, driver and client share the cores, so figures are a floor.
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
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kit import (
    SCENARIO,
    build_c,
    cpu_seconds,
    free_port,
    machine,
    machine_busy_seconds,
    percentile,
    scenario_keys,
    signed_headers,
    source_digest,
    wait_ready,
)

SAMPLED = 50
PER_ADDRESS = 100  # subscribers per source address (the server takes 128 at once from one)
SEQUENCE = re.compile(rb'"sequence":(\d+)')


# -- the server process -----------------------------------------------------------------------

def run_server(port: int, data_dir: str | None, record: str, src: str | None = None) -> None:
    if src is not None:  # another sandex package (``--baseline``), ahead of this tree's
        sys.path.insert(0, src)
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

def run_driver(port: int, seconds: float, rate: float | None, connections: int) -> None:
    """``connections`` keep-alive connections (threads), each placing crossing pairs closed
    loop (or at its share of ``rate``); prints the orders placed and the seconds taken."""
    seller, buyer = scenario_keys()[:2]
    started = time.monotonic()
    placed = [0] * connections
    failed: list[str] = []

    def drive(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        share = rate / connections if rate is not None else None
        orders, price = 0, 30000 + index
        while time.monotonic() - started < seconds and not failed:
            for key, side in ((seller, "sell"), (buyer, "buy")):
                if share is not None:
                    due = started + orders / share
                    time.sleep(max(0.0, due - time.monotonic()))
                body = json.dumps({"product_id": "BTC-USD", "side": side, "type": "limit",
                                   "price": str(price), "size": "0.01"}).encode()
                conn.request("POST", "/orders", body, {
                    "Content-Type": "application/json",
                    **signed_headers(key, "POST", "/orders", body)})
                reply = conn.getresponse()
                answer = reply.read()
                if reply.status == 400 and b"Too many open orders" in answer:
                    # racing connections leave orders resting (one's buy takes another's
                    # sell): at the venue's 500 a profile's are canceled, the tape goes on
                    conn.request("DELETE", "/orders", headers=signed_headers(
                        key, "DELETE", "/orders"))
                    reply = conn.getresponse()
                    answer = reply.read()
                    if reply.status == 200:
                        continue  # this order not placed: the next one is
                if reply.status != 200:
                    failed.append(f"driver: {reply.status} {answer[:200]!r}")
                    return
                orders += 1
                placed[index] = orders
            price = 30000 + (price - 29999) % 50  # walk the price so the tape moves

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise SystemExit(failed[0])
    print(json.dumps({"orders": sum(placed), "seconds": time.monotonic() - started}),
          flush=True)


# -- the subscribers (the client process) -------------------------------------------

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


def client_command(kind: str, port: int, count: int, message_file: str,
                   build_dir: str) -> tuple[list[str], str]:
    """The subscriber process's command line and what it is: the C client if ``kind`` allows
    and a C compiler builds it, else this file's Python client."""
    binary = build_c("feed_client", Path(build_dir)) if kind == "c" else None
    if binary is not None:
        return [str(binary), str(port), str(count), str(SAMPLED), message_file], "C (epoll)"
    return [sys.executable, __file__, "_subscribe", str(port), str(count), message_file], \
        "Python (asyncio)"


def run_subscribers(port: int, count: int, message_file: str) -> None:
    """The Python client process: ``feed_client.c``'s protocol on stdin and stdout."""
    loop = asyncio.new_event_loop()
    message = Path(message_file).read_bytes()

    async def main() -> None:
        subscribers = []
        for i in range(count):
            ready: asyncio.Future[None] = loop.create_future()
            _, protocol = await loop.create_connection(
                lambda r=ready, i=i: Subscriber(message, i < SAMPLED, r), "127.0.0.1", port,
                local_addr=(f"127.0.0.{2 + i // PER_ADDRESS}", 0))
            await asyncio.wait_for(ready, 10)
            subscribers.append(protocol)
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        quiet_since, total = time.monotonic(), -1
        while time.monotonic() - quiet_since < 0.5:  # drain what is still in flight
            await asyncio.sleep(0.05)
            now_total = sum(s.frames for s in subscribers)
            if now_total != total:
                total, quiet_since = now_total, time.monotonic()
        print(json.dumps({
            "subscribers": [[s.frames, s.first, s.last, int(s.closed)] for s in subscribers],
            "samples": [list(x) for s in subscribers for x in s.samples]}), flush=True)

    loop.run_until_complete(main())


def one_run(count: int, args: argparse.Namespace, src: str | None) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sandex-feed-bench-") as tmp:
        record = str(Path(tmp) / "durable.json")
        data_dir = None if args.ephemeral else str(Path(tmp) / "data")
        message_file = str(Path(tmp) / "subscribe.json")
        server = subprocess.Popen(
            [sys.executable, __file__, "_serve", str(port), data_dir or "", record, src or ""],
            stdout=subprocess.DEVNULL)
        command, client_kind = client_command(args.client, port, count, message_file, tmp)
        try:
            wait_ready(port, server, 120)  # a busy machine: the scenario takes a while
            Path(message_file).write_bytes(_subscribe_message(args.channel))  # signed now
            client = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert client.stdout is not None and client.stdin is not None
            if not select.select([client.stdout], [], [], 120)[0] or \
                    client.stdout.readline().strip() != b"ready":
                client.kill()
                raise SystemExit("subscribers: not all subscribed within 120 s")
            cpu = (cpu_seconds(server.pid), cpu_seconds(client.pid), machine_busy_seconds(),
                   time.monotonic())
            driver = subprocess.run(
                [sys.executable, __file__, "_drive", str(port), str(args.seconds),
                 str(args.rate or 0), str(args.connections)], stdout=subprocess.PIPE,
                check=True)
            client.stdin.write(b"stop\n")
            client.stdin.flush()
            received = json.loads(client.stdout.readline())
            cpu_after = (cpu_seconds(server.pid), cpu_seconds(client.pid),
                         machine_busy_seconds(), time.monotonic())
            client.wait(30)
            driven = json.loads(driver.stdout)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        durable = {int(k): v for k, v in json.loads(Path(record).read_text()).items()}
    subs = received["subscribers"]
    frames = sum(s[0] for s in subs)
    first = min(s[1] for s in subs if s[0])
    last = max(s[2] for s in subs if s[0])
    latencies = sorted((t - durable[seq]) * 1000 for seq, t in received["samples"]
                       if seq in durable)
    wall = cpu_after[3] - cpu[3]
    server_cpu = (cpu_after[0] or 0) - (cpu[0] or 0)
    return {"subscribers": count, "channel": args.channel, "client": client_kind,
            "code": source_digest(Path(src)) if src else source_digest(),
            "orders_per_s": driven["orders"] / driven["seconds"],
            "messages": frames, "messages_per_s": frames / (last - first),
            "latency_ms_p50": percentile(latencies, 0.50),
            "latency_ms_p99": percentile(latencies, 0.99),
            "latency_samples": len(latencies),
            "dropped": sum(1 for s in subs if s[3]),
            "server_cpu_share": server_cpu / wall,
            "server_us_per_delivery": server_cpu / max(1, frames) * 1e6,
            "client_cpu_share": ((cpu_after[1] or 0) - (cpu[1] or 0)) / wall,
            "machine_busy_cores": (cpu_after[2] - cpu[2]) / wall,
            "load_average": os.getloadavg()[0]}


def _line(r: dict[str, Any], label: str) -> str:
    return (f"{r['subscribers']:>5} subscribers, {label:<8} {r['orders_per_s']:6.0f} orders/s, "
            f"{r['messages_per_s']:9,.0f} deliveries/s ({r['messages']:,}), commit->delivery "
            f"p50 {r['latency_ms_p50']:6.2f} ms p99 {r['latency_ms_p99']:6.2f} ms "
            f"({r['latency_samples']} samples), dropped {r['dropped']}; server "
            f"{r['server_cpu_share']:.0%} of a core, {r['server_us_per_delivery']:.2f} us/delivery;"
            f" client {r['client_cpu_share']:.0%}; machine {r['machine_busy_cores']:.2f} cores "
            f"busy, load {r['load_average']:.1f}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        run_server(int(sys.argv[2]), sys.argv[3] or None, sys.argv[4], sys.argv[5] or None)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_drive":
        run_driver(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) or None,
                   int(sys.argv[5]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_subscribe":
        run_subscribers(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="100,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=None, help="orders/s (default: max)")
    parser.add_argument("--connections", type=int, default=8,
                        help="the driver's order connections (closed loop each)")
    parser.add_argument("--channel", default="full", choices=("full", "matches", "level2"))
    parser.add_argument("--ephemeral", action="store_true", help="no journal on disk")
    parser.add_argument("--baseline", help="a directory holding another sandex package, run "
                                           "before this tree's for each N (side by side)")
    parser.add_argument("--client", default="c", choices=("c", "python"),
                        help="the subscriber process: the C client (default, Python without a "
                             "compiler) or the Python one")
    args = parser.parse_args()
    pace = f"at {args.rate:g}/s" if args.rate else "closed loop"
    pace += f" on {args.connections} connections"
    print(f"feed bench: {machine()}; channel {args.channel}, {args.seconds:g} s per run, "
          f"orders {pace}, journal "
          f"{'in memory' if args.ephemeral else 'on disk (fsync)'}", flush=True)
    codes = ([("baseline", str(Path(args.baseline).resolve()))] if args.baseline else []) + \
        [("this", None)]
    results: list[tuple[str, dict[str, Any]]] = []
    for count in (int(n) for n in args.subscribers.split(",")):
        for label, src in codes:
            with contextlib.suppress(KeyboardInterrupt):
                r = one_run(count, args, src)
                results.append((label, r))
                print(_line(r, label), flush=True)
    client = results[0][1]["client"] if results else "?"
    print(f"(subscribers: {client} client process; code "
          + ", ".join(sorted({f"{label} {r['code']}" for label, r in results})) + ")")
    print(json.dumps([{"code": label, **r} for label, r in results]))


if __name__ == "__main__":
    main()
