"""FIX order entry over one session: orders that match, each done at its durable fill report.

    .venv/bin/python bench/fix.py [--seconds S] [--window W] [--rate R] [--ephemeral]
        [--src DIR] [--client c|python] [--epoll] [--floor] [--stages [--tenure]]
        [--server-cores 0,1] [--json]

Starts ``sandex serve --no-rate-limit --no-demo`` (pinned to core 0 with ``taskset`` when it
exists; this process pins itself to core 1) with its journal on (a temporary
``--data-dir``: every report waits for its group commit's fsync) and FIX order entry in
plaintext on free ports. A maker session (the scenario's second key) rests one large sell; the
measured session (the first key) sends limit buys of 0.1 at that price, each matching at once:
an order is done when its ExecutionReport ``150=F|39=2`` arrives (after the ack ``150=0``),
which the gateway sends only once the order's command is durable.

* saturation: ``--window`` (256) orders in flight, the next sent as each one fills;
* paced: ``--rate`` (1,000 orders/s) offered on a schedule, latency from the moment an order
  was due to its fill report (no coordinated omission).

The paced phase's client is ``bench/fix_pacer.c`` (``--client c``, the default, compiled
with the machine's C compiler; ``python`` where none builds it): the session logged on here
is handed to it, and it frames, sends on a ``timerfd`` and times each order in one epoll
loop, a few microseconds an order. Against the FIX echo (``--floor``, idle, 2026-12-05) the
C client's p50/p99 are 0.165/0.321 ms and the Python client's 0.318/0.494 (0.72-0.76 at p99
in earlier runs): the C one leaves more of the figure to the server. The Python client
(``--client python``) paces on a ``select()`` event loop: asyncio's default (epoll) rounds
every timeout up to a whole millisecond, so at 1,000 orders/s each order left up to 1 ms
after it was due (0.5 ms on average, measured: send lateness p50 0.69 ms with epoll, 0.15 ms
with select on a loaded machine), and that lateness counted as the server's latency.
``--epoll`` measures the old way (to compare with figures taken before). ``--floor`` runs
the same client against a FIX echo (a subprocess on core 0 that answers each NewOrderSingle
with a fill report at once, no journal): the client's own share of every latency.

Each phase also reports the server's CPU time per order (user + system, from /proc), which
the machine's other load disturbs far less than the rates. The client of the logon and the
saturation phase is raw asyncio with a byte-level scan for ``11=`` and ``39=``; ``--json``
prints one JSON line of the figures.
``--src DIR`` runs the ``sandex`` package found in DIR (another build, for A/B).

``--stages`` runs the server through ``bench/fix_probe.py``, which stamps each order's path
through the server (wall time), and cuts every paced order's latency into: the client's
lateness, the wire in, decoding and applying, the wait for the journal's write (its writer
thread in builds before docs/performance.md's seventh REST pass), the write and fsync, the
hand-back to the loop, the reports up to their transport write, the
wire out (with the client's reading). Each stage's p50 and p99, and its mean over the slowest
1 % of orders: where the tail comes from; and the cyclic garbage collector's pauses of 1 ms
or more during the paced phase. The stamps cost a few µs an order.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import functools
import gc
import itertools
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kit import (
    SCENARIO,
    Key,
    build_c,
    cpu_seconds,
    free_port,
    machine,
    machine_busy_seconds,
    percentiles,
    scenario_keys,
    start_server,
    steal_seconds,
)

from sandex.api.fix.codec import encode
from sandex.api.fix.logon import signature
from sandex.api.fix.session import sending_time

PRICE = "100.00"
SIZE = "0.1"


class Client:
    def __init__(self, key: Key, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.key = key
        self.reader = reader
        self.writer = writer
        self.seq = 1
        self.filled: dict[str, float] = {}  # ClOrdID -> when its fill report came
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.buffer = b""

    def frame(self, msg_type: str, body: list[tuple[int, str]]) -> bytes:
        stamp = sending_time(time.time())[:-3]
        data = encode(msg_type, [(49, self.key.key), (52, stamp), (56, "Coinbase"),
                                 (34, str(self.seq))], body)
        self.seq += 1
        return data

    async def logon(self) -> None:
        key = self.key
        stamp = sending_time(time.time())[:-3]
        secret = base64.b64decode(key.secret)
        sig = signature(secret, stamp, "1", key.key, "Coinbase", key.passphrase)
        self.writer.write(encode("A", [(34, "1"), (49, key.key), (52, stamp),
                                       (56, "Coinbase")],
                                 [(95, str(len(sig))), (96, sig), (98, "0"), (108, "30"),
                                  (141, "Y"), (553, key.key), (554, key.passphrase),
                                  (1137, "9")]))
        self.seq = 2
        data = await self.reader.readuntil(b"\x0110=")
        await self.reader.readexactly(4)
        if b"\x0135=A\x01" not in data:
            raise SystemExit(f"logon refused: {data!r}")

    def order(self, side: str) -> tuple[str, bytes]:
        cl = str(uuid.uuid4())
        return cl, self.frame("D", [(11, cl), (55, "BTC-USD"), (54, side), (40, "2"),
                                    (44, PRICE), (38, "100000" if side == "2" else SIZE),
                                    (59, "1")])

    async def read_loop(self) -> None:
        reader = self.reader
        while True:
            chunk = await reader.read(1 << 16)
            if not chunk:
                return
            now = time.perf_counter()
            data = self.buffer + chunk
            start = 0
            while True:
                end = data.find(b"\x0110=", start)
                if end < 0 or len(data) < end + 8:
                    break
                message = data[start:end]
                start = end + 8
                if b"\x0139=2\x01" in message:
                    at = message.find(b"\x0111=")
                    cl = message[at + 4:message.find(b"\x01", at + 4)].decode()
                    waiter = self.waiters.pop(cl, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)
            self.buffer = data[start:]


async def connect(port: int, key: Key) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = Client(key, reader, writer)
    await client.logon()
    return client


async def saturation(client: Client, seconds: float, window: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    done = 0
    stop = time.perf_counter() + seconds

    async def lane() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            cl, data = client.order("1")
            waiter = client.waiters[cl] = loop.create_future()
            sent = time.perf_counter()
            client.writer.write(data)
            latencies.append(await waiter - sent)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(window)))
    elapsed = time.perf_counter() - started
    return {"orders_per_s": round(done / elapsed), "orders": done,
            **percentiles(latencies, 1e-3)}


async def paced(client: Client, seconds: float, rate: float,
                times: dict[str, tuple[float, float, float]] | None = None
                ) -> dict[str, float]:
    """``rate`` orders/s for ``seconds``; ``times`` (if given) gets each order's due, sent
    and filled ``time.perf_counter()`` by ClOrdID (``--stages``)."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    start = time.perf_counter() + 0.05
    total = int(seconds * rate)
    done = loop.create_future()

    def record(cl: str, due: float, sent: float, waiter: asyncio.Future[float]) -> None:
        filled = waiter.result()
        latencies.append(filled - due)
        if times is not None:
            times[cl] = (due, sent, filled)
        if len(latencies) == total and not done.done():
            done.set_result(None)

    # The client's own pauses would count as the server's latency: with a task an order its
    # collector paused it 3-4 ms about every second, and gathering 8,000 tasks at the end
    # held the last fill reports 15-38 ms (seen with --stages: "late" and "wire out").
    if not total:
        done.set_result(None)
    gc.collect()
    gc.disable()
    try:
        for n in range(total):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cl, data = client.order("1")
            waiter = client.waiters[cl] = loop.create_future()
            sent = time.perf_counter()
            client.writer.write(data)
            waiter.add_done_callback(functools.partial(record, cl, due, sent))
        await done
    finally:
        gc.enable()
    return {"offered_per_s": rate, **percentiles(latencies, 1e-3)}


