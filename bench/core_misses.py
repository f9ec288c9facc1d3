"""Simulated cache misses a command of the engine bench's timed run, checkouts side by side.

    .venv/bin/python bench/core_misses.py [--commands 300000] [--LL 1048576,8,64]
        [--src DIR] [--baseline DIR ...] [--book] [--keep DIR] [--top 25]

The engine bench's stream (``streams.generate(N, seed=1)``, as ``bench/engine.py`` and
``bench/core_count.py``) is pickled once; each checkout then runs under ``valgrind
--tool=callgrind --cache-sim=yes`` (D1 32 KB 8-way, the last level ``--LL``: this VM's L2 is 1
MiB 8-way a core, ``/sys/devices/system/cpu/cpu0/cache``), applies the setup, collects the
garbage and applies the ``N`` commands by the bench's own timed loop (``bench/engine.py``'s
``run_core``: ``apply_all`` inside ``sys.call_tracing``), which ``bench/cgmarks.py`` brackets
with two callgrind dumps: the ``.2`` dump is the timed run alone, the whole stream (the state
grows over it: live orders, done orders, levels). ``--book``: the bench's "book alone" run
instead (``run_book``: ``Book.add``/``remove`` and the simple taker loop over the same flow,
its ``Order`` objects made before the dumps). Prints ``bench/misses.py``'s table by function
and by shared object (instructions, D1 read and write misses, last-level read and write misses
a command), the first checkout's top functions by last-level data misses, and the totals.
``PYTHONHASHSEED=0``. ``--keep`` keeps the dumps.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


def _child(src: str, mode: str, path: str) -> None:
    sys.path.insert(0, src)
    sys.path.insert(1, str(HERE.parent))
    if mode == "make":
        from streams import generate

        stream = generate(int(path.rpartition(":")[2]), seed=1)
        with open(path.rpartition(":")[0], "wb") as f:
            pickle.dump(stream, f)
        return
    import cgmarks
    from engine import run_book, run_core

    with open(path, "rb") as f:
        stream = pickle.load(f)
    cgmarks.mark(lambda: mode)  # the bench's own timed loop, through ``sys.call_tracing``
    if mode == "book":
        run_book(stream)
    else:
        run_core(stream, frozen=False, check=False)


def simulate(src: Path, mode: str, stream: str, ll: str, out: Path) -> Path:
    python = src / ".venv" / "bin" / "python"
    exe = str(python if python.exists() else sys.executable)
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(src)}
    env.pop("SANDEX_PURE_PYTHON", None)
    subprocess.run(["nice", "-n", "10", "valgrind", "--tool=callgrind", "--cache-sim=yes",
                    "--D1=32768,8,64", f"--LL={ll}", f"--callgrind-out-file={out}",
                    exe, str(HERE), "--child", str(src), mode, stream],
                   env=env, check=True, capture_output=True)
    return Path(f"{out}.2")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=300_000)
    parser.add_argument("--LL", default="1048576,8,64", help="the last level simulated")
    parser.add_argument("--src", type=Path, default=ROOT, help="the first checkout")
    parser.add_argument("--baseline", type=Path, nargs="*", default=[])
    parser.add_argument("--book", action="store_true", help="the bare book's run")
    parser.add_argument("--keep", type=Path, help="a folder to keep the dumps in")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="core-misses-"))
    folder.mkdir(parents=True, exist_ok=True)
    stream = folder / f"stream-{args.commands}.pickle"
    if not stream.exists():
        subprocess.run([sys.executable, str(HERE), "--child", str(ROOT), "make",
                        f"{stream}:{args.commands}"], check=True,
                       env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)})
    mode = "book" if args.book else "engine"
    dumps = []
    for i, src in enumerate([args.src, *args.baseline]):
        out = folder / f"cg-{mode}-{i}.out"
        dump = simulate(src.resolve(), mode, str(stream), args.LL, out)
        dumps.append(f"{src.resolve().name}={dump}")
    subprocess.run([sys.executable, str(HERE.parent / "misses.py"), "--requests",
                    str(args.commands), "--top", str(args.top), "--objects", *dumps], check=True)


if __name__ == "__main__":
    main()
