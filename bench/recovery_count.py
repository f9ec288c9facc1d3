"""Recovery in instructions: cachegrind of ``open_node`` on a journal with no snapshot.

    .venv/bin/python bench/recovery_count.py [--commands N] [--keep DIR] [--baseline DIR]

Builds (or reuses, ``--keep``) a data dir as ``bench/recovery.py`` does (the engine bench's
seeded stream, no snapshot), then counts, under ``valgrind --tool=cachegrind --cache-sim=no``
with ``PYTHONHASHSEED=0``, two runs of each checkout: ``open_node`` on the data dir (the whole
replay), and one that only imports the same modules and opens the journal without checking
any record. The difference over the journal's records is the instructions a record costs to
recover (stable on a shared machine, unlike the wall clock). ``--baseline DIR`` counts another
checkout (its ``.venv``) on the same data dir in the same run.

Both runs end as a process does: the interpreter's exit frees the node (its views, orders and
books: its graph holds cycles, so the exit's last collection frees it): ~560 a record of the
~10,550 on the bench's 20k journal (the imports' own teardown is in both runs: subtracted).
That is no part of the start-up ``bench/recovery.py`` times (a
server keeps its node; the timed ``open_node`` returns before it is freed), so the two runs
are counted again ending with ``os._exit`` (no teardown): the start-up's own instructions a
record, printed after the whole (``--whole-only``: not counted).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

FULL = """
import sys
from pathlib import Path
from sandex.node.storage import open_node
node = open_node(Path(sys.argv[1]))
print(node.position)
node.journal.close()
"""
EMPTY = """
import sys
from pathlib import Path
from sandex.journal import SqliteJournal
from sandex.node.storage import JOURNAL_FILE, open_node
journal = SqliteJournal(Path(sys.argv[1]) / JOURNAL_FILE, check_after=1 << 62)
print(journal.last_position)
journal.close()
"""
NO_EXIT = """
sys.stdout.flush()
import os
os._exit(0)
"""  # appended to either: the process ends here, nothing freed (the start-up alone)


def count(checkout: Path, script: str, data_dir: Path) -> int:
    """Instructions of ``script`` run by ``checkout``'s Python on ``data_dir``."""
    python = checkout / ".venv" / "bin" / "python"
    if not (checkout / ".venv" / ".built-core").exists():  # not set up: this Python
        python = Path(sys.executable)
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out.name}",
             str(python), "-c", script, str(data_dir)],
            check=True, capture_output=True, cwd=checkout,
            env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(checkout)})
        summary = re.search(rb"^summary: (\d+)", Path(out.name).read_bytes(), re.M)
        assert summary is not None, "no summary in cachegrind's output"
        return int(summary.group(1))


def per_record(checkout: Path, data_dir: Path, records: int, end: str = "") -> float:
    """``checkout``'s instructions a record; ``end``: appended to both scripts."""
    return (count(checkout, FULL + end, data_dir) - count(checkout, EMPTY + end, data_dir)
            ) / records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="data dir to keep (reused if it exists)")
    parser.add_argument("--baseline", type=Path, help="another checkout to count alongside")
    parser.add_argument("--whole-only", action="store_true",
                        help="count the whole process only (not again without the exit)")
    args = parser.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="sandex-recovery-count-"))
    if not (data_dir / "journal.sqlite3").exists():
        sys.path.insert(0, str(HERE.parent))
        from recovery import build

        build(data_dir, args.commands)
    from sandex.journal import SqliteJournal

    journal = SqliteJournal(data_dir / "journal.sqlite3", check_after=1 << 62)
    records = journal.last_position
    journal.close()
    this = per_record(ROOT, data_dir, records)
    print(f"journal: {records:,} records, no snapshot ({data_dir})")
    print(f"this checkout: {this:,.0f} instructions a record")
    if args.baseline is not None:
        base = per_record(args.baseline, data_dir, records)
        print(f"baseline {args.baseline}: {base:,.0f} instructions a record "
              f"({(this - base) / base:+.1%})")
    if args.whole_only:
        return
    start = per_record(ROOT, data_dir, records, NO_EXIT)
    print(f"this checkout, the start-up only (no exit's teardown): {start:,.0f} "
          f"instructions a record (the exit's {this - start:,.0f})")
    if args.baseline is not None:
        base_start = per_record(args.baseline, data_dir, records, NO_EXIT)
        print(f"baseline, the start-up only: {base_start:,.0f} instructions a record "
              f"({(start - base_start) / base_start:+.1%}; the exit's {base - base_start:,.0f})")


if __name__ == "__main__":
    main()
