"""What the full core's interface alone costs a command: the floor under ``bench/core_count.py``.

    .venv/bin/python bench/core_floor.py [--commands 20000]

``Engine.apply`` takes a Python command and returns a list of Python events; any core behind
that interface, in any language, reads the command's fields, finds its product and profile,
indexes the new order's id (hashing it once), builds the events and frees them. This builds
``bench/core_floor.pyx`` (Cython, with the core's own slot readers and emission points: the
fastest ways sandex has) in a temporary directory and counts, as ``core_count.py`` does
(cachegrind, two runs, the difference over N, ``PYTHONHASHSEED=0``), on the bench stream:

* ``engine``: the full core (``Engine.apply``);
* ``floor``: the boundary alone: fields, product and profile lookups, the id index
  (``setdefault`` on a place, ``pop`` on a cancel), ``Received`` + ``Opened`` a place and
  ``Done`` a cancel, the events' list; no book, accounts, holds, fees or checks;
* ``events``: only the call, the list and the events;
* ``loop``: only the harness's loop (``id`` as the applied function).

What the engine spends beyond ``floor`` is its book, accounts, holds, fees, checks and
order objects: the part a faster data model can cut.
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
MODES = ("engine", "floor", "events", "loop")


def _child(build: str, mode: str, path: str, n: int) -> None:
    sys.path[:0] = [str(ROOT), build]
    with open(path, "rb") as f:
        setup, commands = pickle.load(f)
    if mode == "engine":
        from sandex.core import Engine

        apply = Engine().apply
        for cmd in setup:
            apply(cmd)
    elif mode == "loop":
        apply = id
    else:
        from core_floor import Floor  # type: ignore[import-not-found]

        from sandex.core.commands import PlaceOrder

        places = [c for c in commands if type(c) is PlaceOrder]
        apply = Floor({c.product_id for c in places}, {c.profile_id for c in places},
                      mode == "events").apply
    for cmd in commands[:n]:
        apply(cmd)


def build(work: Path) -> None:
    """``core_floor.pyx`` compiled into ``work``, its cimports found under the checkout."""
    from Cython.Build import cythonize
    from setuptools import Distribution

    source = work / "core_floor.pyx"
    source.write_bytes((HERE.parent / "core_floor.pyx").read_bytes())
    modules = cythonize([str(source)], include_path=[str(ROOT)], language_level=3, quiet=True)
    for module in modules:
        module.extra_compile_args.append("-w")  # Cython's generated C: its warnings are noise
    dist = Distribution({"ext_modules": modules})
    command = dist.get_command_obj("build_ext")
    command.build_lib = str(work)
    command.build_temp = str(work / "tmp")
    dist.run_command("build_ext")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=20_000)
    n = parser.parse_args().commands
    sys.path.insert(0, str(HERE.parent))
    from core_count import _child as make_stream
    from core_count import instructions
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(work)
        stream = str(work / "stream.pickle")
        make_stream(str(ROOT), "make", stream, n)
        counts = {}
        for mode in MODES:
            run = [sys.executable, str(HERE), "--child", str(work), mode, stream]
            subprocess.run([*run, "1"], env=env, check=True)  # .pyc written before counting
            totals = [instructions([*run, str(k)], env) for k in (0, n)]
            counts[mode] = (totals[1] - totals[0]) / n
            print(f"{mode:7s} {counts[mode]:9,.0f} instructions/command", flush=True)
    print(f"beyond the floor (book, accounts, holds, fees, checks, orders): "
          f"{counts['engine'] - counts['floor']:,.0f} a command")


if __name__ == "__main__":
    main()
