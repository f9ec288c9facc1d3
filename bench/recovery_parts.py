"""Where a recovered record's instructions go: callgrind of ``open_node``, inclusive per part.

    .venv/bin/python bench/recovery_parts.py [--keep DIR] [--commands N] [--out FILE]

Runs ``open_node`` on a data dir with no snapshot (``bench/recovery_count.py``'s, built or
reused as there) under ``valgrind --tool=callgrind --separate-threads=yes`` with
``PYTHONHASHSEED=0``, and prints each part's instructions a record, inclusive (what it runs
and everything it calls), with the functions of one name merged across the files their
inlined code comes from (callgrind names ``engine.c:f`` and ``object.h:f`` apart): the
reader, the decode, the engine's apply, ``_feed`` and each view's handler, the freeing of
events and commands, the exit's teardown, and each thread's total. The start-up's imports
and the exit's teardown are in the totals (``bench/recovery_count.py`` subtracts the imports,
and counts again without the exit), not in the parts but the exit's line. The lists' line is
every list freed in the process: on the bench's 20k journal about half of it (~390 a record)
in the exit (the node's views, the modules), ~200 the imports', ~33 inside ``apply_run`` (the
sink's notes, their orders) and ~45 the replay's loop (a chunk's commands).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

PARTS = [  # (label, a regular expression matched against callgrind's function names)
    ("replay's run of a chunk (apply_run)", r"applying_\d+apply_run$"),
    ("  engine apply", r"engine_6Engine_apply$"),
    ("  engine _place (a replay's run calls it for a place)", r"engine_6Engine__place$"),
    ("  engine _cancel_order (and for a cancel)", r"engine_6Engine__cancel_order$"),
    ("  _noted (the orders view fed a sink's notes)", r"applying__noted$"),
    ("  _feed (the read models)", r"applying__feed$"),
    ("    fills on_trade", r"FillsView_on_trade$"),
    ("    orders on_received", r"OrdersView_on_received$"),
    ("    market on_trade", r"MarketView_on_trade$"),
    ("    ledger on_trade", r"LedgerView_on_trade$"),
    ("    orders on_cancel", r"OrdersView_on_cancel$"),
    ("    orders on_noted (a received order's note)", r"OrdersView_on_noted$"),
    ("    orders on_noted_cancel (a canceled order's note)", r"OrdersView_on_noted_cancel$"),
    ("decode (decode_lines)", r"applying_\d+decode_lines$"),
    ("reader on the replay's thread (Rows.lines)", r"rows_4Rows_\d+lines$"),
    ("reader's thread reading ahead (_read_ahead)", r"rows__read_ahead$"),
    ("  its scan of the lines (sx_scan_chunk)", r"^sx_scan_chunk$"),
    ("sqlite3_step (either thread)", r"^sqlite3_step$"),
    ("crc32 (either thread)", r"^zng_crc32$"),
    ("lists freed (all: the imports' and the exit's in)", r"^list_dealloc$"),
    ("structs freed by slots", r"^sandex_slot_dealloc$"),
    ("structs freed by msgspec", r"^Struct_dealloc_nogc$"),
    ("the exit's teardown (Py_FinalizeEx: not start-up)", r"^Py_FinalizeEx$"),
    ("  its last collection (the node's graph freed)", r"^_PyGC_CollectNoFail$"),
]


def inclusive(path: Path) -> tuple[dict[str, int], int]:
    """Each function's inclusive instructions (files merged), and the file's total."""
    names: dict[str, str] = {}
    own: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    current = callee = ""
    in_call = False
    total = 0

    def name(text: str) -> str:
        found = re.match(r"\((\d+)\)(?: (.*))?", text)
        assert found is not None
        if found.group(2) is not None:
            names[found.group(1)] = found.group(2)
        return names[found.group(1)]

    with path.open(errors="replace") as lines:
        for line in lines:
            if line.startswith("fn="):
                current, in_call = name(line[3:].strip()), False
            elif line.startswith("cfn="):
                callee = name(line[4:].strip())
            elif line.startswith("calls="):
                in_call = True
            elif line.startswith("summary:"):
                total = int(line.split()[1])
            elif line[:1].isdigit() or line[:1] in "+-*":
                fields = line.split()
                if len(fields) < 2:
                    continue
                if in_call:
                    if callee != current:
                        calls[current] += int(fields[1])
                    in_call = False
                else:
                    own[current] += int(fields[1])
    return {f: own[f] + calls[f] for f in set(own) | set(calls)}, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="data dir to keep (reused if it exists)")
    parser.add_argument("--out", type=Path, help="keep callgrind's files (FILE, FILE-01, ...)")
    args = parser.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="sandex-recovery-parts-"))
    sys.path.insert(0, str(HERE.parent))
    from recovery_count import FULL

    if not (data_dir / "journal.sqlite3").exists():
        from recovery import build

        build(data_dir, args.commands)
    from sandex.journal import SqliteJournal

    journal = SqliteJournal(data_dir / "journal.sqlite3", check_after=1 << 62)
    records = journal.last_position
    journal.close()
    out = args.out or Path(tempfile.mkdtemp(prefix="sandex-callgrind-")) / "callgrind.out"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                    f"--callgrind-out-file={out}", sys.executable, "-c", FULL, str(data_dir)],
                   check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)})
    files = sorted(out.parent.glob(out.name + "-*")) or [out]  # a file a thread
    merged: collections.Counter[str] = collections.Counter()
    print(f"journal: {records:,} records, no snapshot ({data_dir}); instructions a record")
    for number, file in enumerate(files, 1):
        found, total = inclusive(file)
        merged.update(found)
        print(f"thread {number} total (imports included): {total / records:10,.0f}")
    for label, pattern in PARTS:
        matching = [value for name, value in merged.items() if re.search(pattern, name)]
        if matching:
            print(f"{label:44} {max(matching) / records:10,.0f}")


if __name__ == "__main__":
    main()
