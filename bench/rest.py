"""Signed order traffic against the REST gateway: throughput and latency, engine in the loop.

    cd /work/main && .venv/bin/python bench/rest.py [--seconds S] [--connections N]
        [--rate R --paced-connections M] [--mode saturation|paced|both] [--url URL]
        [--scenario FILE] [--depth D] [--src DIR] [--nice N] [--stub] [--json]

Starts ``sandex serve --no-rate-limit`` with its journal on (a temporary ``--data-dir``, so
every answer waits for its fsync; ``--ephemeral`` for the in-memory server) on a free port
(pinned to core 0 with ``taskset`` when it exists; this process pins itself to core 1), or uses
``--url`` of a running server whose scenario is ``--scenario`` (the keys are read from it). Each
keep-alive connection is one signed client (profile and product spread round-robin over the
scenario's trading keys) that places resting limit orders far from any mid (buys low, sells
high: nothing ever crosses) and, once ``--depth`` of its own orders rest, alternates ``POST
/orders`` with ``DELETE /orders/{id}`` of its oldest order, so the book stays bounded. At the
end each connection cancels what it still has open (untimed).

Two modes, one after the other on the same server:

* saturation: ``--connections`` (64) closed-loop clients, each sending its next request as soon
  as the previous answer is in; latency includes queueing in the server.
* paced: ``--rate`` (1,000 req/s) spread evenly over ``--paced-connections`` (16); latency is
  from the moment a request was due when its connection was still busy then (no coordinated
  omission), else from the moment it was written.

Every request is signed for real (§2.3): HMAC-SHA256 over timestamp + method + target + the
exact body bytes, timestamp refreshed every second. Any non-200 answer is an error. The load
generator is raw asyncio protocols (uvloop when available), one request in flight per
connection; ``--stub`` points it at a canned-response server instead, which gives its own
ceiling.

CPU use over the window (from /proc) shows which side was the bottleneck: server and client
as % of one core and in CPU microseconds per request, and the rest of the machine. Server
CPU per request is the figure that survives a noisy machine; the text warns when the server
did not use its whole core in saturation, or when other processes took more than 20 %.
``--nice -10`` (root) puts the server and this process ahead of other load, including their
autogroup. ``--src DIR`` runs the ``sandex`` package found in DIR (a patched copy) for A/B
runs. ``--json`` prints one JSON line of the figures on stdout (the human lines go to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = Path(__file__).resolve().parent / "bench_scenario.toml"
POST, DELETE = 0, 1
KINDS = ("POST /orders", "DELETE /orders/{id}")
PRICE_LEVELS = 40  # distinct resting prices per side and product


# ----------------------------------------------------------------------------- set-up


@dataclass
class Trader:
    """One trading key of the scenario, with everything a request needs pre-computed."""

    key: str
    profile_id: str
    mac: Any  # hmac.HMAC keyed with the decoded secret; copied per request
    head_post: bytes  # request line and headers up to the timestamp value
    head_delete: bytes  # the headers after "DELETE /orders/{id}", up to the timestamp value


@dataclass
class Market:
    product_id: str
    bodies: list[tuple[bytes, bytes]]  # (JSON body, "Content-Length: n" line), buys and sells


def load_scenario(path: Path, host: str) -> tuple[list[Trader], list[Market]]:
    data = tomllib.loads(path.read_text())
    traders = []
    for profile in data.get("profiles", []):
        for key in profile.get("keys", []):
            if "trade" not in key.get("permissions", ["view", "trade"]):
                continue
            common = (f"Host: {host}\r\nCB-ACCESS-KEY: {key['key']}\r\n"
                      f"CB-ACCESS-PASSPHRASE: {key['passphrase']}\r\nCB-ACCESS-TIMESTAMP: ")
            traders.append(Trader(
                key["key"], str(profile["id"]),
                hmac.new(base64.b64decode(key["secret"]), digestmod="sha256"),
                f"POST /orders HTTP/1.1\r\nContent-Type: application/json\r\n{common}".encode(),
                f" HTTP/1.1\r\n{common}".encode()))
    markets = [_market(p) for p in data.get("products", [])
               if p.get("status", "online") == "online"]
    if not traders or not markets:
        raise SystemExit(f"{path}: needs a profile with a trade key and an online product")
    return traders, markets


def _market(product: dict[str, Any]) -> Market:
    """Buys at 1000-1117 quote increments, sells a million times higher: nothing crosses."""
    quote = Decimal(product.get("quote_increment", "0.01"))
    base = Decimal(product.get("base_increment", "0.00000001"))
    min_funds = Decimal(product.get("min_market_funds", "1"))
    buys = [quote * (1000 + 3 * i) for i in range(PRICE_LEVELS)]
    sells = [p * 1_000_000 for p in buys]
    size = ((2 * min_funds / buys[0]) / base).to_integral_value(ROUND_CEILING) * base
    bodies = []
    for buy, sell in zip(buys, sells, strict=True):
        for side, price in (("buy", buy), ("sell", sell)):
            body = json.dumps({"product_id": product["id"].upper(), "side": side,
                               "type": "limit", "price": f"{price.quantize(quote):f}",
                               "size": f"{size.normalize():f}"},
                              separators=(",", ":")).encode()
            bodies.append((body, f"Content-Length: {len(body)}\r\n\r\n".encode()))
    return Market(product["id"].upper(), bodies)


def source_digest(root: Path) -> str:
    """Short hash of the server code (``sandex/**/*.py``): tells runs of different code apart."""
    digest = hashlib.sha256()
    for path in sorted((root / "sandex").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def versions() -> str:
    found = []
    for name in ("uvicorn", "uvloop", "httptools", "msgspec"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], port: int, log: Path,
                 src: Path | None) -> subprocess.Popen[bytes]:
    """``command`` in a subprocess, waited for until ``GET /time`` answers.

    ``src``: a directory holding another ``sandex`` package (a patched copy) to run instead.
    """
    env = {**os.environ}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    with log.open("wb") as err:
        process = subprocess.Popen(command, cwd=src or ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/time")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy (not idle or iowait) by every core so far, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def server_stack(pid: int | None) -> str:
    """What the server process really runs, from the native modules it has mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except (OSError, TypeError):
        return "event loop unknown"
    loop = "uvloop" if "uvloop/loop" in maps else "stdlib asyncio loop (uvloop not loaded)"
    parser = ", httptools parser" if "httptools/parser" in maps else ""
    return f"{loop}{parser}"


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (``None`` if unknown or gone)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- load


