"""Recovery: start-up on a data dir with no usable snapshot, a whole journal to replay.

    .venv/bin/python bench/recovery.py [--commands N] [--dir DIR] [--keep PATH]
        [--baseline DIR] [--json]

Builds (untimed) a data dir whose journal holds the engine bench's seeded stream
(``bench/streams.py``: setup, then ``N`` trading commands; the cancels the engine refuses are
not journaled, as a live node never journals them), with no snapshot. Then times, each the
best of ``--repeat``:

* ``open_node``: what ``sandex serve`` does before listening (journal open and check,
  decode, apply to the engine and the read models): **the recovery rate**, records/s;
* its parts on the same file: the journal's open as ``open_node`` does it (gaps, and the
  last record's checksum), reading every record in chunks (SQLite + checksums), decoding the
  chunks, and applying the decoded commands to a fresh ``Node`` and to a bare ``Engine``.

``--baseline DIR`` times ``open_node`` of another checkout (its ``.venv``, or this Python)
on the same data dir in the same run, side by side; with ``--rotate PAIRS``, only that, in
fresh processes for both, alternating which goes first (an in-process first run differs
from a child's by up to ±8 %), with the main thread's CPU beside the process's. ``--keep
PATH`` keeps (or reuses) the data dir. Uses only ``open_node``, ``SqliteJournal`` and
``codec``, so any checkout can be timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kit import machine

from sandex import native
from sandex.core import Duplicate, Engine, Rejected
from sandex.journal import SqliteJournal
from sandex.node.codec import decode_many, encode
from sandex.node.node import Node
from sandex.node.storage import JOURNAL_FILE, open_node

HERE = Path(__file__).resolve()


def build(data_dir: Path, commands: int) -> int:
    """A data dir whose journal holds the bench stream's accepted commands; no snapshot."""
    from streams import generate

    stream = generate(commands, seed=1)
    node = open_node(data_dir)
    batch: list[bytes] = []
    for command in stream.setup + stream.commands:
        events = node.apply(command)
        if not events or type(events[0]) not in (Rejected, Duplicate):
            batch.append(encode(command))
        if len(batch) == 10_000:
            node.journal.append(batch)
            batch = []
    node.journal.append(batch)
    end = node.journal.last_position
    node.journal.close()
    return end


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """The best wall-clock, CPU and calling thread's CPU seconds of ``repeat`` runs of ``fn``
    (on a shared machine the wall clock also counts the time spent waiting for a core; the
    thread's CPU is the critical path when another thread's work, the journal read ahead,
    has a core of its own)."""
    best, best_cpu, best_thread = float("inf"), float("inf"), float("inf")
    for _ in range(repeat):
        gc.collect()
        started, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
        fn()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_thread = min(best_thread, time.thread_time() - thread)
    return best, best_cpu, best_thread


def measure_open(data_dir: Path, repeat: int) -> dict[str, float]:
    """``open_node`` on ``data_dir`` (no snapshot): seconds, best of ``repeat``."""
    end = 0

    def start() -> None:
        nonlocal end
        node = open_node(data_dir)
        end = node.position
        node.journal.close()

    seconds, cpu, thread = timed(start, repeat)
    return {"records": end, "seconds": seconds, "per_s": end / seconds, "cpu_seconds": cpu,
            "cpu_per_s": end / cpu, "thread_cpu_seconds": thread}


