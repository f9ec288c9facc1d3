"""Start-up time of a data dir: open the journal, load the newest snapshot, replay the tail.

    .venv/bin/python bench/startup.py [--commands N] [--dir DIR]

Builds a data dir of ``N`` commands of the engine bench's stream (setup included), writes a
snapshot at the end and a tail of 1,000 more commands, then times, each the best of three:
``open_node`` (what ``sandex serve`` does before listening), the journal's open alone, and a
full replay without the snapshot. Uses only ``open_node``/``snapshot_now``/``SqliteJournal``,
so the same script measures an older checkout (``PYTHONPATH=<checkout>``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams import generate

from sandex.core import Duplicate, Rejected
from sandex.journal import SqliteJournal
from sandex.node.codec import encode
from sandex.node.storage import JOURNAL_FILE, SNAPSHOT_DIR, open_node, snapshot_now


def build(data_dir: Path, total: int) -> int:
    stream = generate(total, seed=1)
    commands = stream.setup + stream.commands
    node = open_node(data_dir)
    batch: list[bytes] = []
    for i, command in enumerate(commands):
        events = node.apply(command)
        if not events or type(events[0]) not in (Rejected, Duplicate):
            batch.append(encode(command))
        if len(batch) == 1000 or i == len(commands) - 1001:
            node.journal.append(batch)
            batch = []
        if i == len(commands) - 1001:
            node.position = node.durable_position = node.journal.last_position
            snapshot_now(node, data_dir)
    node.journal.append(batch)
    end = node.journal.last_position
    node.journal.close()
    return end


def best(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(dir=args.dir, prefix="sandex-startup-"))
    try:
        end = build(data_dir, args.commands)
        size = (data_dir / JOURNAL_FILE).stat().st_size / 1e6
        snap = max((data_dir / SNAPSHOT_DIR).iterdir())
        print(f"journal: {end} records, {size:.1f} MB; snapshot {snap.name}, "
              f"{snap.stat().st_size / 1e6:.1f} MB")

        def start() -> None:
            node = open_node(data_dir)
            assert node.position == end
            node.journal.close()

        def journal_only() -> None:
            SqliteJournal(data_dir / JOURNAL_FILE).close()

        print(f"open_node (snapshot + tail): {best(start):.2f} s")
        print(f"journal open alone:          {best(journal_only):.2f} s")
        shutil.rmtree(data_dir / SNAPSHOT_DIR)
        print(f"open_node (full replay):     {best(start, 1):.2f} s")
    finally:
        shutil.rmtree(data_dir)


if __name__ == "__main__":
    main()
