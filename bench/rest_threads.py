"""Where a REST server's CPU goes on the wire: per thread, user and system, and (``--strace``)
its system calls per request, under ``bench/rest.py``'s saturation load.

    .venv/bin/python bench/rest_threads.py [--app sandex|ceiling] [--seconds S] [--strace]
        [--src DIR]

Starts the server as ``bench/rest.py`` does (``sandex serve --no-rate-limit`` with its journal
on in a temporary data dir, or ``--app ceiling``: ``bench/ceiling.py``; pinned to core 0 with
``taskset``), runs ``bench/rest.py --url ... --mode saturation --json`` against it, and
samples ``/proc/PID/task/*/stat`` and ``status`` over the measured window: each thread's user
and system CPU microseconds per request and its voluntary and involuntary context switches
per request. ``--strace`` attaches ``strace -c -f`` over the same window and prints the
system calls per request (``writev`` counts the answers: one each). For A/B runs on a shared
machine, alternate ``--src`` checkouts several times: the figures per request survive load
better than requests/s, the per-thread split does too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kit import ROOT, SCENARIO, commit_buckets, free_port, start_server

TICK = os.sysconf("SC_CLK_TCK")
Sample = dict[str, tuple[str, float, float, int, int]]


def threads(pid: int) -> Sample:
    """Each thread of ``pid``: (name, user s, system s, voluntary, involuntary switches)."""
    found: Sample = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            status = dict(line.split(":", 1) for line in
                          (task / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[task.name] = (stat[stat.index("(") + 1:stat.rindex(")")],
                            int(fields[11]) / TICK, int(fields[12]) / TICK,
                            int(status["voluntary_ctxt_switches"]),
                            int(status["nonvoluntary_ctxt_switches"]))
    return found


def process(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid``, all its threads (those ended too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def syscalls(path: Path) -> dict[str, int]:
    """``strace -c`` output: calls by system call."""
    calls = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            calls[parts[-1]] = int(parts[3])
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=("sandex", "ceiling"), default="sandex")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured window")
    parser.add_argument("--strace", action="store_true", help="system calls per request too")
    parser.add_argument("--src", type=Path, help="run the sandex package found in this directory")
    args = parser.parse_args()
    port = free_port()
    here = Path(__file__).resolve().parent
    data = tempfile.TemporaryDirectory(prefix="sandex-threads-")
    command = ([sys.executable, str(here / "ceiling.py"), str(port), "--scenario", str(SCENARIO)]
               if args.app == "ceiling" else
               [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--scenario",
                str(SCENARIO), "--no-rate-limit", "--log-level", "warning", "--data-dir",
                data.name])
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    log = Path(f"/tmp/sandex-bench-threads-{port}.log")
    server = start_server(command, port, log, args.src)
    trace = Path(data.name) / "strace.txt"
    try:
        load = subprocess.Popen(
            [sys.executable, str(here / "rest.py"), "--url", f"http://127.0.0.1:{port}",
             "--server-pid", str(server.pid), "--mode", "saturation",
             "--seconds", str(args.seconds), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(1.5)  # rest.py's warm-up (1 s) and its connections
        tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(server.pid), "-o",
                                   str(trace)], stderr=subprocess.DEVNULL) \
            if args.strace else None
        token = Path(data.name) / "admin.token"
        commits = (lambda: commit_buckets(port, token.read_text().strip())["+Inf"]) \
            if args.app == "sandex" and token.exists() else (lambda: 0)
        first = commits()
        before, started = threads(server.pid), time.perf_counter()
        whole = process(server.pid)
        time.sleep(args.seconds - 1.0)
        after, seconds = threads(server.pid), time.perf_counter() - started
        whole = tuple(b - a for a, b in zip(whole, process(server.pid), strict=True))
        committed = commits() - first
        if tracer is not None:
            tracer.send_signal(signal.SIGINT)
            tracer.wait()
        out, _ = load.communicate()
        result: dict[str, Any] = json.loads(out.decode().splitlines()[-1])["results"][0]
    finally:
        server.terminate()
        server.wait()
    report(args, result, before, after, seconds, syscalls(trace) if args.strace else None,
           committed, whole)
    data.cleanup()
    log.unlink(missing_ok=True)


def report(args: argparse.Namespace, result: dict[str, Any], before: Sample, after: Sample,
           seconds: float, calls: dict[str, int] | None, commits: int = 0,
           whole: tuple[float, ...] = (0.0, 0.0)) -> None:
    rate = result["req_per_s"]
    requests = rate * seconds
    print(f"{args.app}{' from ' + str(args.src) if args.src else ''}: {rate:,} req/s, "
          f"server {result['cpu_pct']['server']} % of a core, {result['cpu_us_per_req']['server']}"
          f" us/req; other processes {result['cpu_pct']['other']} %")
    total_user = total_system = 0.0
    for tid, (name, user, system, voluntary, involuntary) in sorted(after.items()):
        was = before.get(tid, (name, 0.0, 0.0, 0, 0))
        user, system = user - was[1], system - was[2]
        voluntary, involuntary = voluntary - was[3], involuntary - was[4]
        total_user += user
        total_system += system
        if user + system + voluntary:
            print(f"  thread {tid} ({name}): user {1e6 * user / requests:6.1f} us/req, system "
                  f"{1e6 * system / requests:5.1f} us/req; switches {voluntary / requests:.3f}"
                  f" voluntary, {involuntary / requests:.3f} involuntary a request")
    print(f"  all threads: user {1e6 * total_user / requests:.1f}, system "
          f"{1e6 * total_system / requests:.1f} us/req ({requests:,.0f} requests in "
          f"{seconds:.1f} s)")
    print(f"  the process (threads ended in the window too): user "
          f"{1e6 * whole[0] / requests:.1f}, system {1e6 * whole[1] / requests:.1f} us/req")
    if commits:
        print(f"  group commits: {commits:,}, {requests / commits:.1f} requests a commit "
              f"(the window's requests over the commits read from /metrics around it)")
    if calls:
        answers = calls.get("writev") or 1
        top = sorted(calls.items(), key=lambda item: -item[1])[:12]
        print(f"  system calls a request (answers counted by writev: {answers:,}): "
              f"{sum(calls.values()) / answers:.2f}; "
              + ", ".join(f"{name} {count / answers:.3f}" for name, count in top))


if __name__ == "__main__":
    main()