def open_child(checkout: Path, data_dir: Path, repeat: int) -> dict[str, float]:
    """``measure_open`` in a fresh process of ``checkout`` (its ``.venv``, or this Python),
    by ``checkout``'s own copy of this script where it has one: ``kit`` puts the script's
    repository first on ``sys.path``, so this copy would time this checkout's ``sandex``
    whatever ``PYTHONPATH`` says (as ``--baseline`` did before: it timed this checkout
    twice)."""
    python = checkout / ".venv" / "bin" / "python"
    script = checkout / "bench" / HERE.name
    done = subprocess.run(
        [str(python if python.exists() else sys.executable),
         str(script if script.exists() else HERE),
         "--open-only", str(data_dir), "--repeat", str(repeat)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(checkout)}, cwd=checkout)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def rotate(data_dir: Path, baseline: Path, pairs: int) -> None:
    """``pairs`` pairs of fresh ``open_node`` children, this checkout and ``baseline``, the
    first of each pair alternating: wall, CPU and the main thread's CPU of each, and the
    medians."""
    this = HERE.parent.parent
    runs: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
    for pair in range(pairs):
        order = [("this", this), ("baseline", baseline)]
        for name, checkout in order if pair % 2 == 0 else order[::-1]:
            figures = open_child(checkout, data_dir, 1)
            runs[name].append(figures)
            print(f"pair {pair + 1} {name:8s} wall {figures['seconds']:.3f} s, CPU "
                  f"{figures['cpu_seconds']:.3f} s, main thread "
                  f"{figures.get('thread_cpu_seconds', figures['cpu_seconds']):.3f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    for name, found in runs.items():
        medians = [statistics.median(f.get(key, f["cpu_seconds"]) for f in found)
                   for key in ("seconds", "cpu_seconds", "thread_cpu_seconds")]
        print(f"median {name:8s} wall {medians[0]:.3f} s, CPU {medians[1]:.3f} s, main thread "
              f"{medians[2]:.3f} s: {found[0]['records'] / medians[0]:,.0f} records/s")


def measure_parts(data_dir: Path, repeat: int) -> dict[str, tuple[float, float]]:
    path = data_dir / JOURNAL_FILE
    journal = SqliteJournal(path)
    try:
        chunks = list(journal.read_chunks())
    finally:
        journal.close()
    commands = [command for _, bodies in chunks for command in decode_many(bodies)]

    def open_only() -> None:  # as open_node opens it: the last record checked, the rest next
        SqliteJournal(path, deferred=True).close()

    def read() -> None:
        j = SqliteJournal(path, check_after=1 << 62)
        try:
            for _ in j.read_chunks():
                pass
        finally:
            j.close()

    def decode_only() -> None:
        for _, bodies in chunks:
            decode_many(bodies)

    def node_apply() -> None:
        node = Node()
        apply = node.apply
        for command in commands:
            apply(command)

    def engine_apply() -> None:
        apply = Engine().apply
        for command in commands:
            apply(command)

    return {name: timed(fn, repeat)[:2] for name, fn in (
        ("journal_open", open_only), ("read", read), ("decode", decode_only),
        ("node_apply", node_apply), ("engine_apply", engine_apply))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", type=Path, help="data dir to keep (reused if it exists)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time side by side")
    parser.add_argument("--no-parts", action="store_true", help="time open_node only")
    parser.add_argument("--rotate", type=int, default=0, metavar="PAIRS",
                        help="with --baseline: PAIRS pairs of fresh open_node children, "
                        "alternating which goes first (no in-process position effect)")
    parser.add_argument("--open-only", type=Path, help=argparse.SUPPRESS)  # --baseline's child
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.open_only is not None:
        print(json.dumps(measure_open(args.open_only, args.repeat)))
        return
    print(f"machine: {machine()} | load {os.getloadavg()[0]:.1f}")
    print(f"core: {native.describe()}")
    data_dir = args.keep or Path(tempfile.mkdtemp(dir=args.dir, prefix="sandex-recovery-"))
    try:
        if not (data_dir / JOURNAL_FILE).exists():
            started = time.perf_counter()
            end = build(data_dir, args.commands)
            print(f"built {data_dir}: {end:,} records in {time.perf_counter() - started:.1f} s "
                  "(untimed)")
        size = (data_dir / JOURNAL_FILE).stat().st_size / 1e6
        if args.rotate and args.baseline is not None:
            rotate(data_dir, args.baseline, args.rotate)
            return
        figures = measure_open(data_dir, args.repeat)
        n = figures["records"]
        print(f"journal: {n:,} records, {size:.0f} MB, no snapshot")
        print(f"open_node (full replay): {figures['seconds']:.2f} s = "
              f"{figures['per_s']:,.0f} records/s (best of {args.repeat}); CPU "
              f"{figures['cpu_seconds']:.2f} s = {figures['cpu_per_s']:,.0f} records/s")
        result: dict[str, object] = {"records": n, "open": figures}
        if args.baseline is not None:
            base = open_child(args.baseline, data_dir, args.repeat)
            print(f"open_node, baseline {args.baseline}: {base['seconds']:.2f} s = "
                  f"{base['per_s']:,.0f} records/s; CPU {base['cpu_seconds']:.2f} s = "
                  f"{base['cpu_per_s']:,.0f} records/s: this is "
                  f"{base['seconds'] / figures['seconds']:.2f}x wall, "
                  f"{base['cpu_seconds'] / figures['cpu_seconds']:.2f}x CPU")
            result["baseline"] = base
        if not args.no_parts:
            parts = measure_parts(data_dir, args.repeat)
            print("  parts (best wall, CPU):")
            for name, (seconds, cpu) in parts.items():
                print(f"  {name:13s} {seconds:6.2f} s {cpu:6.2f} s CPU  "
                      f"{cpu / n * 1e6:6.2f} µs of CPU a record")
            result["parts"] = parts
        if args.json:
            print(json.dumps(result))
    finally:
        if args.keep is None:
            shutil.rmtree(data_dir)


if __name__ == "__main__":
    main()
