"""FIX market data fan-out: the demo's BTC-USD updates to N sessions, delivery latency.

    .venv/bin/python bench/fix_md.py [--sessions 100] [--seconds 20] [--src DIR]
        [--client c|python] [--json]

Starts ``sandex serve`` on the default scenario with its demo on (a market maker requoting 20
levels a side every second, and a taker) plus one profile holding N view keys, its journal
on disk (a temporary ``--data-dir``: each update is sent only once its command's group commit
is fsynced) and FIX in plaintext on free ports; pinned to core 0 with ``taskset`` when it
exists, the readers on core 1. N market data sessions (port "with snapshots", one key each:
one session per key) subscribe to BTC-USD and read the snapshot, then the increments ``X``.

The readers (``--client``): ``c`` (the default when the machine's C compiler builds it),
``bench/fix_md_client.c``, all N sessions in one epoll loop, a few microseconds a message,
so the figure is the server's; or ``python``, this process's asyncio streams (about 30 µs of
its own CPU an increment: a tick's increments to 100 sessions queue for milliseconds behind
each other in the reader, which the latency then counts).

Delivery latency of an increment = the wall time it is read - its TransactTime(60), the stamp
of the command that made it (both on this machine's clock; for the demo's ticks the tick's
due time, so a late timer counts too): it holds the timer's lateness, the tick's commands,
the group commit's fsync, the fan-out to all N sessions and the socket. The C reader times
every increment of every session and also prints, per event (RptSeq), ``first``: when its
first session read it (the tick's own path: timer, commands, commit, fan-out up to the
first write), and ``spread``: from the first session to the last. The Python reader times
the first 20 sessions only. Also printed: the server's and the reader's CPU time per
increment delivered (user + system from /proc) and how busy the machine's cores were.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kit import (
    ROOT,
    Key,
    build_c,
    commit_buckets,
    cpu_seconds,
    free_port,
    machine,
    machine_busy_seconds,
    percentiles,
    slow_commits,
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


def opening(key: Key) -> bytes:
    """A session's first bytes: its Logon, signed now, and its MarketDataRequest for BTC-USD
    (level 3, snapshot plus updates)."""
    stamp = sending_time(time.time())[:-3]
    sig = signature(base64.b64decode(key.secret), stamp, "1", key.key, "Coinbase",
                    key.passphrase)
    return (encode("A", [(34, "1"), (49, key.key), (52, stamp), (56, "Coinbase")],
                   [(95, str(len(sig))), (96, sig), (98, "0"), (108, "300"), (141, "Y"),
                    (553, key.key), (554, key.passphrase), (1137, "9")])
            + encode("V", [(34, "2"), (49, key.key), (52, stamp), (56, "Coinbase")],
                     [(262, f"md-{key.key[:8]}"), (263, "1"), (146, "1"), (55, "BTC-USD")]))


class Subscriber:
    def __init__(self, key: Key, timed: bool, stats: dict[str, Any]) -> None:
        self.key = key
        self.timed = timed
        self.stats = stats
        self.seq = 1
        self.buffer = b""

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(opening(self.key))
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
    """The Python reader: N asyncio streams in this process."""
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
    own, wall = time.process_time(), time.time()
    stats["measuring"] = True
    await asyncio.sleep(args.seconds)
    stats["measuring"] = False
    took = time.perf_counter() - started
    own = time.process_time() - own
    cpu_after = cpu_seconds(pid)
    for task in tasks:
        task.cancel()
    figures: dict[str, Any] = {
        "window": (wall, time.time()),
        "client": "Python (asyncio, this process)", "timed_sessions": min(TIMED, len(keys)),
        "sessions": len(keys), "subscribed": stats["snapshots"], "closed": stats["closed"],
        "increments_per_s": round(stats["increments"] / took),
        "per_session_per_s": round(stats["increments"] / took / max(len(keys), 1), 1),
        **percentiles(stats["latencies"], 1e-3),
        "machine_busy_cores": round((machine_busy_seconds() - busy) / took, 2)}
    if cpu is not None and cpu_after is not None and stats["increments"]:
        figures["server_cpu_us_per_increment"] = round(
            (cpu_after - cpu) / stats["increments"] * 1e6, 1)
        figures["client_cpu_us_per_increment"] = round(own / stats["increments"] * 1e6, 1)
    return figures


def run_c(args: argparse.Namespace, port: int, pid: int, keys: list[Key], binary: Path,
          work: Path, commits: Callable[[], dict[str, int]]) -> dict[str, Any]:
    """The C reader: N sessions in one epoll process (``fix_md_client.c``); ``commits``
    reads the server's group-commit times (``commit_buckets``)."""
    openings = work / "openings"
    openings.write_bytes(b"".join(opening(key) + b"\n" for key in keys))  # signed now
    client = subprocess.Popen([str(binary), str(port), str(len(keys)), str(openings)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert client.stdin is not None and client.stdout is not None
    try:
        if not select.select([client.stdout], [], [], 60)[0] or \
                client.stdout.readline().strip() != b"ready":
            raise SystemExit("fix_md_client: not every session had its snapshot within 60 s")
        time.sleep(1.0)
        cpu, own = cpu_seconds(pid), cpu_seconds(client.pid)
        committed = commits()
        busy, started, wall = machine_busy_seconds(), time.perf_counter(), time.time()
        client.stdin.write(b"start\n")
        client.stdin.flush()
        time.sleep(args.seconds)
        client.stdin.write(b"stop\n")
        client.stdin.flush()
        took, window = time.perf_counter() - started, (wall, time.time())
        cpu_after, own_after = cpu_seconds(pid), cpu_seconds(client.pid)
        busy = machine_busy_seconds() - busy
        committed = slow_commits(committed, commits())
        result = json.loads(client.stdout.read())
    finally:
        if client.poll() is None:
            client.kill()
        client.wait(10)
    samples = result["samples"]
    increments = len(samples)
    events: dict[int, list[float]] = {}  # RptSeq -> [transact, first read, last read]
    for _, rptseq, read, transact in samples:
        seen = events.get(rptseq)
        if seen is None:
            events[rptseq] = [transact, read, read]
        else:
            seen[1] = min(seen[1], read)
            seen[2] = max(seen[2], read)
    first = percentiles([e[1] - e[0] for e in events.values()], 1e-3)
    spread = percentiles([e[2] - e[1] for e in events.values()], 1e-3)
    figures: dict[str, Any] = {
        "window": window, "client": "C (epoll, fix_md_client.c)", "timed_sessions": len(keys),
        "sessions": len(keys), "subscribed": len(keys),
        "closed": sum(closed for _, closed in result["sessions"]),
        "increments_per_s": round(increments / took),
        "per_session_per_s": round(increments / took / max(len(keys), 1), 1),
        **percentiles([read - transact for _, _, read, transact in samples], 1e-3),
        "events": len(events),
        "first_p50": first.get("p50"), "first_p99": first.get("p99"),
        "spread_p50": spread.get("p50"), "spread_p99": spread.get("p99"),
        "machine_busy_cores": round(busy / took, 2), **committed}
    if increments and None not in (cpu, cpu_after, own, own_after):
        figures["server_cpu_us_per_increment"] = round(
            (cpu_after - cpu) / increments * 1e6, 1)  # type: ignore[operator]
        figures["client_cpu_us_per_increment"] = round(
            (own_after - own) / increments * 1e6, 1)  # type: ignore[operator]
    return figures


def stages(path: Path, window: tuple[float, float]) -> dict[str, Any]:
    """The server's stages per demo tick with increments in ``window``, from
    ``fix_md_probe.py``'s stamps:
    the timer's lateness (fired - due), applying its commands (fired - the commit's write
    starts), the write and fsync, the listeners before market data (durable - fan-out
    start), the fan-out; and CPU time: the fan-out's, and the FIX transport writes' between
    two ticks (all gateways: on a build that writes at the end of the step, the market
    data's writes happen after the fan-out)."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line]
    late: list[float] = []
    apply: list[float] = []
    commit: list[float] = []
    before: list[float] = []
    fan_out: list[float] = []
    fan_out_cpu: list[float] = []
    writes_cpu: list[float] = []
    fired: list[Any] | None = None
    written: list[Any] | None = None
    durable: float | None = None
    previous: float | None = None  # when the last tick with increments fired
    for record in records:
        if record[0] == "writes" and previous is not None and \
                window[0] <= previous <= window[1]:
            writes_cpu.append(record[1])  # the writes since that tick
        if record[0] == "fire":
            fired, written, durable, previous = record, None, None, None
        elif record[0] == "append" and fired is not None and written is None:
            written = record
        elif record[0] == "notify" and written is not None and durable is None:
            durable = record[1]
        elif record[0] == "fan_out" and fired is not None and written is not None \
                and durable is not None:
            if record[5] and window[0] <= fired[2] <= window[1]:
                previous = fired[2]
                late.append(fired[2] - fired[1])
                apply.append(written[1] - fired[2])
                commit.append(durable - written[1])
                before.append(record[1] - durable)
                fan_out.append(record[2] - record[1])
                fan_out_cpu.append(record[4])
            fired = None
    figures: dict[str, Any] = {"ticks": len(late)}
    for name, values in (("timer_late", late), ("apply", apply), ("commit", commit),
                         ("listeners_before", before), ("fan_out", fan_out),
                         ("fan_out_cpu", fan_out_cpu), ("writes_cpu", writes_cpu)):
        found = percentiles(values, 1e-3)
        figures[f"{name}_p50"], figures[f"{name}_p99"] = found.get("p50"), found.get("p99")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--src", type=Path,
                        help="the directory holding the sandex package to run (A/B)")
    parser.add_argument("--client", choices=("c", "python"), default="c",
                        help="the readers: one C epoll process (default) or asyncio here")
    parser.add_argument("--stages", action="store_true",
                        help="stamp the server's stages (bench/fix_md_probe.py) and print them")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sandex-bench-fix-md-"))
    keys = bench_keys(args.sessions)
    http_port, md_port = free_port(), free_port()
    probe = work / "stages.jsonl"
    launcher = ([str(Path(__file__).resolve().parent / "fix_md_probe.py"), str(probe)]
                if args.stages else ["-m", "sandex.cli"])
    command = [sys.executable, *launcher, "serve", "--port", str(http_port),
               "--scenario", str(scenario(keys, work / "scenario.toml")), "--log-level",
               "warning", "--data-dir", str(work / "data"), "--fix-plaintext",
               "--fix-order-port", str(free_port()), "--fix-drop-copy-port", str(free_port()),
               "--fix-md-port", str(md_port), "--fix-md-incremental-port", str(free_port())]
    if shutil.which("taskset") is not None:  # as bench/fix.py: server on core 0, us on 1
        command = ["taskset", "-c", "0", *command]
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})
    binary = build_c("fix_md_client", work) if args.client == "c" else None
    process = start_server(command, http_port, work / "server.log", args.src,
                           timeout=120)  # a busy machine: the scenario takes a while
    try:
        token = (work / "data" / "admin.token").read_text().strip()
        if binary is not None:
            figures = run_c(args, md_port, process.pid, keys, binary, work,
                            lambda: commit_buckets(http_port, token))
        else:
            figures = asyncio.run(run(args, md_port, process.pid, keys))
        window = figures.pop("window")
        if args.stages:
            figures.update(stages(probe, window))
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
          f" server CPU {figures.get('server_cpu_us_per_increment')} us/increment, reader "
          f"CPU {figures.get('client_cpu_us_per_increment')} us/increment, machine "
          f"busy {figures['machine_busy_cores']} cores", file=sys.stderr)
    print(f"reader: {figures['client']}, {figures['timed_sessions']} sessions timed", end="",
          file=sys.stderr)
    if "first_p50" in figures:
        print(f"; per event ({figures['events']}): first session p50 {figures['first_p50']} "
              f"ms, p99 {figures['first_p99']} ms; first to last session p50 "
              f"{figures['spread_p50']} ms, p99 {figures['spread_p99']} ms", end="",
              file=sys.stderr)
    print(file=sys.stderr)
    if "commits" in figures:
        print(f"journal: {figures['commits']} group commits, write + fsync over 2.5 ms: "
              f"{figures['commits_over_2_5ms']}, over 5 ms: {figures['commits_over_5ms']}, "
              f"over 10 ms: {figures['commits_over_10ms']} (the disk's share of the tail)",
              file=sys.stderr)
    if "ticks" in figures:
        print(f"server stages over {figures['ticks']} ticks (p50/p99 ms): timer late "
              f"{figures['timer_late_p50']}/{figures['timer_late_p99']}, commands "
              f"{figures['apply_p50']}/{figures['apply_p99']}, write + fsync "
              f"{figures['commit_p50']}/{figures['commit_p99']}, listeners before "
              f"market data {figures['listeners_before_p50']}/"
              f"{figures['listeners_before_p99']}, fan-out {figures['fan_out_p50']}/"
              f"{figures['fan_out_p99']}; CPU ms a tick: fan-out {figures['fan_out_cpu_p50']}/"
              f"{figures['fan_out_cpu_p99']}, FIX transport writes {figures['writes_cpu_p50']}/"
              f"{figures['writes_cpu_p99']}", file=sys.stderr)


if __name__ == "__main__":
    main()