@dataclass
class Run:
    """One mode's shared state: the clock of the window and what was seen in it."""

    paced: bool
    period_ns: int = 0  # paced: per-connection interval
    recording: bool = False
    running: bool = True
    latencies: tuple[list[int], list[int]] = field(default_factory=lambda: ([], []))
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    behind: int = 0  # paced: requests whose connection was still busy when they were due
    _ts: int = 0
    _ts_bytes: bytes = b""

    def timestamp(self) -> bytes:
        now = int(time.time())
        if now != self._ts:
            self._ts, self._ts_bytes = now, str(now).encode()
        return self._ts_bytes

    def error(self, kind: int, what: str, body: bytes = b"") -> None:
        name = f"{KINDS[kind].split()[0]} {what}"
        if self.recording:
            self.errors[name] += 1
        self.samples.setdefault(name, body[:200].decode("utf-8", "replace"))


class Client(asyncio.Protocol):
    """One keep-alive connection, one request in flight, parsing Content-Length answers."""

    def __init__(self, run: Run, trader: Trader, market: Market, depth: int, first: int,
                 done: asyncio.Future[None]) -> None:
        self.run = run
        self.trader = trader
        self.bodies = market.bodies
        self.body_at = first % len(market.bodies)
        self.depth = depth
        self.done = done
        self.open: deque[bytes] = deque()
        self.buf = bytearray()
        self.need = -1  # total bytes of the answer being read, once its head is in
        self.head_end = 0
        self.kind = POST
        self.started = 0
        self.recorded = True
        self.next_due = 0
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None

    # -- sending

    def send(self, started: int | None = None) -> None:
        run, trader = self.run, self.trader
        ts = run.timestamp()
        mac = trader.mac.copy()
        if len(self.open) > self.depth or (not run.running and self.open):
            order_id = self.open.popleft()
            self.kind = DELETE
            mac.update(ts + b"DELETE/orders/" + order_id)
            head = b"DELETE /orders/" + order_id + trader.head_delete
            tail = b"\r\n\r\n"
        else:
            body, length = self.bodies[self.body_at]
            self.body_at = (self.body_at + 1) % len(self.bodies)
            self.kind = POST
            mac.update(ts + b"POST/orders" + body)
            head = trader.head_post
            tail = b"\r\n" + length + body
        sign = binascii.b2a_base64(mac.digest(), newline=False)
        self.recorded = run.running
        self.started = time.perf_counter_ns() if started is None else started
        self.transport.write(  # type: ignore[union-attr]
            b"".join((head, ts, b"\r\nCB-ACCESS-SIGN: ", sign, tail)))

    def next(self) -> None:
        run = self.run
        if not run.running:
            if self.open:
                self.send()
            else:
                self.finish()
            return
        if not run.paced:
            self.send()
            return
        due = self.next_due
        self.next_due += run.period_ns
        wait = due - time.perf_counter_ns()
        if wait <= 0:  # still busy when due: the wait counts as latency
            if run.recording:
                run.behind += 1
            self.send(due)
        else:
            self.loop.call_later(wait / 1e9, self.on_timer)

    def on_timer(self) -> None:
        if self.run.running:
            self.send()
        else:
            self.next()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    # -- receiving

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.run.error(self.kind, "connection lost", str(exc).encode())
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.need < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self.run.error(self.kind, "no content-length", head)
                self.finish()
                return
            stop = head.find(b"\r\n", at + 2)
            self.head_end = end + 4
            self.need = self.head_end + int(head[at + 17:stop if stop > 0 else None])
        if len(buf) < self.need:
            return
        status = int(buf[9:12])
        body = bytes(buf[self.head_end:self.need])
        del buf[:self.need]
        self.need = -1
        self.answer(status, body)

    def answer(self, status: int, body: bytes) -> None:
        run, kind = self.run, self.kind
        if self.recorded and run.recording:
            run.latencies[kind].append(time.perf_counter_ns() - self.started)
        if status != 200:
            run.error(kind, str(status), body)
        elif kind == POST:
            if body.startswith(b'{"id":"'):
                self.open.append(body[7:body.index(b'"', 7)])
            else:
                try:
                    self.open.append(json.loads(body)["id"].encode())
                except (ValueError, KeyError, TypeError, AttributeError):
                    run.error(kind, "200 without an id", body)
        self.next()


