"""The REST load generator: signed order traffic over raw keep-alive connections, and a
canned-answer stub server that gives the generator's own ceiling (see ``bench/rest.py``).

Each connection is one ``Client`` (an asyncio protocol, one request in flight) for one
trading key of the scenario and one product: it places resting limit orders far from any
mid (buys low, sells high: nothing ever crosses) and, once ``depth`` of its own orders rest,
alternates ``POST /orders`` with ``DELETE /orders/{id}`` of its oldest. ``drive`` runs one
mode (closed loop, or paced with no coordinated omission) over a measured window and
returns its figures. Every request is signed for real (``sandex.auth.signing.sign``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import tomllib
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from kit import (
    cpu_seconds,
    machine_busy_seconds,
    percentiles,
    scenario_keys,
    sign,
)

POST, DELETE = 0, 1
KINDS = ("POST /orders", "DELETE /orders/{id}")
PRICE_LEVELS = 40  # distinct resting prices per side and product


# ----------------------------------------------------------------------------- set-up


@dataclass
class Trader:
    """One trading key of the scenario, with the unsigned part of each request ready."""

    key: str
    secret: str  # base64, for ``sign``
    profile_id: str
    head_post: bytes  # request line and headers up to the timestamp value
    head_delete: bytes  # the headers after "DELETE /orders/{id}", up to the timestamp value


@dataclass
class Market:
    product_id: str
    bodies: list[tuple[bytes, bytes]]  # (JSON body, "Content-Length: n" line), buys and sells


def load_scenario(path: Path, host: str) -> tuple[list[Trader], list[Market]]:
    """The scenario's trading keys and online products, ready to send."""
    traders = []
    for key in scenario_keys(path):
        if "trade" not in key.permissions:
            continue
        common = (f"Host: {host}\r\nCB-ACCESS-KEY: {key.key}\r\n"
                  f"CB-ACCESS-PASSPHRASE: {key.passphrase}\r\nCB-ACCESS-TIMESTAMP: ")
        traders.append(Trader(
            key.key, key.secret, key.profile_id,
            f"POST /orders HTTP/1.1\r\nContent-Type: application/json\r\n{common}".encode(),
            f" HTTP/1.1\r\n{common}".encode()))
    data = tomllib.loads(path.read_text())
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
    _ts_text: str = ""

    def timestamp(self) -> str:
        now = int(time.time())
        if now != self._ts:
            self._ts, self._ts_text = now, str(now)
        return self._ts_text

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
        self.open: deque[str] = deque()
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
        if len(self.open) > self.depth or (not run.running and self.open):
            path = "/orders/" + self.open.popleft()
            self.kind = DELETE
            sign_ = sign(trader.secret, ts, "DELETE", path, b"")
            head = b"DELETE " + path.encode() + trader.head_delete
            tail = b"\r\n\r\n"
        else:
            body, length = self.bodies[self.body_at]
            self.body_at = (self.body_at + 1) % len(self.bodies)
            self.kind = POST
            sign_ = sign(trader.secret, ts, "POST", "/orders", body)
            head = trader.head_post
            tail = b"\r\n" + length + body
        self.recorded = run.running
        self.started = time.perf_counter_ns() if started is None else started
        self.transport.write(  # type: ignore[union-attr]
            b"".join((head, ts.encode(), b"\r\nCB-ACCESS-SIGN: ", sign_.encode(), tail)))

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
                self.open.append(body[7:body.index(b'"', 7)].decode())
            else:
                try:
                    self.open.append(json.loads(body)["id"])
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


def summarize(run: Run, window: float, connections: int, rate: float | None,
              cpu: dict[str, float | None]) -> dict[str, Any]:
    posts, deletes = run.latencies
    n = len(posts) + len(deletes)
    return {
        "mode": "paced" if rate is not None else "saturation",
        "connections": connections, "offered_per_s": rate, "seconds": round(window, 2),
        "req_per_s": round((len(posts) + len(deletes)) / window),
        "post_per_s": round(len(posts) / window), "delete_per_s": round(len(deletes) / window),
        "latency_ms": percentiles(posts + deletes, 1e6),
        "post_latency_ms": percentiles(posts, 1e6),
        "delete_latency_ms": percentiles(deletes, 1e6),
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

    with asyncio.Runner(loop_factory=loop_factory(True)) as runner:
        # GET /time readiness probe is answered too: any request gets a 200.
        runner.run(main())


def loop_factory(use_uvloop: bool) -> Any:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            return None
        return uvloop.new_event_loop
    return None


