"""The leader's group commit on the JetStream journal, in process: CPU per command and batch.

    .venv/bin/python bench/cluster_commit.py [--commands N] [--producers P,...] [--src DIR]

Starts a local 3-server JetStream cluster (``sync_interval: always``), opens the journal on
it and a ``Node`` (on uvloop, as ``sandex serve`` runs it), then for each producer count:
``P`` concurrent producers each place an order and cancel it, back to back, every reply
waiting for its batch's acknowledgement (stored on a quorum). Prints durable commands/s,
commands per batch, and this process's CPU (every thread: the event loop, the NATS
client's thread, the writer thread) per command and per batch. Nothing crosses, so the
engine does little: the figures are the journal path's.

CPU per command is the figure that survives a busy machine; for an exact A/B run it under
``valgrind --tool=cachegrind`` (the JetStream servers are child processes, not measured)
with ``--producers 1`` and compare instructions per command, side by side with another
checkout's ``sandex`` (``--src /work/main``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=4_000,
                        help="commands per producer count")
    parser.add_argument("--producers", default="1,16,64")
    parser.add_argument("--src", type=Path, help="import sandex from this checkout")
    return parser.parse_args()


def main() -> None:
    args = parse()
    root = (args.src or Path(__file__).resolve().parent.parent).resolve()
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import uvloop
    from journal import order, setup
    from kit import machine, percentile

    from sandex.cluster.journal import NatsJournal
    from sandex.cluster.local import LocalCluster
    from sandex.core import CancelOrder, Rejected
    from sandex.node import Ids, Node
    from tests.support.cluster_kit import _free_base

    print(f"machine: {machine()}; sandex from {root}")
    with tempfile.TemporaryDirectory(prefix="sandex-bench-commit-") as tmp:
        cluster = LocalCluster(Path(tmp) / "nats", base=_free_base())
        cluster.start()
        try:
            for run, producers in enumerate(int(p) for p in args.producers.split(",")):
                journal = NatsJournal(cluster.url, monitors=cluster.monitors.split(","),
                                      stream=f"BENCH{run}")
                node = Node(ids=Ids(1), journal=journal)
                setup(node)
                latencies: list[float] = []
                each = max(2, args.commands // producers // 2 * 2)

                async def produce(start: int, node: Node = node,
                                  latencies: list[float] = latencies, each: int = each) -> None:
                    for i in range(start, start + each, 2):
                        placing = order(node, i)
                        for command in (placing, None):
                            began = time.perf_counter()
                            events = await node.execute(command if command is not None else
                                                        CancelOrder(time=node.stamp(),
                                                                    profile_id="p",
                                                                    order_id=placing.order_id))
                            latencies.append(time.perf_counter() - began)
                            assert type(events[0]) is not Rejected, events

                async def drive(producers: int = producers, node: Node = node,
                                each: int = each) -> tuple[float, float, int]:
                    batches = node.batches
                    wall, cpu = time.perf_counter(), time.process_time()
                    await asyncio.gather(*(produce(p * each) for p in range(producers)))
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    await node.close()
                    return wall, cpu, node.batches - batches

                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    wall, cpu, batches = runner.run(drive())
                done = each * producers
                latencies.sort()
                print(f"  {producers:>3} producers: {done / wall:>7,.0f} durable commands/s, "
                      f"{done / batches:5.1f} per batch; CPU {1e6 * cpu / done:6.1f} us per "
                      f"command, {1e6 * cpu / batches:7.1f} us per batch; latency p50 "
                      f"{percentile(latencies, 0.5) * 1e3:.2f} ms p99 "
                      f"{percentile(latencies, 0.99) * 1e3:.2f} ms", flush=True)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