async def drive(host: str, port: int, traders: list[Trader], markets: list[Market],
                connections: int, seconds: float, warmup: float, rate: float | None,
                depth: int, server_pid: int | None) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = Run(paced=rate is not None)
    clients: list[Client] = []
    for i in range(connections):
        trader = traders[i % len(traders)]
        market = markets[(i // len(traders)) % len(markets)]
        done: asyncio.Future[None] = loop.create_future()
        _, client = await loop.create_connection(
            lambda t=trader, m=market, d=done, i=i: Client(run, t, m, depth, i * 7, d),
            host, port)
        clients.append(client)
    start = time.perf_counter_ns()
    if rate is not None:
        run.period_ns = int(connections * 1e9 / rate)
        for i, client in enumerate(clients):
            client.next_due = start + int(i * 1e9 / rate)
            client.next()
    else:
        for client in clients:
            client.send()
    await asyncio.sleep(warmup)
    run.recording = True
    t0, client0, server0 = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    busy0 = machine_busy_seconds()
    await asyncio.sleep(seconds)
    run.recording = False
    t1, client1, server1 = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    busy1 = machine_busy_seconds()
    run.running = False
    try:
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), 30)
    except TimeoutError:
        run.errors["drain timed out"] += 1
    for client in clients:
        client.finish()
    window = t1 - t0
    server_s = None if server0 is None or server1 is None else server1 - server0
    cpu = {"client": client1 - client0, "server": server_s,
           "other": max(0.0, busy1 - busy0 - (client1 - client0) - (server_s or 0.0))}
    return summarize(run, window, connections, rate, cpu)


