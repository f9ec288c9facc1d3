"""Durable signed order entry on the JetStream journal, a follower's staleness, failover times.

    .venv/bin/python bench/cluster.py [--seconds S] [--kills N] [--rate R]
        [--staleness S] [--src DIR] [--json]

Starts a local 3-server JetStream cluster (``sandex.cluster.local``: 3 replicas,
``sync_interval: always``, on this machine), a sandex leader and a hot standby with
``--journal nats://...``, then:

1. runs ``bench/rest.py --url`` against the leader (64 closed-loop signed clients placing and
   canceling, then ``--rate`` req/s paced over 16 connections): every answer after its batch
   was acknowledged by a quorum of JetStream servers, each having fsynced it. The standby
   tails the stream meanwhile, as in production;
   The leader's CPU per request is rest.py's "server" figure; the standby's and the three
   JetStream servers' CPU per request over the same window are printed beside it, and the
   leader's group commits (batches/s, records per batch, mean commit time, from ``/metrics``);
2. staleness of the standby as a read-only follower (``--staleness`` seconds under each of
   saturation and ``--rate`` paced load, 0 to skip): the nodes run the bench scenario plus a
   probe product ``LTC-USD`` that the load never trades. Every ~20 ms a probe places a
   resting order on it at the leader and, from the leader's reply (the order is durable),
   polls ``GET /orders/{id}`` on the follower until it answers 200: the **REST lag**. Two
   WebSocket clients subscribed to ``full`` for ``LTC-USD`` on both nodes time each message
   (same ``sequence`` on both): the **feed lag**, follower minus leader. The **position
   lag** is the leader's durable position minus the follower's applied one (``/metrics``
   ``sandex_journal_commands``, the follower read before and after the leader, averaged),
   sampled every 50 ms. p50/p99/max of each;
3. ``kill -9`` of the leader ``--kills`` times: the time from the kill until the standby
   answers a signed order (lease expiry + catch-up + ``Takeover`` append), then the killed
   node is started again and waits as the standby for the next round.

The machine is shared: its load average is printed with the figures. ``--src DIR`` runs the
``sandex`` package of another checkout (``/work/main``, say) in both nodes, for A/B runs
side by side: compare the leader's CPU per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit import ROOT, SCENARIO, free_port, machine, start_server

from sandex.cluster.local import LocalCluster
from tests.support.cluster_kit import _free_base
from tests.support.feed_kit import auth_fields
from tests.support.rest_kit import RawClient

LEASE_TTL_S = 3.0  # the default of sandex serve
PROBE = "LTC-USD"  # the staleness probe's product: in the nodes' scenario, never in the load's
PROBE_SCENARIO = """
[[currencies]]
id = "LTC"
name = "Litecoin"
min_size = "0.00000001"

[[products]]
id = "LTC-USD"
base_increment = "0.00000001"
quote_increment = "0.01"
min_market_funds = "1"
"""
TICKS = os.sysconf("SC_CLK_TCK")


def node_command(cluster: LocalCluster, name: str, port: int, data: Path,
                 scenario: Path = SCENARIO) -> list[str]:
    return [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--scenario",
            str(scenario), "--no-rate-limit", "--log-level", "warning", "--no-fix",
            "--data-dir", str(data / name), "--journal", cluster.url, "--journal-monitor",
            cluster.monitors, "--node-name", name, "--lease-ttl", str(LEASE_TTL_S)]


def leads(port: int, data_dir: Path) -> bool:
    import http.client

    try:
        token = (data_dir / "admin.token").read_text().strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/admin/state", headers={"Authorization": f"Bearer {token}"})
        reply = conn.getresponse()
        return reply.status == 200 and json.loads(reply.read())["follower_of"] is None
    except (OSError, ValueError):
        return False


def trader_creds() -> tuple[str, str, str]:
    """The first trading key of the bench scenario."""
    import tomllib

    scenario = tomllib.loads(SCENARIO.read_text())
    for profile in scenario.get("profiles", []):
        for key in profile.get("keys", []):
            if "trade" in key.get("permissions", []):
                return key["key"], key["secret"], key["passphrase"]
    raise SystemExit(f"{SCENARIO}: no trading key")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def metrics(port: int, data_dir: Path) -> dict[str, float]:
    """The node's ``/metrics`` figures (unlabelled ones), by name."""
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    text = conn.getresponse().read().decode()
    return {name: float(value) for name, value in
            re.findall(r"^([a-z_]+) ([0-9.e+-]+)$", text, re.M)}


