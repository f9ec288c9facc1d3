"""Instructions an op of sandex's full core, its bare ``Book`` and each PyPI book, counted
by callgrind on ``run.py``'s stream: the comparison of ``make bench-books`` without the
clock.

    .venv/bin/python bench/books/count.py [--commands N] [--seed S] [--only PEER ...]
        [--misses]

``run.py`` times each book on this VM, whose speed moves by tens of per cent from one hour to
the next and between neighbouring processes; an instruction count repeats. Each book runs
exactly ``run.py``'s timed loop (``bench/engine.py``'s ``apply_all`` and ``place_all``,
``peers.py``'s ``loop`` of each book) in its own process under ``valgrind --tool=callgrind``
(no cache simulation), and the loop is called through ``sys.call_tracing``, which
``cgmarks.mark()`` puts between two callgrind dumps: that dump's total over the stream's ops
is the figure (the harness's loop included, as in the timed figures; the stream's making,
the setup and the read-back after are outside it). ``PYTHONHASHSEED=0``. Instructions are
not time: a C++ book's instructions may run at another rate than the interpreter's, so
the timed figures of ``run.py`` stay the measure and these say how far apart the work is.
``--misses`` simulates this VM's caches as well (D1 32 KB 8-way, the last level its 1 MiB
8-way L2: ``--D1=32768,8,64 --LL=1048576,8,64``) and prints each loop's data misses an op,
the part of a rate that instructions do not show.
The peers run in their own environment (``bench/books/.venv``, ``make bench-books``); a
book built for the machine's own CPU (limit-order-book compiles with ``-march=native``) may
use instructions valgrind cannot decode (AVX-512 on valgrind 3.19): its line says so, and
``--peers`` can name another environment with a build of it for an older CPU.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
BENCH = HERE.parent.parent
sys.path.insert(0, str(BENCH))

SANDEX = ("sandex full core (Engine.apply)", "sandex bare Book")


def _child(mode: str, path: str) -> None:
    """Under callgrind, in sandex's environment: ``run.py``'s loop of ``mode`` on the
    pickled stream."""
    from cgmarks import mark
    from engine import run_book, run_core

    with open(path, "rb") as f:
        stream = pickle.load(f)
    mark()
    if mode == "core":
        run_core(stream, frozen=False, check=False)
    else:
        run_book(stream)


CACHES = ["--cache-sim=yes", "--D1=32768,8,64", "--LL=1048576,8,64"]


def loop_events(command: list[str], env: dict[str, str], misses: bool) -> dict[str, int]:
    """Callgrind's totals (``Ir``; with ``misses`` also ``D1mr``, ``DLmr``, ...) of the one
    ``sys.call_tracing`` call ``command`` makes: its dump's."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(["valgrind", "--tool=callgrind",
                               *(CACHES if misses else ["--cache-sim=no"]),
                               f"--callgrind-out-file={out}/cg.out", *command], env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            undecoded = "unhandled instruction bytes" in done.stderr
            raise RuntimeError("valgrind cannot decode an instruction of its code (a build "
                               "for this CPU: -march=native)" if undecoded else
                               done.stderr[-2000:])
        totals = []
        for dump in Path(out).iterdir():
            text = dump.read_text(errors="replace")
            if re.search(r"^desc: Trigger: Client Request: sys\.call_tracing$", text, re.M):
                names = re.search(r"^events: (.+)$", text, re.M)
                found = re.search(r"^(?:totals|summary): ([\d ]+)$", text, re.M)
                assert names and found, dump
                totals.append(dict(zip(names.group(1).split(),
                                       map(int, found.group(1).split()), strict=True)))
        assert len(totals) == 1, f"{len(totals)} dumps of the timed loop"
        return totals[0]


def row(name: str, events: dict[str, int], ops: int) -> str:
    """One book's line: instructions an op, and its data misses an op when simulated."""
    line = f"{name:34s} {events['Ir'] / ops:9,.0f} instructions/op"
    if "D1mr" in events:
        d1 = (events["D1mr"] + events["D1mw"]) / ops
        l2 = (events["DLmr"] + events["DLmw"]) / ops
        line += f" | D1 misses {d1:6.1f}/op, L2 misses {l2:5.1f}/op"
    return line


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    from run import PEERS, peer_ops
    from streams import generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peers", type=Path, default=HERE.parent / ".venv" / "bin" / "python",
                        help="the Python of the peers' environment")
    parser.add_argument("--only", nargs="*", default=PEERS, help="peers to count")
    parser.add_argument("--misses", action="store_true",
                        help="simulate this VM's D1 and L2 too: data misses an op")
    args = parser.parse_args()
    stream = generate(args.commands, args.seed)
    ops = peer_ops(stream)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        stream_file, ops_file = f"{tmp}/stream.pickle", f"{tmp}/ops.pickle"
        with open(stream_file, "wb") as f:
            pickle.dump(stream, f)
        with open(ops_file, "wb") as f:
            pickle.dump((ops, stream.shadow_resting), f)
        for name, mode in zip(SANDEX, ("core", "book"), strict=True):
            events = loop_events([sys.executable, str(HERE), "--child", mode, stream_file], env,
                                 args.misses)
            rows.append((name, events["Ir"] / len(ops)))
            print(row(name, events, len(ops)), flush=True)
        for name in args.only:
            try:
                events = loop_events([str(args.peers), str(HERE.parent / "peers.py"), name,
                                      ops_file], env, args.misses)
            except RuntimeError as error:
                print(f"{name:34s} not counted: {error}", flush=True)
                continue
            rows.append((name, events["Ir"] / len(ops)))
            print(row(name, events, len(ops)), flush=True)
    core = rows[0][1]
    fewer = [name for name, per in rows[2:] if per > core]
    print(f"sandex's full core runs fewer instructions an op than {len(fewer)} of "
          f"{len(rows) - 2} peers' bare books: {', '.join(fewer) or 'none'}")


if __name__ == "__main__":
    main()
