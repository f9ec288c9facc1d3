"""A replay's decode alone, in CPU time: ``applying.decode_lines`` over a journal's chunks.

    .venv/bin/python bench/recovery_decode.py --keep DIR [--baseline DIR] [--rounds N]

Reads the journal of a data dir (``bench/recovery_count.py``'s or ``bench/recovery.py``'s,
``--keep``) in chunks of the replay's size, scans each as the reader's thread does
(``applying.scan_lines``), then times (process CPU, best of 7) decoding every chunk from its
scan with the last chunk's commands as ``spare``, as a replay does: nanoseconds a record.
``--baseline DIR``: another checkout timed the same way, alternated with this one ``--rounds``
times, each in its own process. The decode is a small share of a replay's wall (its dict
probes miss the caches; the decode mostly does not), so a change to it that the whole
replay's pairs cannot resolve at a few per cent shows here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

TIMED = """
import sqlite3, sys, time
from sandex.node import applying
from sandex.node.storage import CHUNK, JOURNAL_FILE
db = sqlite3.connect(sys.argv[1] + "/" + JOURNAL_FILE)
bodies = [row[0] for row in db.execute("SELECT body FROM journal ORDER BY position")]
db.close()
chunks = []
for at in range(0, len(bodies) - CHUNK + 1, CHUNK):
    lines = b"\\n".join(bodies[at:at + CHUNK])
    chunks.append((lines, applying.scan_lines(lines)))
spare = None
best = float("inf")
for _ in range(7):
    started = time.process_time()
    for _ in range(5):
        for lines, scan in chunks:
            spare = applying.decode_lines(lines, scan, spare)
    best = min(best, time.process_time() - started)
print(best / (5 * CHUNK * len(chunks)) * 1e9)
"""


def timed(checkout: Path, data_dir: Path) -> float:
    """``checkout``'s decode, nanoseconds a record."""
    python = checkout / ".venv" / "bin" / "python"
    if not (checkout / ".venv" / ".built-core").exists():  # not set up: this Python
        python = Path(sys.executable)
    done = subprocess.run([str(python), "-c", TIMED, str(data_dir)], check=True,
                          capture_output=True, cwd=checkout, text=True,
                          env={**os.environ, "PYTHONPATH": str(checkout)})
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, required=True, help="a data dir with a journal")
    parser.add_argument("--baseline", type=Path, help="another checkout to time alongside")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        mine = timed(ROOT, args.keep)
        line = f"round {round_}: this checkout {mine:.1f} ns a record"
        if args.baseline is not None:
            theirs = timed(args.baseline, args.keep)
            line += f", baseline {theirs:.1f} ({(mine / theirs - 1) * 100:+.1f} %)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
