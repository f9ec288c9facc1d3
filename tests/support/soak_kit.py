"""A bounded soak: hundreds of abusive connections against one server while a well-behaved
client trades, measuring that client's latency and the server's memory.

    .venv/bin/python -m tests.support.soak_kit [--seconds 60] [--connections 500]

(``make soak``; ``tests/rest/test_soak.py`` runs a 10-second version.) The abusive
connections come from ``127.0.0.2`` upwards, 100 per address (under the per-address cap),
in four kinds kept open all along (each reconnects when the server closes it):

* idle: connects and sends nothing (closed after ``idle_timeout_s``);
* slowloris: sends a request head one byte a second (closed ``header_timeout_s`` after its
  first byte);
* half-sent: sends a whole head announcing a 1000-byte body and 10 bytes of it (closed
  ``body_timeout_s`` later);
* silent subscriber: subscribes to ``heartbeat`` and ``ticker`` on the feed and never reads.

The server runs with the default timeouts (``--timeouts S`` shortens the three of them, as the
10-second test does, so that connections churn within a short run). The
well-behaved client, in its own process on its own keep-alive connection, places a resting
order and cancels it, 10 times a second each, and records every answer's latency; the
server's resident memory is read every second. Printed: the connections opened and closed
by the server, the client's requests, errors and p50/p99/max latency, and the server's memory
(mean of the first and last thirds of the run, and its maximum). Passes with p99 < 10 ms, no
error, and memory flat (last third within 20 MB of the first).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.feed_kit import scenario_with
from tests.support.rest_kit import ALICE, RawClient, Server, start_server

PER_ADDRESS = 100
KINDS = ("idle", "slowloris", "half-sent", "silent-subscriber")
HTTP_TABLE = "\n[http]\nidle_timeout_s = {0}\nheader_timeout_s = {0}\nbody_timeout_s = {0}\n"


@dataclass
class Figures:
    opened: int = 0
    closed_by_server: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _abuser(port: int, number: int, kind: str, stop: asyncio.Event,
                  figures: Figures) -> None:
    """One abusive connection, reopened each time the server closes it."""
    address = f"127.0.0.{2 + number // PER_ADDRESS}"
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                           local_addr=(address, 0))
        except OSError:
            await asyncio.sleep(0.2)
            continue
        figures.opened += 1
        with contextlib.suppress(ConnectionError, OSError):
            await _misbehave(kind, reader, writer, stop)
        if not stop.is_set():
            figures.closed_by_server += 1
        writer.close()


async def _misbehave(kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     stop: asyncio.Event) -> None:
    """Return when the server closed the connection (or the soak is over)."""
    closed = asyncio.ensure_future(reader.read(1 << 20) if kind != "silent-subscriber"
                                   else asyncio.sleep(1e9))
    try:
        await _act(kind, reader, writer, stop, closed)
    finally:
        closed.cancel()


async def _act(kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               stop: asyncio.Event, closed: asyncio.Future[Any]) -> None:
    if kind == "slowloris":
        head = b"GET /time HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        for byte in head:
            writer.write(bytes([byte]))
            done, _ = await asyncio.wait({closed}, timeout=1.0)
            if done or stop.is_set():
                break
    elif kind == "half-sent":
        writer.write(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n" + b"{" * 10)
    elif kind == "silent-subscriber":
        closed.cancel()
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(f"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade"
                     f"\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                     .encode())
        await reader.readuntil(b"\r\n\r\n")
        body = json.dumps({"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"],
                           "channels": ["heartbeat", "ticker"]}).encode()
        writer.write(bytes([0x81, 0x80 | len(body)]) + b"\0\0\0\0" + body)
        await stop.wait()  # never reads again
        return
    while not closed.done() and not stop.is_set():
        await asyncio.wait({closed}, timeout=0.5)
    if closed.done() and closed.result():
        await reader.read()  # an answer, then the close


def _trader(port: int, seconds: float, out: Any) -> None:
    """The well-behaved client, in its own process (no GIL shared with the abusers): place
    and cancel, 20 requests a second, timing each; puts ``(latencies, errors)`` on ``out``."""
    figures = Figures()
    client = RawClient(port, ALICE)
    next_at = time.monotonic()
    end = next_at + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        reply = client.post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                        "price": "100", "size": "0.01"})
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)
        if reply.status != 200:
            figures.errors.append(f"POST /orders {reply.status} {reply.body[:100]!r}")
            continue
        started = time.perf_counter()
        reply = client.delete(f"/orders/{reply.json()['id']}")
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)
        if reply.status != 200:
            figures.errors.append(f"DELETE {reply.status}")
        next_at += 0.1
        time.sleep(max(0.0, next_at - time.monotonic()))
    out.put((figures.latencies_ms, figures.errors))


def soak(seconds: float, connections: int, tmp: Path,
         timeouts: float | None = None) -> tuple[Figures, dict[str, Any]]:
    """Run one soak against a fresh server (``timeouts``: its idle, header and body timeouts,
    seconds; default: sandex's); its figures and a summary."""
    scenario = scenario_with(tmp, "")
    if timeouts is not None:
        scenario.write_text(scenario.read_text() + HTTP_TABLE.format(float(timeouts)))
    server: Server = start_server(scenario=scenario)
    figures = Figures()
    try:
        loop = asyncio.new_event_loop()
        stop_async = asyncio.Event()
        spawn = multiprocessing.get_context("spawn")
        results = spawn.Queue()

        async def run() -> None:
            tasks = [asyncio.create_task(_abuser(server.port, i, KINDS[i % len(KINDS)],
                                                 stop_async, figures))
                     for i in range(connections)]
            await asyncio.sleep(1.0)  # every connection open before the clock starts
            trader = spawn.Process(target=_trader, args=(server.port, seconds, results))
            trader.start()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                figures.rss_mb.append(_rss_mb(server.process.pid))
                await asyncio.sleep(1.0)
            figures.latencies_ms, figures.errors = await asyncio.to_thread(results.get, True, 60)
            await asyncio.to_thread(trader.join, 10)
            stop_async.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        loop.run_until_complete(run())
        loop.close()
    finally:
        server.stop()
    third = max(1, len(figures.rss_mb) // 3)
    summary = {"seconds": seconds, "connections": connections, "opened": figures.opened,
               "closed_by_server": figures.closed_by_server,
               "requests": len(figures.latencies_ms), "errors": len(figures.errors),
               "p50_ms": round(figures.percentile(0.50), 2),
               "p99_ms": round(figures.percentile(0.99), 2),
               "max_ms": round(max(figures.latencies_ms, default=float("nan")), 2),
               "rss_mb_first_third": round(sum(figures.rss_mb[:third]) / third, 1),
               "rss_mb_last_third": round(sum(figures.rss_mb[-third:]) / third, 1),
               "rss_mb_max": round(max(figures.rss_mb, default=float("nan")), 1)}
    return figures, summary


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--timeouts", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sandex-soak-") as tmp:
        figures, summary = soak(args.seconds, args.connections, Path(tmp), args.timeouts)
    print(json.dumps(summary))
    for error in figures.errors[:10]:
        print("error:", error)
    ok = summary["p99_ms"] < 10 and not figures.errors and \
        summary["rss_mb_last_third"] - summary["rss_mb_first_third"] < 20
    print("soak:", "passed (p99 < 10 ms, memory flat)" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
