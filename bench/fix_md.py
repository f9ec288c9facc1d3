"""FIX market data fan-out: the demo's BTC-USD updates to N sessions, delivery latency.

    .venv/bin/python bench/fix_md.py [--sessions 100] [--seconds 20] [--src DIR] [--json]

Starts ``sandex serve`` on the default scenario with its demo on (a market maker requoting 20
levels a side every second, and a taker) plus one profile holding N view keys, its journal
on disk (a temporary ``--data-dir``: each update is sent only once its command's group commit
is fsynced) and FIX in plaintext on free ports; pinned to core 0 with ``taskset`` when it
exists, this process on core 1. N market data sessions (port "with snapshots", one key each:
one session per key) subscribe to BTC-USD and read the snapshot, then the increments ``X``.

Delivery latency of an increment = the wall time it is read here - its TransactTime(60),
the stamp of the command that made it (both on this machine's clock; for the demo's ticks
the tick's due time, so a late timer counts too): it holds the group commit's fsync, the
fan-out to all N sessions and the socket. Every session counts its
increments; the first 20 also time each one. Also printed: the server's CPU time per
increment delivered (user + system from /proc) and how busy the machine's cores were.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kit import (
    ROOT,
    Key,
    cpu_seconds,
    free_port,
    machine,
    machine_busy_seconds,
    percentiles,
    start_server,
)

from sandex.api.fix.codec import encode
from sandex.api.fix.logon import signature
from sandex.api.fix.session import sending_time

PROFILE = "fd000000-0000-4000-8000-000000000001"
TIMED = 20  # sessions that time every increment


def bench_keys(count: int) -> list[Key]:
    """``count`` view keys derived from a fixed seed (bench only)."""
    keys = []
    for n in range(count):
        seed = hashlib.sha256(f"sandex-bench-fix-md-{n}".encode()).digest()
        keys.append(Key(seed[:16].hex(), base64.b64encode(seed + seed).decode(), f"md{n}",
                        PROFILE, ("view",)))
    return keys


def scenario(keys: list[Key], path: Path) -> Path:
    text = (ROOT / "sandex" / "scenarios" / "default.toml").read_text()
    text += (f'\n[[profiles]]\nid = "{PROFILE}"\nuser_id = "fd0000000000000000000001"\n'
             'name = "md-bench"\nbalances = { USD = "1" }\n')
    for key in keys:
        text += (f'\n[[profiles.keys]]\nkey = "{key.key}"\nsecret = "{key.secret}"\n'
                 f'passphrase = "{key.passphrase}"\npermissions = ["view"]\n')
    path.write_text(text)
    return path


def transact_seconds(text: bytes) -> float:
    moment = datetime.strptime(text.decode(), "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC)
    return moment.timestamp()


class Subscriber:
    def __init__(self, key: Key, timed: bool, stats: dict[str, Any]) -> None:
        self.key = key
        self.timed = timed
        self.stats = stats
        self.seq = 1
        self.buffer = b""

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = self.key
        stamp = sending_time(time.time())[:-3]
        sig = signature(base64.b64decode(key.secret), stamp, "1", key.key, "Coinbase",
                        key.passphrase)
        writer.write(encode("A", [(34, "1"), (49, key.key), (52, stamp), (56, "Coinbase")],
                            [(95, str(len(sig))), (96, sig), (98, "0"), (108, "300"),
                             (141, "Y"), (553, key.key), (554, key.passphrase),
                             (1137, "9")]))
        writer.write(encode("V", [(34, "2"), (49, key.key), (52, stamp), (56, "Coinbase")],
                            [(262, f"md-{key.key[:8]}"), (263, "1"), (146, "1"),
                             (55, "BTC-USD")]))
        stats = self.stats
        while True:
            chunk = await reader.read(1 << 16)
            if not chunk:
                stats["closed"] += 1
                return
            now = time.time()
            data = self.buffer + chunk
            start = 0
            while True:
                end = data.find(b"\x0110=", start)
                if end < 0 or len(data) < end + 8:
                    break
                message = data[start:end]
                start = end + 8
                if b"\x0135=X\x01" not in message:
                    if b"\x0135=W\x01" in message:
                        stats["snapshots"] += 1
                    continue
                if not stats["measuring"]:
                    continue
                stats["increments"] += 1
                if self.timed:
                    at = message.find(b"\x0160=")
                    stats["latencies"].append(now - transact_seconds(message[at + 4:at + 28]))
            self.buffer = data[start:]


async def run(args: argparse.Namespace, port: int, pid: int, keys: list[Key]
              ) -> dict[str, Any]:
    stats: dict[str, Any] = {"snapshots": 0, "increments": 0, "latencies": [], "closed": 0,
                             "measuring": False}
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(Subscriber(key, n < TIMED, stats).run(port))
             for n, key in enumerate(keys)]
    deadline = time.monotonic() + 60
    while stats["snapshots"] < len(keys) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    cpu, busy, started = cpu_seconds(pid), machine_busy_seconds(), time.perf_counter()
    stats["measuring"] = True
    await asyncio.sleep(args.seconds)
    stats["measuring"] = False
    took = time.perf_counter() - started
    cpu_after = cpu_seconds(pid)
    for task in tasks:
        task.cancel()
    figures: dict[str, Any] = {
        "sessions": len(keys), "subscribed": stats["snapshots"], "closed": stats["closed"],
        "increments_per_s": round(stats["increments"] / took),
        "per_session_per_s": round(stats["increments"] / took / max(len(keys), 1), 1),
        **percentiles(stats["latencies"], 1e-3),
        "machine_busy_cores": round((machine_busy_seconds() - busy) / took, 2)}
    if cpu is not None and cpu_after is not None and stats["increments"]:
        figures["server_cpu_us_per_increment"] = round(
            (cpu_after - cpu) / stats["increments"] * 1e6, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--src", type=Path,
                        help="the directory holding the sandex package to run (A/B)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sandex-bench-fix-md-"))
    keys = bench_keys(args.sessions)
    http_port, md_port = free_port(), free_port()
    command = [sys.executable, "-m", "sandex.cli", "serve", "--port", str(http_port),
               "--scenario", str(scenario(keys, work / "scenario.toml")), "--log-level",
               "warning", "--data-dir", str(work / "data"), "--fix-plaintext",
               "--fix-order-port", str(free_port()), "--fix-drop-copy-port", str(free_port()),
               "--fix-md-port", str(md_port), "--fix-md-incremental-port", str(free_port())]
    if shutil.which("taskset") is not None:  # as bench/fix.py: server on core 0, us on 1
        command = ["taskset", "-c", "0", *command]
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})
    process = start_server(command, http_port, work / "server.log", args.src)
    try:
        figures = asyncio.run(run(args, md_port, process.pid, keys))
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    figures["journal"] = "disk (fsync per group commit)"
    figures["machine"] = machine()
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{machine()}; journal {figures['journal']}"
          f"{'; sandex from ' + str(args.src) if args.src else ''}", file=sys.stderr)
    print(f"{figures['subscribed']}/{figures['sessions']} sessions on BTC-USD "
          f"({figures['closed']} closed): {figures['increments_per_s']} increments/s "
          f"delivered ({figures['per_session_per_s']} per session); delivery p50 "
          f"{figures.get('p50')} ms, p99 {figures.get('p99')} ms, max {figures.get('max')} ms;"
          f" server CPU {figures.get('server_cpu_us_per_increment')} us/increment, machine "
          f"busy {figures['machine_busy_cores']} cores", file=sys.stderr)


if __name__ == "__main__":
    main()