def percentiles(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    values.sort()
    n = len(values)

    def at(q: float) -> float:
        return round(values[min(n - 1, int(q * n))] / 1e6, 3)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "p999": at(0.999),
            "max": round(values[-1] / 1e6, 3)}


def summarize(run: Run, window: float, connections: int, rate: float | None,
              cpu: dict[str, float | None]) -> dict[str, Any]:
    posts, deletes = run.latencies
    n = len(posts) + len(deletes)
    return {
        "mode": "paced" if rate is not None else "saturation",
        "connections": connections, "offered_per_s": rate, "seconds": round(window, 2),
        "req_per_s": round((len(posts) + len(deletes)) / window),
        "post_per_s": round(len(posts) / window), "delete_per_s": round(len(deletes) / window),
        "latency_ms": percentiles(posts + deletes),
        "post_latency_ms": percentiles(posts), "delete_latency_ms": percentiles(deletes),
        "errors": dict(run.errors), "error_samples": {k: run.samples[k] for k in run.errors},
        "behind_schedule": run.behind if rate is not None else None,
        # CPU over the window, % of one core; "other" is everything else on the machine (a
        # busy neighbour steals cores). Per-request CPU is the noise-robust cost figure.
        "cpu_pct": {k: None if v is None else round(100 * v / window) for k, v in cpu.items()},
        "cpu_us_per_req": {k: None if v is None or not n else round(1e6 * v / n, 1)
                           for k, v in cpu.items() if k != "other"},
    }


# ----------------------------------------------------------------------------- stub server


