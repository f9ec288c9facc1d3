"""What the requests waiting for a group commit hold, in process: ``tracemalloc`` at one
commit's sync against the same connections idle.

    .venv/bin/python bench/inflight.py [--src DIR] [--connections C] [--top K]

``stack.py``'s clients (signed ``POST /orders`` and ``DELETE``, 64 connections), kept open
between runs: a run to warm up, a snapshot with every connection idle, then a run in which,
at its 10th sync (``WalSync.later``: the batch applied, its replies waiting), a second
snapshot. Prints the bytes and blocks held beyond idle per waiting request, by the line
that allocated them (interpreter free lists count as held: tuples, small lists).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402

AT_SYNC = 10  # of the measured run (8 rounds: ~17 syncs at 64 connections)


async def clients(app: Any, connections: int) -> list[stack.Connection]:
    """``stack.drive``'s clients, left open (``go`` runs them)."""
    return stack.connections_to(app, connections, 0)


async def go(open_clients: list[stack.Connection], rounds: int) -> None:
    """Each client's ``rounds`` place-and-cancel, on its open connection."""
    loop = asyncio.get_running_loop()
    for client in open_clients:
        client.rounds = rounds
        client.done = loop.create_future()
        client.post()
    await asyncio.gather(*(c.done for c in open_clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    stack.setup_path(args.src)
    import uvloop
    from kit import SCENARIO

    from sandex import server
    data_dir = tempfile.TemporaryDirectory(prefix="sandex-inflight-")
    shots: dict[str, Any] = {}
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        venue = server.build(SCENARIO, rate_limits=False, demo=False,
                             data_dir=Path(data_dir.name) / "d")
        server.settle_heap()
        runner.run(stack._start(venue.node.scheduler.run()))
        node = venue.node
        wal = node.journal._wal  # type: ignore[attr-defined]  # SQLite's: the bench's own
        real = wal.later
        syncs = -1_000_000  # counted in the measured run only

        def later() -> asyncio.Future[None]:
            nonlocal syncs
            syncs += 1
            if syncs == AT_SYNC:
                shots["busy"] = tracemalloc.take_snapshot()
                shots["waiting"] = len(node._writing or ())
            return real()

        wal.later = later
        open_clients = runner.run(clients(venue.app, args.connections))
        runner.run(go(open_clients, 2))
        tracemalloc.start(1)
        runner.run(go(open_clients, 2))
        runner.run(asyncio.sleep(0.01))
        shots["idle"] = tracemalloc.take_snapshot()
        syncs = 0
        runner.run(go(open_clients, 8))
        tracemalloc.stop()
        for task in stack._TASKS:
            task.cancel()
        runner.run(node.close())
    data_dir.cleanup()
    waiting = shots["waiting"] or 1
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]  # the first snapshot's objects
    stats = shots["busy"].filter_traces(own).compare_to(shots["idle"].filter_traces(own),
                                                         "lineno")
    size = sum(s.size_diff for s in stats)
    count = sum(s.count_diff for s in stats)
    print(f"{waiting} requests waiting for the commit; held beyond idle {size:,} bytes in "
          f"{count:,} blocks: {size / waiting:,.0f} bytes, {count / waiting:.1f} blocks a "
          "request")
    for stat in stats[:args.top]:
        print(f"  {stat.size_diff / waiting:8,.0f} B {stat.count_diff / waiting:6.2f} blocks  "
              f"{stat.traceback}")


if __name__ == "__main__":
    main()
