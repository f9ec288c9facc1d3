"""Slow consumers: the REST order rate with and without N feed subscribers that never read.

    .venv/bin/python bench/slow_consumers.py [--subscribers 2000] [--seconds 60]
        [--channel full] [--ephemeral]

Two fresh servers, side by side in one run (``sandex.server.build`` + ``serve``, journal on
disk with fsync unless ``--ephemeral``):

* baseline: one keep-alive HTTP connection places signed crossing orders on BTC-USD (a sell,
  then a buy that takes it) as fast as answers come back, for ``--seconds``;
* slow: first N WebSocket subscribers to ``--channel`` for BTC-USD (authenticated, from
  ``127.0.0.2`` upwards, 100 per address, under the per-address connection cap), reading
  (and answering pings) while they subscribe, all of them stopping to read for good the
  moment the driver starts; then the same driver, for the same time. (Stopping mid-stream
  rather than at once makes the server find them out while the orders run.)

Printed: both order rates (over the whole window, and per 5-second slice) and their ratio,
the driver's slowest answer, how many subscribers
the server cut (connections found closed when they start reading again, after the window),
and the server's resident memory (``VmRSS``) and peak (``VmHWM``) at the end of each phase.
Goal (issue 16): ratio >= 80 %, server < 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from feed import Subscriber, _subscribe_message
from kit import SCENARIO, free_port, machine, scenario_keys, signed_headers, wait_ready

PER_ADDRESS = 100  # subscribers per source address (the server caps 128 per address)


def run_server(port: int, data_dir: str | None) -> None:
    from sandex.server import build, serve

    venue = build(SCENARIO, rate_limits=False, data_dir=Path(data_dir) if data_dir else None)
    serve(venue, "127.0.0.1", port)


def run_driver(port: int, seconds: float) -> None:
    """Closed-loop crossing orders on one connection; prints orders, seconds, slowest (ms)."""
    import http.client

    seller, buyer = scenario_keys()[:2]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    orders, slowest, started = 0, 0.0, time.monotonic()
    buckets: list[int] = []  # orders answered in each 5-second slice
    price = 30000
    while time.monotonic() - started < seconds:
        for key, side in ((seller, "sell"), (buyer, "buy")):
            body = json.dumps({"product_id": "BTC-USD", "side": side, "type": "limit",
                               "price": str(price), "size": "0.01"}).encode()
            sent = time.monotonic()
            conn.request("POST", "/orders", body, {
                "Content-Type": "application/json",
                **signed_headers(key, "POST", "/orders", body)})
            reply = conn.getresponse()
            reply.read()
            slowest = max(slowest, time.monotonic() - sent)
            if reply.status != 200:
                raise SystemExit(f"driver: {reply.status}")
            orders += 1
            slot = int((time.monotonic() - started) / 5)
            buckets += [0] * (slot + 1 - len(buckets))
            buckets[slot] += 1
        price = 30000 + (price - 29999) % 50
    print(json.dumps({"orders": orders, "seconds": time.monotonic() - started,
                      "slowest_ms": slowest * 1000, "per_5s": buckets}), flush=True)


class Silent(Subscriber):
    """A subscriber that reads (and answers pings) until ``stop``, then never again."""

    def _message(self, payload: bytes, now: float) -> None:
        if not self.ready.done():
            self.ready.set_result(None)
            return
        self.frames += 1

    def stop(self) -> None:
        self.transport.pause_reading()  # type: ignore[union-attr]


async def _connect(port: int, count: int, channel: str) -> list[Silent]:
    loop = asyncio.get_running_loop()
    message = _subscribe_message(channel)

    async def one(i: int) -> Silent:
        ready: asyncio.Future[None] = loop.create_future()
        address = f"127.0.0.{2 + i // PER_ADDRESS}"
        _, protocol = await loop.create_connection(
            lambda: Silent(message, False, ready), "127.0.0.1", port, local_addr=(address, 0))
        await asyncio.wait_for(ready, 30)
        return protocol  # type: ignore[return-value]

    subscribers: list[Silent] = []
    for start in range(0, count, 50):
        subscribers += await asyncio.gather(*(one(i) for i in range(start,
                                                                    min(count, start + 50))))
    return subscribers


def _memory(pid: int) -> dict[str, float]:
    """The process's resident and peak resident memory, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def phase(subscribers: int, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sandex-slow-bench-") as tmp:
        data_dir = "" if args.ephemeral else str(Path(tmp) / "data")
        server = subprocess.Popen([sys.executable, __file__, "_serve", str(port), data_dir],
                                  stdout=subprocess.DEVNULL)
        loop = asyncio.new_event_loop()
        try:
            wait_ready(port, server)
            silent = loop.run_until_complete(_connect(port, subscribers, args.channel)) \
                if subscribers else []
            connected = _memory(server.pid)
            for s in silent:  # from now on they never read (up to now they kept up)
                s.stop()
            driver = subprocess.run(
                [sys.executable, __file__, "_drive", str(port), str(args.seconds)],
                stdout=subprocess.PIPE, check=True)
            driven = json.loads(driver.stdout)
            memory = _memory(server.pid)
            for s in silent:  # read again: a connection the server cut shows up closed
                s.transport.resume_reading()  # type: ignore[union-attr]
            loop.run_until_complete(asyncio.sleep(3))
            cut = sum(1 for s in silent if s.closed)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            loop.close()
    return {"subscribers": subscribers, "orders_per_s": driven["orders"] / driven["seconds"],
            "slowest_ms": driven["slowest_ms"], "cut": cut, "per_5s": driven["per_5s"],
            "rss_mb_connected": connected["VmRSS"], "rss_mb": memory["VmRSS"],
            "peak_mb": memory["VmHWM"]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        run_server(int(sys.argv[2]), sys.argv[3] or None)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_drive":
        run_driver(int(sys.argv[2]), float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--channel", default="full", choices=("full", "matches", "level2"))
    parser.add_argument("--ephemeral", action="store_true", help="no journal on disk")
    args = parser.parse_args()
    print(f"slow consumers bench: {machine()}; channel {args.channel}, {args.seconds:g} s per "
          f"phase, journal {'in memory' if args.ephemeral else 'on disk (fsync)'}")
    results = [phase(0, args), phase(args.subscribers, args)]
    for r in results:
        print(f"{r['subscribers']:>5} silent subscribers: {r['orders_per_s']:7.0f} orders/s, "
              f"slowest answer {r['slowest_ms']:.1f} ms, cut {r['cut']}, server RSS "
              f"{r['rss_mb_connected']:.0f} MB subscribed, {r['rss_mb']:.0f} MB after, "
              f"peak {r['peak_mb']:.0f} MB", flush=True)
        print(f"      orders per 5 s: {r['per_5s']}")
    ratio = results[1]["orders_per_s"] / results[0]["orders_per_s"]
    last = results[1]["per_5s"][-2] / max(1, results[0]["per_5s"][-2])  # the last whole slice
    print(f"ratio {ratio:.1%} over the whole window, {last:.1%} in its last 5 s (goal >= 80 %);"
          f" server peak {results[1]['peak_mb']:.0f} MB (goal < 300 MB)")
    print(json.dumps({"ratio": round(ratio, 3), "last_5s_ratio": round(last, 3),
                      "phases": results}))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
