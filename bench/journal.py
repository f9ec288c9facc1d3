"""Durable commands per second: the journal alone, then the node's group commit.

    cd /work/main && .venv/bin/python bench/journal.py [--commands N] [--dir DIR]

1. ``SqliteJournal.append`` with batches of 1, 10, 100 and 1,000 records of a real order
   command (one transaction, so one fsync of the WAL, per batch): records/s and the cost
   of one commit (mean, p50, p99, the worst, and how many took over 1 ms: the WAL's
   checkpoints show there), and the committing thread's own CPU per commit (on a loaded
   machine the wall times are mostly the other processes; a checkpoint on the commit path
   shows in the CPU's worst and its sum, copying pages). ``--store-only`` stops after this
   part. To compare with another build, run this file with that build's Python, e.g.
   ``/work/main/.venv/bin/python bench/journal.py --store-only`` (it imports the sandex that
   Python has installed).
2. ``Node.execute`` under group commit: ``C`` concurrent producers (1, 16, 64, 256) each
   placing an order and canceling it, back to back, every reply waiting for its fsync:
   durable commands/s, the mean batch size, and per-command latency (p50/p99). Nothing
   crosses, so the engine does little and the figure is the journal's.

The data dir is a fresh temporary directory (``--dir`` picks its parent: the disk matters).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from kit import filesystem, machine, percentile

from sandex.core import (
    AddProduct,
    CancelOrder,
    Command,
    CreateProfile,
    Deposit,
    OrderType,
    PlaceOrder,
    Rejected,
    Side,
)
from sandex.journal import SqliteJournal
from sandex.node import Ids, Node
from sandex.node.codec import encode
from sandex.node.storage import open_node


def order(node: Node, i: int) -> PlaceOrder:
    return PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id="p",
                      product_id="BTC-USD", side=Side.BUY if i % 2 else Side.SELL,
                      type=OrderType.LIMIT, price=(1_000 if i % 2 else 9_000_000) * 10**8
                      + (i % 1000) * 10**6, size=10**6)


def bench_store(parent: Path, total: int) -> None:
    node = Node(ids=Ids(1))
    record = encode(order(node, 1))
    print(f"journal alone, {len(record)}-byte records:")
    for batch in (1, 10, 100, 1000):
        with tempfile.TemporaryDirectory(dir=parent) as tmp:
            journal = SqliteJournal(Path(tmp) / "journal.sqlite3")
            count = max(batch * 20, min(total, batch * 2000)) if batch > 1 else min(total, 2000)
            rounds = count // batch
            commits: list[float] = []
            cpu: list[float] = []
            clock, cpu_clock = time.perf_counter, time.thread_time
            records = [record] * batch
            started = clock()
            for _ in range(rounds):
                began, began_cpu = clock(), cpu_clock()
                journal.append(records)
                cpu.append(cpu_clock() - began_cpu)
                commits.append(clock() - began)
            elapsed = clock() - started
            journal.close()
        commits.sort()
        cpu.sort()
        print(f"  batch {batch:>5,}: {rounds * batch / elapsed:>10,.0f} records/s, "
              f"{elapsed / rounds * 1e3:6.2f} ms per commit (p50 "
              f"{percentile(commits, 0.50) * 1e3:5.2f}, p99 {percentile(commits, 0.99) * 1e3:5.2f},"
              f" worst {commits[-1] * 1e3:6.2f} ms; {sum(c > 1e-3 for c in commits):,} of "
              f"{rounds:,} over 1 ms)\n{'':14}the committing thread's CPU per commit: p50 "
              f"{percentile(cpu, 0.50) * 1e3:5.2f}, p99 {percentile(cpu, 0.99) * 1e3:5.2f}, worst "
              f"{cpu[-1] * 1e3:6.2f} ms, {sum(cpu) * 1e3:7.1f} ms in all")


def setup(node: Node) -> None:
    node.record(AddProduct(time=node.stamp(), product_id="BTC-USD", base_currency="BTC",
                           quote_currency="USD", base_increment=10**6, quote_increment=10**6,
                           min_market_funds=0))
    node.record(CreateProfile(time=node.stamp(), profile_id="p", user_id="p", name="p",
                              maker_fee_rate=0, taker_fee_rate=0))
    for currency in ("BTC", "USD"):
        node.record(Deposit(time=node.stamp(), profile_id="p", currency=currency,
                            amount=10**40, transfer_id=currency))


async def produce(node: Node, count: int, latencies: list[float], start: int) -> None:
    """Place an order, cancel it, and so on: each command waits for its own fsync. Each is
    stamped in the step that executes it (stamps must reach the node in order)."""
    for i in range(start, start + count, 2):
        placing = order(node, i)
        await timed(node, placing, latencies)
        await timed(node, CancelOrder(time=node.stamp(), profile_id="p",
                                      order_id=placing.order_id), latencies)


async def timed(node: Node, command: Command, latencies: list[float]) -> None:
    began = time.perf_counter()
    events = await node.execute(command)
    latencies.append(time.perf_counter() - began)
    assert type(events[0]) is not Rejected, events


def bench_group_commit(parent: Path, total: int) -> None:
    print("node.execute with group commit (reply after fsync):")
    for producers in (1, 16, 64, 256):
        count = total // 20 if producers == 1 else total
        with tempfile.TemporaryDirectory(dir=parent) as tmp:
            node = open_node(Path(tmp), seed=1)
            setup(node)
            writes = 0
            append = node.journal.append

            def counted(records: list[bytes], append=append) -> int:
                nonlocal writes
                writes += 1
                return append(records)

            node.journal.append = counted  # type: ignore[method-assign]
            latencies: list[float] = []
            each = count // producers

            async def run(node: Node = node, each: int = each,
                          latencies: list[float] = latencies, producers: int = producers
                          ) -> float:
                started = time.perf_counter()
                await asyncio.gather(*(produce(node, each, latencies, p * each)
                                       for p in range(producers)))
                return time.perf_counter() - started

            elapsed = asyncio.run(run())
            asyncio.run(node.close())
        done = each * producers
        latencies.sort()
        print(f"  {producers:>3} producers: {done / elapsed:>8,.0f} durable commands/s, "
              f"{done / writes:6.1f} per fsync, latency p50 "
              f"{percentile(latencies, 0.50) * 1e3:5.2f} ms "
              f"p99 {percentile(latencies, 0.99) * 1e3:5.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=40_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--store-only", action="store_true",
                        help="only the journal alone (part 1)")
    args = parser.parse_args()
    print(f"machine: {machine()}; data in {args.dir} ({filesystem(args.dir)})")
    bench_store(args.dir, args.commands)
    if not args.store_only:
        bench_group_commit(args.dir, args.commands)


if __name__ == "__main__":
    main()