def quantiles(values: list[float], unit: float = 1.0, digits: int = 2) -> dict[str, Any]:
    """p50/p90/p99/max of ``values`` times ``unit`` (count included)."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * unit, digits)

    return {"count": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99),
            "max": round(ordered[-1] * unit, digits)}


class FeedClock(threading.Thread):
    """When each ``full`` message of the probe product arrives from one node, by sequence."""

    def __init__(self, port: int, creds: tuple[str, str, str]) -> None:
        super().__init__(daemon=True)
        self.port, self.creds = port, creds
        self.seen: dict[int, float] = {}
        self.subscribed = threading.Event()
        self.answer: dict[str, Any] = {}
        self.stopping = False

    def run(self) -> None:
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{self.port}/", open_timeout=10) as connection:
            connection.send(json.dumps({"type": "subscribe", "product_ids": [PROBE],
                                        "channels": ["full"], **auth_fields(self.creds)}))
            while not self.stopping:
                try:
                    text = connection.recv(timeout=0.2)
                except TimeoutError:
                    continue
                arrived = time.monotonic()
                message = json.loads(text)
                if message.get("type") in ("subscriptions", "error"):
                    self.answer = message
                    self.subscribed.set()
                elif "sequence" in message and message.get("product_id") == PROBE:
                    self.seen[int(message["sequence"])] = arrived

    def stop(self) -> None:
        self.stopping = True
        self.join(5)


def staleness(ports: dict[str, int], data: Path, leader: str, follower: str, load: list[str],
              seconds: float) -> dict[str, Any]:
    """The follower's lag behind the leader while ``load`` (a rest.py command) runs."""
    creds = trader_creds()
    feeds = {name: FeedClock(ports[name], creds) for name in (leader, follower)}
    for clock in feeds.values():
        clock.start()
    for clock in feeds.values():
        if not clock.subscribed.wait(10) or clock.answer.get("type") != "subscriptions":
            raise SystemExit(f"no feed subscription on port {clock.port}: {clock.answer}")
    rest = subprocess.Popen(load, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    positions: list[float] = []
    rest_lag: list[float] = []
    done = threading.Event()

    def sample_positions() -> None:
        while not done.is_set():
            try:
                before = metrics(ports[follower], data / follower)["sandex_journal_commands_total"]
                ahead = metrics(ports[leader], data / leader)["sandex_journal_commands_total"]
                after = metrics(ports[follower], data / follower)["sandex_journal_commands_total"]
                positions.append(max(0.0, ahead - (before + after) / 2))
            except (OSError, KeyError, ValueError):
                pass
            done.wait(0.05)

    sampler = threading.Thread(target=sample_positions, daemon=True)
    time.sleep(1.5)  # rest.py's start and warm-up
    sampler.start()
    place, read = RawClient(ports[leader], creds), RawClient(ports[follower], creds)
    started = time.monotonic()
    failures, refusal = 0, ""
    while time.monotonic() - started < seconds:
        reply = place.post("/orders", {"product_id": PROBE, "side": "buy", "price": "10.00",
                                       "size": "0.2"})
        acknowledged = time.monotonic()
        if reply.status != 200:
            failures += 1
            refusal = f"{reply.status} {reply.body[:200]!r}"
            time.sleep(0.02)
            continue
        order = reply.json()["id"]
        while read.get(f"/orders/{order}").status != 200:
            if time.monotonic() - acknowledged > 10:
                raise SystemExit(f"the follower did not show order {order} in 10 s")
            time.sleep(0.0005)
        rest_lag.append(time.monotonic() - acknowledged)
        place.delete(f"/orders/{order}")
        time.sleep(0.02)
    done.set()
    sampler.join()
    out, err = rest.communicate()
    time.sleep(0.5)  # the last feed messages
    for clock in feeds.values():
        clock.stop()
    both = feeds[leader].seen.keys() & feeds[follower].seen.keys()
    feed_lag = [feeds[follower].seen[seq] - feeds[leader].seen[seq] for seq in both]
    figures = json.loads(out.strip().splitlines()[-1])["results"][0] \
        if rest.returncode == 0 and out.strip() else {"error": err[-2000:]}
    return {"load": {key: figures.get(key) for key in ("mode", "req_per_s", "offered_per_s")},
            "rest_lag_ms": quantiles(rest_lag, 1e3), "feed_lag_ms": quantiles(feed_lag, 1e3),
            "position_lag": quantiles(positions, 1.0, 1), "probe_refused": failures,
            **({"probe_refusal": refusal} if failures else {})}


def stale_line(figures: dict[str, Any]) -> str:
    load = figures["load"]

    def q(name: str) -> str:
        got = figures[name]
        return f"p50 {got.get('p50')} p99 {got.get('p99')} max {got.get('max')} " \
            f"(n={got['count']})"

    return (f"follower lag under {load.get('mode')} load ({load.get('req_per_s')} req/s): REST "
            f"read ms {q('rest_lag_ms')}; feed ms {q('feed_lag_ms')}; positions "
            f"{q('position_lag')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64,
                        help="rest.py's closed-loop clients at saturation (the README's: 64)")
    parser.add_argument("--staleness", type=float, default=10.0,
                        help="seconds of the follower staleness probe per load mode (0: skip)")
    parser.add_argument("--src", type=Path, help="run the sandex package of this checkout")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    src = args.src.resolve() if args.src is not None else None
    report: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="sandex-bench-cluster-") as tmp:
        data = Path(tmp)
        scenario = data / "scenario.toml"
        scenario.write_text(SCENARIO.read_text() + PROBE_SCENARIO)
        nats = LocalCluster(data / "nats", base=_free_base())
        nats.start()
        ports = {"a": free_port(), "b": free_port()}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in ("a", "b"):
                processes[name] = start_server(
                    node_command(nats, name, ports[name], data, scenario), ports[name],
                    data / f"{name}.log", src)
                if name == "a":
                    while not leads(ports["a"], data / "a"):
                        time.sleep(0.05)
            rest_py = [sys.executable, str(ROOT / "bench" / "rest.py"), "--url",
                       f"http://127.0.0.1:{ports['a']}", "--server-pid",
                       str(processes["a"].pid), "--scenario", str(SCENARIO), "--json"]
            others = {"standby": processes["b"].pid,
                      **{f"jetstream {j}": p.pid for j, p in nats.processes.items()}}
            for mode in ("saturation", "paced"):
                cpu_before = {name: cpu_seconds(pid) for name, pid in others.items()}
                commits_before, clock_before = metrics(ports["a"], data / "a"), time.monotonic()
                rest = subprocess.run(
                    [*rest_py, "--mode", mode, "--seconds", str(args.seconds), "--rate",
                     str(args.rate), "--connections", str(args.connections)],
                    capture_output=True, text=True, check=False)
                commits, took = metrics(ports["a"], data / "a"), time.monotonic() - clock_before
                print(rest.stderr, file=sys.stderr, end="")
                figures = json.loads(rest.stdout.strip().splitlines()[-1]) \
                    if rest.returncode == 0 and rest.stdout.strip() \
                    else {"error": rest.stderr[-2000:]}
                results = figures.get("results", [figures])
                report.setdefault("rest", []).extend(results)
                # over the whole run of rest.py (warm-up and clean-up included): the other
                # processes' CPU per command journaled (each request is one), and the
                # leader's group commits
                batches = commits["sandex_journal_commits_total"] \
                    - commits_before["sandex_journal_commits_total"]
                records = commits["sandex_journal_commands_total"] \
                    - commits_before["sandex_journal_commands_total"]
                spent = commits["sandex_journal_commit_seconds_sum"] \
                    - commits_before["sandex_journal_commit_seconds_sum"]
                side = {name: round(1e6 * (cpu_seconds(pid) - cpu_before[name])
                                    / max(1.0, records), 1)
                        for name, pid in others.items()}
                report.setdefault("others_cpu_us_per_req", {})[mode] = side
                _, stored_bytes = nats.stream_state("SANDEX_JOURNAL")
                report.setdefault("commits", {})[mode] = {
                    "batches_per_s": round(batches / took, 1),
                    "records_per_batch": round(records / max(1.0, batches), 1),
                    "mean_commit_ms": round(1e3 * spent / max(1.0, batches), 2),
                    # the whole stream so far, as JetStream counts it (headers included):
                    # what bench/cluster_floor.py's records should weigh
                    "stream_bytes_per_record": round(
                        stored_bytes / max(1.0, commits["sandex_journal_commands_total"]), 1)}
                print(f"  {mode}: other processes' CPU per request (us): "
                      + ", ".join(f"{name} {us}" for name, us in side.items())
                      + f"; leader's group commits: {report['commits'][mode]}",
                      file=sys.stderr, flush=True)
            report["load_after_rest"] = os.getloadavg()
            if args.staleness > 0:
                for mode in ("saturation", "paced"):
                    stale = staleness(ports, data, "a", "b", [
                        *rest_py, "--mode", mode, "--seconds", str(args.staleness + 1),
                        "--rate", str(args.rate)], args.staleness)
                    report.setdefault("staleness", []).append(stale)
                    print(stale_line(stale), file=sys.stderr, flush=True)
            creds = trader_creds()
            takeovers: list[float] = []
            leader, standby = "a", "b"
            for kill in range(args.kills):
                processes[leader].send_signal(signal.SIGKILL)
                processes[leader].wait(10)
                killed = time.monotonic()
                client = RawClient(ports[standby], creds)
                last = "no answer"
                while True:
                    try:
                        reply = client.post("/orders", {
                            "product_id": "BTC-USD", "side": "buy", "price": "100.00",
                            "size": "0.01", "client_oid": str(uuid.uuid4())})
                        if reply.status == 200:
                            break
                        last = f"{reply.status} {reply.body[:300]!r}"
                    except OSError as exc:
                        last = repr(exc)
                        client = RawClient(ports[standby], creds)
                    if time.monotonic() - killed > 60:
                        log = (data / f"{standby}.log").read_text(errors="replace")[-3000:]
                        raise SystemExit(f"kill {kill + 1}: no takeover in 60 s; last answer "
                                         f"{last}; {standby}'s log:\n{log}")
                    time.sleep(0.01)
                takeovers.append(time.monotonic() - killed)
                print(f"kill {kill + 1}: {standby} answered an order "
                      f"{takeovers[-1]:.2f} s after the kill", file=sys.stderr, flush=True)
                processes[leader] = start_server(
                    node_command(nats, leader, ports[leader], data, scenario), ports[leader],
                    data / f"{leader}-{kill}.log", src)
                leader, standby = standby, leader
            report["failover_s"] = takeovers
            report["load_after"] = os.getloadavg()
        finally:
            for process in processes.values():
                process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            nats.stop()
    times = sorted(report.get("failover_s", []))
    if times:
        report["failover_summary"] = {
            "kills": len(times), "min": round(times[0], 2),
            "median": round(statistics.median(times), 2),
            "p90": round(times[min(len(times) - 1, int(len(times) * 0.9))], 2),
            "max": round(times[-1], 2), "lease_ttl_s": LEASE_TTL_S}
        print(f"failover over {len(times)} kills (lease {LEASE_TTL_S} s): min {times[0]:.2f} s, "
              f"median {statistics.median(times):.2f} s, max {times[-1]:.2f} s",
              file=sys.stderr)
    print(f"load average before {report['load_before']}, after {report.get('load_after')}",
          file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
