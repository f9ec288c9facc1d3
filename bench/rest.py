"""Signed order traffic against the REST gateway: throughput and latency, engine in the loop.

    cd /work/main && .venv/bin/python bench/rest.py [--seconds S] [--connections N]
        [--rate R --paced-connections M] [--mode saturation|paced|both] [--url URL]
        [--scenario FILE] [--depth D] [--src DIR] [--nice N] [--stub | --ceiling]
        [--side-by-side PAIRS] [--json]

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
generator (``bench/loadgen.py``) is raw asyncio protocols (uvloop when available), one request
in flight per connection; ``--stub`` points it at a canned-response server instead, which
gives its own ceiling. ``--ceiling`` points it at the no-engine ceiling of the server
(``bench/ceiling.py``: a bare signed-order ASGI handler on sandex's server stack), and
``--side-by-side PAIRS`` runs saturation on the ceiling and on sandex in turn, each on a
fresh server, and prints sandex's share of the ceiling's requests/s and CPU per request. This
file holds the modes, the command line and the report.

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
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kit import (
    ROOT,
    SCENARIO,
    filesystem,
    free_port,
    machine,
    server_stack,
    source_digest,
    start_server,
    versions,
)
from loadgen import Market, Trader, drive, load_scenario, loop_factory, serve_stub

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
    parser.add_argument("--scenario", type=Path, default=SCENARIO,
                        help="scenario the server runs (keys and products are read from it)")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list for the server")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU for this process")
    parser.add_argument("--src", type=Path,
                        help="run the sandex package found in this directory (a patched copy)")
    parser.add_argument("--stub", action="store_true",
                        help="canned-answer server instead of sandex: the generator's ceiling")
    parser.add_argument("--ceiling", action="store_true",
                        help="the no-engine ceiling instead of sandex: a bare signed-order ASGI "
                             "handler on the same server stack (bench/ceiling.py)")
    parser.add_argument("--side-by-side", type=int, metavar="PAIRS",
                        help="saturation only: PAIRS runs of the ceiling and of sandex, "
                             "alternating, each on a fresh server; then sandex's share of "
                             "the ceiling")
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
    if args.side_by_side:
        side_by_side(args)
        return
    kind = "stub" if args.stub else "ceiling" if args.ceiling else "sandex"
    run_server(args, kind)


def side_by_side(args: argparse.Namespace) -> None:
    """``args.side_by_side`` alternating saturation runs of the ceiling and of sandex."""
    args.mode = "saturation"
    runs: dict[str, list[dict[str, Any]]] = {"ceiling": [], "sandex": []}
    for _ in range(args.side_by_side):
        for kind in runs:
            runs[kind] += run_server(args, kind)
    out = sys.stderr if args.json else sys.stdout
    rate = {k: sorted(r["req_per_s"] for r in v) for k, v in runs.items()}
    cpu = {k: sorted(r["cpu_us_per_req"]["server"] or 0.0 for r in v) for k, v in runs.items()}
    median = {k: v[len(v) // 2] for k, v in rate.items()}
    cpu_median = {k: v[len(v) // 2] for k, v in cpu.items()}
    print(f"side by side, {args.side_by_side} pairs of {args.seconds} s, "
          f"{args.connections} conns: req/s ceiling {rate['ceiling']}, sandex {rate['sandex']}; "
          f"server CPU us/req ceiling {cpu['ceiling']}, sandex {cpu['sandex']}", file=out)
    print(f"  sandex / ceiling: req/s {median['sandex'] / median['ceiling']:.2f} (medians), "
          f"CPU per request {cpu_median['ceiling'] / cpu_median['sandex']:.2f} "
          "(ceiling's us / sandex's us, medians)", file=out)


def run_server(args: argparse.Namespace, kind: str) -> list[dict[str, Any]]:
    """Start a server of ``kind`` (sandex, stub, ceiling) unless ``--url``; measure it."""
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
        here = Path(__file__).resolve()
        command = (
            [sys.executable, str(here), "--stub-server", str(port)] if kind == "stub" else
            [sys.executable, str(here.parent / "ceiling.py"), str(port),
             "--scenario", str(args.scenario.resolve())] if kind == "ceiling" else
            [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port),
             "--scenario", str(args.scenario.resolve()), "--no-rate-limit",
             "--log-level", args.log_level,
             *(["--ephemeral"] if args.ephemeral else ["--data-dir", data_dir.name])])
        pinned = shutil.which("taskset") is not None
        if pinned:
            command = ["taskset", "-c", args.server_cpu, *command]
        process = start_server(command, port, log, args.src)
        server_pid = process.pid  # taskset execs the server: same pid
        what = ("STUB canned-answer server" if kind == "stub" else
                "CEILING: bare signed-order ASGI handler, same server stack (bench/ceiling.py)"
                if kind == "ceiling" else
                f"sandex serve --no-rate-limit --log-level {args.log_level} "
                + ("--ephemeral (no journal)" if args.ephemeral
                                                   else f"--data-dir {data_dir.name} (journal on,"
                                                   f" {filesystem(data_dir.name)})"))
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
    return results


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
    say(f"machine: {machine()}")
    code = source_digest(args.src.resolve() if args.src else ROOT)
    say(f"server: {settings}; code {code}{' from ' + str(args.src) if args.src else ''}")
    say(f"client: {pinned_client}, {'plain asyncio' if args.no_uvloop else 'uvloop'} protocols; "
        f"{len(traders)} keys x {len(markets)} products ({args.scenario.name}); "
        f"depth {args.depth}, warm-up {args.warmup} s")
    results = []
    with asyncio.Runner(loop_factory=loop_factory(not args.no_uvloop)) as runner:
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
        print(json.dumps({"machine": machine(), "server": settings, "code": code,
                          "client": pinned_client, "keys": len(traders),
                          "products": len(markets), "depth": args.depth, "results": results}))
    return results


if __name__ == "__main__":
    main()