class Stub(asyncio.Protocol):
    """Canned answers shaped like sandex's (same header set, ~420-byte order body)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.n = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            at = head.find(b"content-length:")
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15:stop if stop > 0 else None]) if at >= 0 else 0
            if len(buf) < end + 4 + length:
                return
            del buf[:end + 4 + length]
            self.n += 1
            order_id = f"{self.n:08x}-0000-4000-8000-{id(self) & 0xFFFFFFFFFFFF:012x}"
            if head.startswith(b"post"):
                body = (f'{{"id":"{order_id}","price":"10.00","size":"0.2","product_id":'
                        '"BTC-USD","profile_id":"be0c0000-0000-4000-8000-000000000001",'
                        '"side":"buy","stp":"dc","type":"limit","time_in_force":"GTC",'
                        '"post_only":false,"created_at":"2024-01-01T00:00:00.000000Z",'
                        '"fill_fees":"0","filled_size":"0","executed_value":"0",'
                        '"status":"pending","settled":false}').encode()
            else:
                body = f'"{order_id}"'.encode()
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\n"
                b"cache-control: no-store\r\naccess-control-allow-origin: *\r\n"
                b"access-control-expose-headers: cb-before, cb-after\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def serve_stub(port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Stub, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    with asyncio.Runner(loop_factory=_loop_factory(True)) as runner:
        # GET /time readiness probe is answered too: any request gets a 200.
        runner.run(main())


def _loop_factory(use_uvloop: bool) -> Any:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            return None
        return uvloop.new_event_loop
    return None


# ----------------------------------------------------------------------------- report


def line(result: dict[str, Any]) -> str:
    lat, post, dele = result["latency_ms"], result["post_latency_ms"], result["delete_latency_ms"]
    offered = f" {result['offered_per_s']:,.0f}/s offered" if result["offered_per_s"] else ""
    errors = ", ".join(f"{k} x{v}" for k, v in result["errors"].items()) or "0"
    text = [
        f"{result['mode']}:{offered} {result['connections']} conns, {result['seconds']} s -> "
        f"{result['req_per_s']:,} req/s (POST {result['post_per_s']:,}/s, "
        f"DELETE {result['delete_per_s']:,}/s), errors {errors}",
    ]
    if lat:
        text.append(f"  latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  "
                    f"p99.9 {lat['p999']}  max {lat['max']}   (POST p50/p99 {post.get('p50')}/"
                    f"{post.get('p99')}, DELETE {dele.get('p50')}/{dele.get('p99')})")
    pct, per = result["cpu_pct"], result["cpu_us_per_req"]
    cpu = (f"server {pct['server']} % ({per['server']} us/req), "
           if pct["server"] is not None else "")
    extra = f"; behind schedule {result['behind_schedule']:,}" \
        if result["behind_schedule"] is not None else ""
    rest = "rest of machine" if pct["server"] is not None else "rest of machine (server too)"
    text.append(f"  cpu: {cpu}client {pct['client']} % ({per['client']} us/req), "
                f"{rest} {pct['other']} %{extra}")
    if result["mode"] == "saturation" and per.get("server"):
        text.append(f"  server CPU per request -> about {1e6 / per['server']:,.0f} req/s on a core "
                    "of its own")
    if result["mode"] == "saturation" and pct["server"] is not None and pct["server"] < 90:
        text.append(f"  WARNING: the server used only {pct['server']} % of its core: something "
                    "else set the pace (the client, or other processes): throughput understated")
    if pct["server"] is not None and pct["other"] is not None and pct["other"] > 20:
        text.append(f"  note: other processes used {pct['other']} % CPU (of "
                    f"{100 * (os.cpu_count() or 1)} %) during the window: tail latency may "
                    "suffer")
    for name, sample in result["error_samples"].items():
        text.append(f"  first {name}: {sample}")
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("both", "saturation", "paced"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per mode")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=64, help="saturation connections")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced mode: req/s offered")
    parser.add_argument("--paced-connections", type=int, default=16)
    parser.add_argument("--depth", type=int, default=4,
                        help="own resting orders per connection before it alternates")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--server-pid", type=int, help="with --url: pid, for its CPU use")
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO,
                        help="scenario the server runs (keys and products are read from it)")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list for the server")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU for this process")
    parser.add_argument("--src", type=Path,
                        help="run the sandex package found in this directory (a patched copy)")
    parser.add_argument("--stub", action="store_true",
                        help="canned-answer server instead of sandex: the generator's ceiling")
    parser.add_argument("--nice", type=int,
                        help="niceness for the server and this process (negative: ahead of "
                             "other load on a shared machine; needs root)")
    parser.add_argument("--no-uvloop", action="store_true", help="plain asyncio in the client")
    parser.add_argument("--log-level", default="warning",
                        help="the server's (default warning: no line per request)")
    parser.add_argument("--ephemeral", action="store_true",
                        help="run the server without its journal (default: journal on, in a "
                             "temporary data dir)")
    parser.add_argument("--data-parent", type=Path,
                        help="where the temporary data dir goes (default: the system's temp)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line of the figures on stdout (text to stderr)")
    parser.add_argument("--stub-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub_server:
        serve_stub(args.stub_server)
        return
    process = None
    server_pid = args.server_pid
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        settings = f"external server {args.url}"
        if server_pid is not None:
            settings += f", pid {server_pid}, {server_stack(server_pid)}"
    else:
        host, port = "127.0.0.1", free_port()
    traders, markets = load_scenario(args.scenario, f"{host}:{port}")
    data_dir = tempfile.TemporaryDirectory(prefix="sandex-bench-", dir=args.data_parent)
    log = Path(f"/tmp/sandex-bench-rest-{port}.log")  # the server's stderr, kept on errors
    if not args.url:
        command = ([sys.executable, str(Path(__file__).resolve()), "--stub-server", str(port)]
                   if args.stub else
                   [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port),
                    "--scenario", str(args.scenario.resolve()), "--no-rate-limit",
                    "--log-level", args.log_level,
                    *(["--ephemeral"] if args.ephemeral else ["--data-dir", data_dir.name])])
        pinned = shutil.which("taskset") is not None
        if pinned:
            command = ["taskset", "-c", args.server_cpu, *command]
        process = start_server(command, port, log, args.src)
        server_pid = process.pid  # taskset execs the server: same pid
        what = ("STUB canned-answer server" if args.stub else
                f"sandex serve --no-rate-limit --log-level {args.log_level} "
                + ("--ephemeral (no journal)" if args.ephemeral
                                                   else f"--data-dir {data_dir.name} (journal on,"
                                                   f" {disk_of(data_dir.name)})"))
        where = f"taskset -c {args.server_cpu}" if pinned else "unpinned"
        settings = f"{what}, pid {server_pid}, {where}, {server_stack(server_pid)}; {versions()}"
    clean = False
    try:
        results = measure(args, host, port, traders, markets, server_pid, settings)
        clean = not any(r["errors"] for r in results)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
            if clean:
                log.unlink(missing_ok=True)
            else:
                print(f"server log: {log}", file=sys.stderr)
        data_dir.cleanup()


def disk_of(path: str) -> str:
    """The filesystem under ``path`` (fsync cost depends on it)."""
    try:
        line = subprocess.run(["df", "-T", path], capture_output=True, text=True,
                              timeout=5).stdout.splitlines()[1].split()
        return f"{line[1]} on {line[0]}"
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown filesystem"


def measure(args: argparse.Namespace, host: str, port: int, traders: list[Trader],
            markets: list[Market], server_pid: int | None, settings: str
            ) -> list[dict[str, Any]]:
    """Pin and prioritise this process, run the modes, print the figures."""
    out = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    pinned_client = "unpinned"
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > args.client_cpu:
        os.sched_setaffinity(0, {args.client_cpu})
        pinned_client = f"core {args.client_cpu}"
    if args.nice is not None:
        if server_pid is not None:
            os.setpriority(os.PRIO_PROCESS, server_pid, args.nice)
            settings += f", nice {args.nice}"
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        pinned_client += f", nice {args.nice}"
        # With autogroup scheduling, niceness only ranks tasks inside one session's group;
        # against other sessions what counts is the group's own nice value (the group of this
        # process, which the server it started shares).
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(args.nice))
            pinned_client += " (and its autogroup)"
    machine = (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
               f"{platform.release()}, {platform.python_implementation()} "
               f"{platform.python_version()}")
    say(f"machine: {machine}")
    code = source_digest(args.src.resolve() if args.src else ROOT)
    say(f"server: {settings}; code {code}{' from ' + str(args.src) if args.src else ''}")
    say(f"client: {pinned_client}, {'plain asyncio' if args.no_uvloop else 'uvloop'} protocols; "
        f"{len(traders)} keys x {len(markets)} products ({args.scenario.name}); "
        f"depth {args.depth}, warm-up {args.warmup} s")
    results = []
    with asyncio.Runner(loop_factory=_loop_factory(not args.no_uvloop)) as runner:
        if args.mode in ("both", "saturation"):
            results.append(runner.run(drive(
                host, port, traders, markets, args.connections, args.seconds, args.warmup,
                None, args.depth, server_pid)))
            say(line(results[-1]))
        if args.mode in ("both", "paced"):
            results.append(runner.run(drive(
                host, port, traders, markets, args.paced_connections, args.seconds,
                args.warmup, args.rate, args.depth, server_pid)))
            say(line(results[-1]))
            p99 = results[-1]["latency_ms"].get("p99")
            if p99 is not None:
                limit = 5 if args.ephemeral else 10  # issue #3 without, #4 with the journal
                say(f"  target p99 < {limit} ms at {args.rate:,.0f}/s: "
                    f"{'met' if p99 < limit else 'MISSED'}")
    if args.json:
        print(json.dumps({"machine": machine, "server": settings, "code": code,
                          "client": pinned_client, "keys": len(traders),
                          "products": len(markets), "depth": args.depth, "results": results}))
    return results


if __name__ == "__main__":
    main()