async def paced_c(client: Client, reader: asyncio.Task[None], pacer: Path, seconds: float,
                  rate: float, times: dict[str, tuple[float, float, float]] | None = None
                  ) -> dict[str, float]:
    """``paced`` by ``fix_pacer``: the session's socket handed to it (this side stops
    reading it: ``reader`` is canceled), its MsgSeqNum taken back when it is done."""
    reader.cancel()
    transport = client.writer.transport
    transport.pause_reading()  # type: ignore[attr-defined]
    fd = client.writer.get_extra_info("socket").fileno()
    total, prefix = int(seconds * rate), uuid.uuid4().hex[:8]
    process = await asyncio.create_subprocess_exec(
        str(pacer), str(fd), str(rate), str(total), str(client.seq), client.key.key, prefix,
        pass_fds=(fd,), stdout=subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"fix_pacer failed ({process.returncode})")
    lines = out.decode().splitlines()
    client.seq = int(lines[0].split()[1])
    latencies = []
    for line in lines[1:]:
        n, due, sent, filled = line.split()
        latencies.append(float(filled) - float(due))
        if times is not None:
            times[f"{prefix}-0000-4000-8000-{int(n):012d}"] = (
                float(due), float(sent), float(filled))
    return {"offered_per_s": rate, **percentiles(latencies, 1e-3)}


