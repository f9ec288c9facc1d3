"""A virtual-clock advance with the demo on, through the admin endpoint of a real server.

    .venv/bin/python bench/advance.py [--by 1d] [--dir DIR]

Runs ``sandex serve --seed 1`` with the embedded default scenario (its demo on) plus a virtual
clock frozen at 2024-01-01, once on a fresh data dir and once ``--ephemeral``, and times one
``POST /admin/clock.advance {"by": "1d"}``: every demo tick and GTT expiry of the day fires at
its own time, then the reply comes once all is durable. Prints simulated seconds per real
second and commands per second (journal records the advance added: the frozen start makes
both runs apply the same commands, so the data dir's count holds for the in-memory run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import kit

from sandex.admin.clock import parse_duration
from sandex.node.storage import JOURNAL_FILE
from sandex.server import default_scenario

CLOCK = '\n[clock]\nmode = "virtual"\nstart = "2024-01-01T00:00:00Z"\nrate = 0\n'


def post(port: int, token: str, command: str, **args: Any) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    conn.request("POST", f"/admin/{command}", json.dumps(args),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    body = json.loads(reply.read())
    if reply.status != 200:
        raise SystemExit(f"{command}: {reply.status} {body}")
    return body


def records(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / JOURNAL_FILE}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])


def serve(where: list[str], scenario: Path, log: Path) -> tuple[subprocess.Popen[bytes], int,
                                                               str | None]:
    """The server, its port, and its admin token when the banner prints it (--ephemeral)."""
    port = kit.free_port()
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--seed", "1",
             "--scenario", str(scenario), *where],
            cwd=kit.ROOT, stdout=subprocess.PIPE, stderr=err)
    kit.wait_ready(port, process)
    token = None
    if "--ephemeral" in where:
        assert process.stdout is not None
        for line in process.stdout:
            if b"--token " in line:
                token = line.decode().split("--token ", 1)[1].split()[0]
                break
    return process, port, token


def advance(label: str, where: list[str], scenario: Path, by: str, log: Path,
            data_dir: Path | None, commands: int | None) -> int | None:
    process, port, token = serve(where, scenario, log)
    try:
        if data_dir is not None:
            token = (data_dir / "admin.token").read_text().strip()
            before = records(data_dir)
        assert token is not None
        cpu = kit.cpu_seconds(process.pid)
        started = time.perf_counter()
        reply = post(port, token, "clock.advance", by=by)
        real = time.perf_counter() - started
        used = (kit.cpu_seconds(process.pid) or 0.0) - (cpu or 0.0)
        if data_dir is not None:
            commands = records(data_dir) - before
    finally:
        process.terminate()
        process.wait(30)
    simulated = parse_duration(by) / 1e6
    rate = f", {commands / real:,.0f} commands/s ({commands:,} commands)" if commands else ""
    print(f"{label:10} advance {by}: {real:.2f} s real, server CPU {used:.2f} s: "
          f"{simulated / real:,.0f}x real time{rate}; fired {reply['fired']}")
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--by", default="1d", help="how far to advance (default: 1d)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    print(kit.machine())
    print(f"sandex {kit.source_digest()}; {kit.versions()}")
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="sandex-advance-"))
    try:
        scenario = work / "scenario.toml"
        scenario.write_text(default_scenario().read_text() + CLOCK)
        data_dir = work / "data"
        print(f"data dir on {kit.filesystem(work)}")
        commands = advance("data dir", ["--data-dir", str(data_dir)], scenario, args.by,
                           work / "serve.log", data_dir, None)
        advance("ephemeral", ["--ephemeral"], scenario, args.by, work / "serve-mem.log", None,
                commands)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
