"""Replay at full speed: source events per second, and where the time goes.

Generates a seeded Coinbase ``full`` recording (orders resting, canceled, shrunk and taken, on
two products), then replays it at ``speed = "max"`` four ways, side by side in one run:

* read: the reader alone (``sandex.replay.sources``), gzip included;
* map: reader + mapping onto the venue's products (``sandex.replay.mapping``);
* engine: a venue in memory (no journal): reader, mapping, the core, views and listeners;
* journal: the same venue on a data dir: every batch journaled and fsynced before the next;
* engine / journal, reader process: the same two with the reader and the mapping in a reader
  process of their own (``sandex.replay.stream.ProcessStream``, what a venue does for a
  recording of 8 MiB or more), so they run on the other core; "venue CPU" is the replaying
  process's own CPU time per event, without the reader's.

The engine's own cost per event is ``engine - map``, the journal's ``journal - engine``.
``--rss`` replays a file of ``--mb`` megabytes instead (written once, slow to make) and
prints the process's peak RSS: memory must stay flat however long the recording.

    .venv/bin/python bench/replay.py [--events 300000] [--rounds 3]
    .venv/bin/python bench/replay.py --rss --mb 1024
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sandex.replay.stream as stream_module  # noqa: E402
from sandex.replay import replay_of  # noqa: E402
from sandex.replay.mapping import Mapper  # noqa: E402
from sandex.replay.sources import open_source  # noqa: E402
from sandex.server import build  # noqa: E402
from sandex.timefmt import iso  # noqa: E402
from tests.support.recordings_kit import full_messages  # noqa: E402

SCENARIO = ROOT / "tests" / "scenario.toml"  # BTC-USD and ETH-USD, among others


def write(path: Path, events: int, bounded: bool = False) -> int:
    """A recording of about ``events`` events; ``bounded``: its book never passes a few
    hundred orders (a long recording whose memory must stay flat)."""
    lines = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        for message in (bounded_messages(events) if bounded else full_messages(events)):
            out.write(json.dumps(message) + "\n")
            lines += 1
    return lines


def bounded_messages(events: int, depth: int = 200) -> Iterator[dict[str, object]]:
    """Coinbase ``full`` messages on BTC-USD: a maker rests at a random price around 100 and,
    past ``depth`` resting orders, the oldest is canceled; every 8th event a taker buys or
    sells the best order whole."""
    rng = random.Random(3)
    resting: deque[tuple[str, str, str, str]] = deque()  # id, side, price, size
    sequence, made, now = 1, 0, 1_700_000_000_000_000

    def message(kind: str, **fields: object) -> dict[str, object]:
        nonlocal sequence
        sequence += 1
        return {"type": kind, "product_id": "BTC-USD", "sequence": sequence,
                "time": iso(now), **fields}

    while made < events:
        now += rng.randint(1, 1000)
        side = rng.choice(("buy", "sell"))
        order = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if made % 8 == 7 and resting:
            maker = resting.popleft()
            yield message("received", order_id=order, order_type="market", side=(
                "sell" if maker[1] == "buy" else "buy"), size=maker[3])
            yield message("match", trade_id=made, maker_order_id=maker[0],
                          taker_order_id=order, side=maker[1], price=maker[2], size=maker[3])
            yield message("done", order_id=maker[0], reason="filled", side=maker[1],
                          price=maker[2], remaining_size="0")
            yield message("done", order_id=order, reason="filled", side=(
                "sell" if maker[1] == "buy" else "buy"), remaining_size="0")
            made += 4
            continue
        offset = rng.randint(0, 99) / 100
        price = f"{99 - offset if side == 'buy' else 101 + offset:.2f}"
        size = f"{rng.randint(1, 300) / 100:.8f}"
        yield message("received", order_id=order, order_type="limit", side=side, price=price,
                      size=size)
        yield message("open", order_id=order, side=side, price=price, remaining_size=size)
        resting.append((order, side, price, size))
        made += 2
        if len(resting) > depth:
            old = resting.popleft()
            yield message("done", order_id=old[0], reason="canceled", side=old[1],
                          price=old[2], remaining_size=old[3])
            made += 1


def read(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    with open_source([path], "coinbase-full") as source:
        count = sum(1 for _ in source)
    return count, time.perf_counter() - started


def mapped(path: Path) -> tuple[int, float]:
    venue = build(SCENARIO, demo=False)
    mapper = Mapper(venue.node.engine.products, None)
    started = time.perf_counter()
    count = 0
    with open_source([path], "coinbase-full") as source:
        for event in source:
            mapper.actions(event)
            count += 1
    elapsed = time.perf_counter() - started
    venue.node.journal.close()
    return count, elapsed


def replayed(path: Path, data_dir: Path | None, process: bool | None = None
             ) -> tuple[int, float, int, float]:
    """Replay ``path`` at full speed: events, seconds, journal position, CPU seconds of this
    process; ``process``: read in a reader process (True), here (False), by size (None)."""
    saved = stream_module.PROCESS_MIN_BYTES
    if process is not None:
        stream_module.PROCESS_MIN_BYTES = 0 if process else 1 << 62
    venue = build(SCENARIO, demo=False, data_dir=data_dir)
    node = venue.node

    async def main() -> tuple[int, float, float]:
        controller = replay_of(node)
        await controller.load({"source": str(path), "format": "coinbase-full", "speed": "max"})
        started, cpu = time.perf_counter(), time.process_time()
        controller.start()
        status = await controller.wait(3600)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await node.close()
        assert status["state"] == "finished", status
        return int(status["events"]), elapsed, cpu

    try:
        count, elapsed, cpu = asyncio.run(main())
    finally:
        stream_module.PROCESS_MIN_BYTES = saved
    return count, elapsed, node.position, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="memory on a large file")
    parser.add_argument("--mb", type=int, default=1024, help="its size (with --rss)")
    parser.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)  # the replaying child
    args = parser.parse_args()
    if args.rss_of is not None:  # replay in a process of its own: its peak RSS is the replay's
        count, elapsed, batches, _ = replayed(args.rss_of, args.rss_of.parent / "data")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"replayed {count:,} events in {elapsed:.1f} s ({count / elapsed:,.0f}/s), "
              f"journal at position {batches:,}; peak RSS {peak:.0f} MB")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "full.jsonl.gz"
        if args.rss:
            events = args.events
            while True:  # about 1 MB of gzip per 25,000 events here
                write(path, events, bounded=True)
                if path.stat().st_size >= args.mb * 2**20:
                    break
                events = int(events * args.mb * 2**20 / max(path.stat().st_size, 1) * 1.05)
            print(f"{path.stat().st_size / 2**20:.0f} MB gzip, {events:,} events", flush=True)
            subprocess.run([sys.executable, __file__, "--rss-of", str(path)], check=True)
            return
        write(path, args.events)
        names = ("read", "map", "engine", "journal", "engine, reader process",
                 "journal, reader process")
        figures: dict[str, list[float]] = {name: [] for name in names}
        venue_cpu: dict[str, list[float]] = {name: [] for name in names[2:]}
        count = 0
        for round_ in range(args.rounds):
            count, elapsed = read(path)
            figures["read"].append(elapsed / count)
            count, elapsed = mapped(path)
            figures["map"].append(elapsed / count)
            for name, data, process in (
                    ("engine", None, False), ("journal", f"data{round_}", False),
                    ("engine, reader process", None, True),
                    ("journal, reader process", f"data{round_}p", True)):
                count, elapsed, _, cpu = replayed(
                    path, None if data is None else Path(tmp) / data, process)
                figures[name].append(elapsed / count)
                venue_cpu[name].append(cpu / count)
        best = {name: min(values) * 1e6 for name, values in figures.items()}
        print(f"{count:,} source events (coinbase-full, gzip, {path.stat().st_size / 2**20:.1f}"
              f" MiB), best of {args.rounds}:")
        for name, micros in best.items():
            spread = statistics.median(figures[name]) * 1e6
            cpu = (f", venue CPU {min(venue_cpu[name]) * 1e6:.2f} µs/event"
                   if name in venue_cpu else "")
            print(f"  {name:24} {1e6 / micros:>9,.0f} events/s  {micros:6.2f} µs/event "
                  f"(median {spread:.2f}){cpu}")
        print(f"  per event: reader {best['read']:.2f} µs, mapping "
              f"{best['map'] - best['read']:.2f} µs, engine {best['engine'] - best['map']:.2f}"
              f" µs, journal {best['journal'] - best['engine']:.2f} µs")


if __name__ == "__main__":
    main()
