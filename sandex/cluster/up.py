"""``make cluster-up``: a local cluster to try, on 127.0.0.1 (``docs/cluster.md``).

Three JetStream servers (clients on 4221-4223, monitoring on 4421-4423) and two sandex nodes
on the default scenario: ``a`` on port 8000 (it starts first, so it leads) and ``b`` on 8001
(a hot standby serving reads and the feed), their data dirs and the servers' stores under
``DIR``. Ctrl-C stops them all. ``python -m sandex.cluster.up DIR [--base PORT]``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sandex.cluster.local import LocalCluster, wait_for_stop_signal


def _wait_http(url: str, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--base", type=int, default=4220, help="JetStream ports base+1..3")
    parser.add_argument("--port", type=int, default=8000, help="node a; node b on port + 1")
    args = parser.parse_args()
    directory = args.directory.resolve()
    nats = LocalCluster(directory / "nats", args.base)
    nats.start()
    print(f"JetStream: --journal {nats.url} --journal-monitor {nats.monitors}", flush=True)
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        for offset, name in enumerate(("a", "b")):
            port = args.port + offset
            command = [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port),
                       "--data-dir", str(directory / name), "--journal", nats.url,
                       "--journal-monitor", nats.monitors, "--node-name", name,
                       "--log-level", "warning"]
            if offset:
                command.append("--no-fix")  # the leader's FIX ports are taken
            nodes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL if offset
                                          else None))
            if not _wait_http(f"http://127.0.0.1:{port}/time"):
                print(f"node {name} did not start", file=sys.stderr)
                return 1
            print(f"node {name}: http://127.0.0.1:{port} "
                  f"({'leader' if offset == 0 else 'standby'}; data {directory / name})",
                  flush=True)
        print("Ctrl-C stops the cluster. Try: kill -9 the leader, and watch the standby "
              "take over (GET /admin/state says who leads).", flush=True)
        wait_for_stop_signal()
    finally:
        for process in nodes:
            process.send_signal(signal.SIGTERM)
        for process in nodes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        nats.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