STAGES = ("late", "wire_in", "apply", "to_writer", "write", "to_loop", "reports", "wire_out")


def stages(path: Path, times: dict[str, tuple[float, float, float]],
           offset: float) -> dict[str, Any]:
    """Each paced order's latency cut into the server's stages (``bench/fix_probe.py``'s
    stamps joined with the client's by ClOrdID and time; ``offset`` turns the client's
    ``perf_counter`` into wall time): p50 and p99 of each stage, and each stage's mean over
    the slowest 1 % of orders (where the tail comes from)."""
    received: dict[str, tuple[float, float]] = {}
    sent_out: dict[str, tuple[float, float]] = {}
    writes: list[tuple[float, float]] = []
    notifies: list[float] = []
    pauses: list[tuple[float, float, int]] = []  # the collector's, of 1 ms or more
    for line in path.read_text().splitlines():
        kind, *rest = json.loads(line)
        if kind == "in":
            for cl in rest[2]:
                received[cl] = (rest[0], rest[1])
        elif kind == "out":
            for cl in rest[2]:
                sent_out[cl] = (rest[0], rest[1])
        elif kind == "write":
            writes.append((rest[0], rest[1]))
        elif kind == "notify":
            notifies.append(rest[0])
        elif kind == "gc":
            pauses.append((rest[0], rest[1], rest[2]))
    writes.sort()
    notifies.sort()
    write_starts = [start for start, _ in writes]
    rows: list[tuple[float, list[float]]] = []
    for cl, (due, sent, filled) in times.items():
        if cl not in received or cl not in sent_out:
            continue
        in_start, in_end = received[cl]
        at = bisect.bisect_left(write_starts, in_end)
        if at == len(writes):
            continue
        w_start, w_end = writes[at]
        back = bisect.bisect_left(notifies, w_end)
        if back == len(notifies):
            continue
        out_end = sent_out[cl][1]
        points = [due + offset, sent + offset, in_start, in_end, w_start, w_end,
                  notifies[back], out_end, filled + offset]
        rows.append((filled - due, [(b - a) * 1e3 for a, b in itertools.pairwise(points)]))
    if not rows:
        return {"stages_joined": 0}
    rows.sort(key=lambda row: row[0])
    tail = rows[-max(1, len(rows) // 100):]
    figures: dict[str, Any] = {"stages_joined": len(rows)}
    first = min(due for due, _, _ in times.values()) + offset
    last = max(filled for _, _, filled in times.values()) + offset
    during = [(end - start) * 1e3 for start, end, _ in pauses if first <= end and start <= last]
    figures["gc_pauses"] = {"count": len(during), "longest_ms": round(max(during, default=0), 3),
                            "total_ms": round(sum(during), 3),
                            "generations": sorted({g for s, e, g in pauses
                                                   if first <= e and s <= last})}
    for n, name in enumerate(STAGES):
        values = sorted(row[1][n] for row in rows)
        figures[name] = {"p50": round(values[len(values) // 2], 3),
                         "p99": round(values[min(len(values) - 1, len(values) * 99 // 100)], 3),
                         "tail_mean": round(sum(row[1][n] for row in tail) / len(tail), 3)}
    return figures


async def measured(pid: int, orders: int, phase: Any) -> dict[str, Any]:
    """``phase``'s figures plus the server's CPU microseconds per order, the machine's busy
    cores meanwhile (other load included) and each core's steal time meanwhile (ms the
    hypervisor did not run it while it wanted to run: a stall no code here causes)."""
    cpu, busy, started = cpu_seconds(pid), machine_busy_seconds(), time.perf_counter()
    steal = steal_seconds()
    figures: dict[str, Any] = await phase
    took = time.perf_counter() - started
    after = cpu_seconds(pid)
    count = figures.get("orders", orders)
    if cpu is not None and after is not None and count:
        figures["server_cpu_us_per_order"] = round((after - cpu) / count * 1e6, 1)
    figures["machine_busy_cores"] = round((machine_busy_seconds() - busy) / took, 2)
    figures["steal_ms"] = [round((b - a) * 1e3) for a, b in zip(steal, steal_seconds(),
                                                                 strict=False)]
    return figures


async def run(args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    taker_key, maker_key = scenario_keys(SCENARIO)[:2]
    maker = await connect(port, maker_key)
    maker_reader = asyncio.get_running_loop().create_task(maker.read_loop())
    _, sell = maker.order("2")
    maker.writer.write(sell)
    await asyncio.sleep(0.5)
    taker = await connect(port, taker_key)
    taker_reader = asyncio.get_running_loop().create_task(taker.read_loop())
    figures: dict[str, Any] = {}
    figures["saturation"] = await measured(pid, 0, saturation(taker, args.seconds,
                                                                args.window))
    times: dict[str, tuple[float, float, float]] | None = {} if args.stages else None
    offset = time.time() - time.perf_counter()
    figures["paced"] = await measured(
        pid, int(args.seconds * args.rate),
        paced(taker, args.seconds, args.rate, times) if args.pacer is None
        else paced_c(taker, taker_reader, args.pacer, args.seconds, args.rate, times))
    if times is not None:
        figures["stages"] = stages(args.stages, times, offset)
    for task in (maker_reader, taker_reader):
        task.cancel()
    return figures


ECHO = r"""
import asyncio, sys
class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        data, out, start = self.buffer + data, [], 0
        while (end := data.find(b"\x0110=", start)) >= 0 and len(data) >= end + 8:
            message, start = data[start:end], end + 8
            if b"\x0135=A\x01" in message:
                out.append(b"8=FIXT.1.1\x019=5\x0135=A\x0110=000\x01")
            elif b"\x0135=D\x01" in message:
                at = message.find(b"\x0111=")
                cl = message[at + 4:message.find(b"\x01", at + 4)]
                out.append(b"8=FIXT.1.1\x019=9\x0135=8\x0111=" + cl
                           + b"\x0139=2\x01150=F\x0110=000\x01")
        self.buffer = data[start:]
        if out:
            self.transport.write(b"".join(out))
async def main(port):
    await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port)
    await asyncio.Event().wait()
try:
    import uvloop  # as sandex serve
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
except ImportError:
    pass
asyncio.run(main(int(sys.argv[1])))
"""  # --floor: answers a logon and each order's fill at once (no sandex, no journal)


def start_echo(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The ``--floor`` echo in a subprocess, pinned as the server would be."""
    command = [sys.executable, "-c", ECHO, str(port)]
    if shutil.which("taskset") is not None:
        command = ["taskset", "-c", "0", *command]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the echo did not start: {log.read_text()[-2000:]}")


async def run_floor(args: argparse.Namespace, port: int) -> dict[str, Any]:
    taker = await connect(port, scenario_keys(SCENARIO)[0])
    reader = asyncio.get_running_loop().create_task(taker.read_loop())
    figures = {"paced": await (paced(taker, args.seconds, args.rate) if args.pacer is None
                               else paced_c(taker, reader, args.pacer, args.seconds,
                                            args.rate))}
    reader.cancel()
    return figures


def client_loop(epoll: bool) -> asyncio.AbstractEventLoop:
    """The client's event loop: ``select()`` times its sleeps to the microsecond (epoll, the
    default, to the millisecond, rounded up)."""
    if epoll:
        return asyncio.new_event_loop()
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--ephemeral", action="store_true", help="journal in memory")
    parser.add_argument("--src", type=Path,
                        help="the directory holding the sandex package to run (A/B)")
    parser.add_argument("--client", choices=("c", "python"), default="c",
                        help="the paced phase's client: fix_pacer.c (default; python where "
                             "no C compiler builds it) or this process")
    parser.add_argument("--epoll", action="store_true",
                        help="with --client python: pace on asyncio's default loop "
                             "(millisecond timers), as before")
    parser.add_argument("--floor", action="store_true",
                        help="paced phase only, against a FIX echo: the client's own latency")
    parser.add_argument("--stages", action="store_true",
                        help="stamp the server's stages of each paced order "
                             "(bench/fix_probe.py) and print where the latency goes")
    parser.add_argument("--tenure", action="store_true",
                        help="with --stages: the server freezes the collector's survivors "
                             "after each full collection (an experiment, bench/fix_probe.py)")
    parser.add_argument("--server-cores", default="0",
                        help="the cores the server may run on (taskset -c; default 0, and "
                             "this process on 1): 0,1 lets its journal writer thread run "
                             "beside this process instead of taking turns with its loop")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.tenure:
        os.environ["SANDEX_PROBE_TENURE"] = "1"  # read by bench/fix_probe.py in the server
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1 \
            and shutil.which("taskset") is not None:
        os.sched_setaffinity(0, {1})  # as below: the server (or echo) on core 0, us on 1
    work = Path(tempfile.mkdtemp(prefix="sandex-bench-fix-"))
    args.pacer = build_c("fix_pacer", work) if args.client == "c" and not args.epoll else None
    pacer = "C (fix_pacer.c)" if args.pacer is not None else (
        f"Python ({'epoll' if args.epoll else 'select'} loop)")
    if args.floor:
        port = free_port()
        echo = start_echo(port, work / "echo.log")
        try:
            with asyncio.Runner(loop_factory=lambda: client_loop(args.epoll)) as runner:
                figures = runner.run(run_floor(args, port))
        finally:
            echo.terminate()
            echo.wait(10)
            shutil.rmtree(work, ignore_errors=True)
        pace = figures["paced"]
        figures["machine"] = machine()
        if args.json:
            print(json.dumps(figures))
        else:
            print(f"{machine()}; client floor (FIX echo, no sandex), paced client "
                  f"{pacer}", file=sys.stderr)
            print(f"paced {args.rate:.0f} orders/s: p50 {pace['p50']} ms, p90 {pace['p90']} ms, "
                  f"p99 {pace['p99']} ms, max {pace['max']} ms", file=sys.stderr)
        return
    http_port, fix_port = free_port(), free_port()
    where = ["--ephemeral"] if args.ephemeral else ["--data-dir", str(work / "data")]
    launcher = ["-m", "sandex.cli"]
    if args.stages:
        args.stages = work / "stages.jsonl"
        launcher = [str(Path(__file__).resolve().parent / "fix_probe.py"), str(args.stages)]
    command = [sys.executable, *launcher, "serve", "--port", str(http_port),
               "--scenario", str(SCENARIO), "--no-rate-limit", "--no-demo", "--log-level",
               "warning", "--fix-order-port", str(fix_port), "--fix-plaintext", *where]
    if shutil.which("taskset") is not None:  # as bench/rest.py: server on core 0, us on 1
        command = ["taskset", "-c", args.server_cores, *command]
    process = start_server(command, http_port, work / "server.log", args.src)
    try:
        with asyncio.Runner(loop_factory=lambda: client_loop(args.epoll)) as runner:
            figures = runner.run(run(args, fix_port, process.pid))
    finally:
        process.terminate()
        try:  # a long run's history makes the shutdown snapshot take a while
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    figures["journal"] = "memory" if args.ephemeral else "disk (fsync per group commit)"
    figures["machine"] = machine()
    figures["server_cores"] = args.server_cores
    figures["paced_client"] = pacer
    if args.json:
        print(json.dumps(figures))
    else:
        sat, pace = figures["saturation"], figures["paced"]
        print(f"{machine()}; journal {figures['journal']}; server on core(s) "
              f"{args.server_cores}; paced client {pacer}", file=sys.stderr)
        if args.src:
            print(f"sandex from {args.src}", file=sys.stderr)
        if args.epoll:
            print("client paced on epoll (millisecond timers), as before", file=sys.stderr)
        print(f"saturation ({args.window} in flight): {sat['orders_per_s']} orders/s "
              f"(order + match + durable fill report), p50 {sat['p50']} ms, "
              f"p99 {sat['p99']} ms; server CPU {sat.get('server_cpu_us_per_order')} us/order, "
              f"machine busy {sat['machine_busy_cores']} cores", file=sys.stderr)
        print(f"paced {args.rate:.0f} orders/s: p50 {pace['p50']} ms, p90 {pace['p90']} ms, "
              f"p99 {pace['p99']} ms, max {pace['max']} ms; server CPU "
              f"{pace.get('server_cpu_us_per_order')} us/order, machine busy "
              f"{pace['machine_busy_cores']} cores, steal per core {pace['steal_ms']} ms",
              file=sys.stderr)
        if "stages" in figures:
            found = figures["stages"]
            print(f"paced orders cut into stages ({found['stages_joined']} joined), ms "
                  "p50 / p99 / mean over the slowest 1 %:", file=sys.stderr)
            gcs = found.get("gc_pauses", {})
            print(f"  the collector's pauses of 1 ms or more meanwhile: {gcs.get('count')} "
                  f"(generations {gcs.get('generations')}), longest {gcs.get('longest_ms')} "
                  f"ms, {gcs.get('total_ms')} ms in all", file=sys.stderr)
            for name in STAGES:
                if name in found:
                    print(f"  {name:<10} {found[name]['p50']:>7} {found[name]['p99']:>7} "
                          f"{found[name]['tail_mean']:>7}", file=sys.stderr)


if __name__ == "__main__":
    main()
