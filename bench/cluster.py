"""Durable signed order entry on the JetStream journal, and failover times.

    .venv/bin/python bench/cluster.py [--seconds S] [--kills N] [--rate R] [--json]

Starts a local 3-server JetStream cluster (``sandex.cluster.local``: 3 replicas,
``sync_interval: always``, on this machine), a sandex leader and a hot standby with
``--journal nats://...``, then:

1. runs ``bench/rest.py --url`` against the leader (64 closed-loop signed clients placing and
   canceling, then ``--rate`` req/s paced over 16 connections): every answer after its batch
   was acknowledged by a quorum of JetStream servers, each having fsynced it. The standby
   tails the stream meanwhile, as in production;
2. ``kill -9`` of the leader ``--kills`` times: the time from the kill until the standby
   answers a signed order (lease expiry + catch-up + ``Takeover`` append), then the killed
   node is started again and waits as the standby for the next round.

The machine is shared: its load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit import ROOT, SCENARIO, free_port, machine, start_server

from sandex.cluster.local import LocalCluster
from tests.support.cluster_kit import _free_base
from tests.support.rest_kit import RawClient

LEASE_TTL_S = 3.0  # the default of sandex serve


def node_command(cluster: LocalCluster, name: str, port: int, data: Path) -> list[str]:
    return [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--scenario",
            str(SCENARIO), "--no-rate-limit", "--log-level", "warning", "--no-fix",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="sandex-bench-cluster-") as tmp:
        data = Path(tmp)
        nats = LocalCluster(data / "nats", base=_free_base())
        nats.start()
        ports = {"a": free_port(), "b": free_port()}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in ("a", "b"):
                processes[name] = start_server(node_command(nats, name, ports[name], data),
                                               ports[name], data / f"{name}.log")
                if name == "a":
                    while not leads(ports["a"], data / "a"):
                        time.sleep(0.05)
            rest = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "rest.py"), "--url",
                 f"http://127.0.0.1:{ports['a']}", "--server-pid", str(processes["a"].pid),
                 "--seconds", str(args.seconds), "--rate", str(args.rate), "--json"],
                capture_output=True, text=True, check=False)
            print(rest.stderr, file=sys.stderr, end="")
            figures = json.loads(rest.stdout.strip().splitlines()[-1]) if rest.returncode == 0 \
                and rest.stdout.strip() else {"error": rest.stderr[-2000:]}
            report["rest"] = figures.get("results", figures)
            report["load_after_rest"] = os.getloadavg()
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
                    node_command(nats, leader, ports[leader], data), ports[leader],
                    data / f"{leader}-{kill}.log")
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
