"""How fast the recording readers turn files into source events (``sandex.replay.sources``).

Generates, in a temporary directory, a recording per format (``--events`` events, a few
hundred thousand by default) plain, gzip and zstd, then reads each ``--rounds`` times and
prints the best events per second, on process CPU time (a shared machine's other load
changes wall time, hardly CPU time) and on wall time, and the JSON decode alone for the
Coinbase files (msgspec, the floor under the reader). Run: ``python bench/replay_read.py``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import kit  # puts the repository first on sys.path

from sandex.replay.sources import full as full_reader
from sandex.replay.sources import open_source
from tests.support import recordings_kit as recordings


def read_rate(paths: list[Path], format: str) -> tuple[int, float, float]:
    """(events, CPU seconds, wall seconds) of one full read."""
    cpu, wall = time.process_time(), time.perf_counter()
    with open_source(paths, format) as source:
        count = sum(1 for _ in source)
    return count, time.process_time() - cpu, time.perf_counter() - wall


def best(rounds: int, run: Callable[[], tuple[int, float, float]]) -> tuple[int, float, float]:
    results = [run() for _ in range(rounds)]
    return results[0][0], min(r[1] for r in results), min(r[2] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(kit.machine())
    print(f"{'format':<40} {'events':>8} {'MB':>6} {'ev/s CPU':>10} {'ev/s wall':>10}")
    with tempfile.TemporaryDirectory() as where:
        tmp = Path(where)
        full_lines = list(recordings.framed(recordings.full_messages(args.events)))
        cases: list[tuple[str, str, list[Path]]] = []
        for compression in (None, "gzip", "zstd"):
            suffix = {None: "", "gzip": ".gz", "zstd": ".zst"}[compression]
            label = compression or "plain"
            cases.append((f"coinbase-full {label}", "coinbase-full", [recordings.write(
                tmp / f"full.jsonl{suffix}", full_lines, compression)]))
            if compression is None:
                cases.append(("coinbase-full plain, cryptofeed prefix", "coinbase-full", [
                    recordings.write(tmp / "full-cf.jsonl", recordings.framed(
                        recordings.full_messages(args.events), "cryptofeed"))]))
            cases.append((f"coinbase-level2 {label}", "coinbase-level2", [recordings.write(
                tmp / f"l2.jsonl{suffix}",
                recordings.framed(recordings.level2_messages(args.events)), compression)]))
            cases.append((f"tardis book+trades {label}", "tardis", [
                recordings.write(tmp / f"book.csv{suffix}",
                                 recordings.tardis_book_rows(args.events * 9 // 10),
                                 compression),
                recordings.write(tmp / f"trades.csv{suffix}",
                                 recordings.tardis_trade_rows(args.events // 10),
                                 compression)]))
        for label, format, paths in cases:
            count, cpu, wall = best(args.rounds, lambda p=paths, f=format: read_rate(p, f))
            size = sum(p.stat().st_size for p in paths) / 1e6
            print(f"{label:<40} {count:>8} {size:>6.1f} {count / cpu:>10,.0f} "
                  f"{count / wall:>10,.0f}")
        lines = [line.encode() for line in full_lines]
        decode = full_reader._decoder.decode
        cpu = time.process_time()
        for line in lines:
            decode(line)
        print(f"{'(msgspec decode alone, full lines)':<40} {len(lines):>8} {'':>6} "
              f"{len(lines) / (time.process_time() - cpu):>10,.0f}")


if __name__ == "__main__":
    main()
